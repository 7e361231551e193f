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


def test_typing_into_a_field_is_verified_by_its_content_and_a_password_is_never_read(
        app: tuple[TargetApp, dict[str, str]], tmp_path: Path) -> None:
    target, env = app
    home = tmp_path / "home"
    r = cli("run", 'type "Ada Lovelace" into "Name"', "--approve", "auto", home=home, env_extra=env, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [e["value"] for e in target.events("text")][-1:] == ["Ada Lovelace"], r.stdout + r.stderr
    step = _last_step(home)
    verify = step.verify or {}
    assert verify["tree"]["value_before"] == "" and verify["tree"]["value_after"] == "Ada Lovelace", verify
    assert "now holds 'Ada Lovelace'" in str(verify["detail"])
    assert step.outcome is not None and "now holds 'Ada Lovelace'" in step.outcome
    # The password field: typed, masked in the record, and its content never read from the tree.
    r = cli("run", 'type "hunter2-secret" into "Password"', "--approve", "auto", home=home, env_extra=env,
            timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    step = _last_step(home)
    assert "tree" not in (step.verify or {}) or "value_after" not in (step.verify or {}).get("tree", {})
    db = b"".join(p.read_bytes() for p in home.rglob("runs.sqlite3*"))
    assert b"hunter2-secret" not in db
    # The reader in this process, on the test's bus: no node carries the password.
    from desktop_agent.perception.accessibility.atspi import AtspiSource
    from desktop_agent.perception.accessibility.atspi_bus import accessibility_bus_address

    address = accessibility_bus_address({"DBUS_SESSION_BUS_ADDRESS": env["DBUS_SESSION_BUS_ADDRESS"]}, timeout=5.0)
    source = AtspiSource(address)
    try:
        snap = source.read(budget_s=5.0)
    finally:
        source.close()
    fields = {n.role: n for n in snap.nodes if n.role in ("text", "entry", "password text")}
    assert "password text" in fields and fields["password text"].value is None
    assert all("hunter2" not in (n.value or "") for n in snap.nodes)
    assert any(n.value == "Ada Lovelace" for n in snap.nodes)
