"""A clicked check box's new state read back from the accessibility tree and recorded with the step: the
real Qt target app on its own display and AT-SPI bus, the real CLI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_agent.app.qt_timeline import step_words
from desktop_agent.capture.virtual_display import VirtualDisplay
from desktop_agent.perception.accessibility.atspi_bus import BUS_LAUNCHER, PrivateAtspiBus
from desktop_agent.runs.store import RunStore, StepRow
from tests.display import MONITORS, SCREEN, TargetApp
from tests.e2e_helpers import cli

pytestmark = [pytest.mark.display,
              pytest.mark.skipif(not os.path.exists(BUS_LAUNCHER) or not shutil.which("dbus-daemon"),
                                 reason="needs at-spi2-core and dbus-daemon (packaging/debian-packages.txt)")]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[TargetApp, dict[str, str]]]:
    display = VirtualDisplay.start(SCREEN.rsplit("x", 1)[0])
    bus = None
    target = None
    try:
        bus = PrivateAtspiBus.start(display.display)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "AT_SPI"))}
        env.update(bus.env(), DISPLAY=display.display, DESKTOP_AGENT_MONITORS=MONITORS,
                   QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1", QT_QPA_PLATFORM="xcb")
        target = TargetApp.start(tmp_path / "events.jsonl", env, main="1100,40", extra=("--password",))
        yield target, env
    finally:
        if target is not None:
            target.stop()
        if bus is not None:
            bus.stop()
        display.stop()


def _last_step(home: Path) -> StepRow:
    store = RunStore(home)
    try:
        return store.steps(store.list_runs(1)[0].id)[-1]
    finally:
        store.close()


def test_a_clicked_check_box_is_verified_by_its_state(app: tuple[TargetApp, dict[str, str]], tmp_path: Path) -> None:
    target, env = app
    home = tmp_path / "home"
    r = cli("run", 'click "Remember me"', "--approve", "auto", home=home, env_extra=env, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [e["value"] for e in target.events("checked")] == [True]
    step = _last_step(home)
    verify = step.verify or {}
    assert verify["tree"] == {"role": "check box", "name": "Remember me", "checked_before": False,
                              "checked_after": True}
    assert "is now checked" in str(verify["detail"])
    assert "found by the pixels and the app's accessibility tree" in step_words(step)  # the app's timeline
    # Pixels only: the same step is verified by the pixels alone, and says nothing of the tree.
    r = cli("run", 'click "Remember me"', "--approve", "auto", "--no-accessibility", home=home, env_extra=env,
            timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [e["value"] for e in target.events("checked")] == [True, False]
    step = _last_step(home)
    verify, where = step.verify or {}, step.target or {}
    assert "tree" not in verify and "role" not in where["element"] and "origin" not in where["element"]
