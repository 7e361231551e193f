"""A masked field whose label says nothing secret is still a secret field when the platform's
accessibility tree says so (role "password text"): real Qt target app, real AT-SPI bus, real CLI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_agent.capture.virtual_display import VirtualDisplay
from desktop_agent.perception.accessibility.atspi_bus import BUS_LAUNCHER, PrivateAtspiBus
from tests.display import MONITORS, SCREEN, TargetApp
from tests.e2e_helpers import cli

pytestmark = [pytest.mark.display,
              pytest.mark.skipif(not os.path.exists(BUS_LAUNCHER) or not shutil.which("dbus-daemon"),
                                 reason="needs at-spi2-core and dbus-daemon (packaging/debian-packages.txt)")]


@pytest.fixture
def code_app(tmp_path: Path) -> Iterator[tuple[TargetApp, dict[str, str]]]:
    display = VirtualDisplay.start(SCREEN.rsplit("x", 1)[0])
    bus = None
    app = None
    try:
        bus = PrivateAtspiBus.start(display.display)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "AT_SPI"))}
        env.update(bus.env(), DISPLAY=display.display, DESKTOP_AGENT_MONITORS=MONITORS,
                   QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1", QT_QPA_PLATFORM="xcb")
        app = TargetApp.start(tmp_path / "events.jsonl", env, main="1100,40", extra=("--code",))
        yield app, env
    finally:
        if app is not None:
            app.stop()
        if bus is not None:
            bus.stop()
        display.stop()


def test_the_platform_role_puts_a_neutral_masked_field_under_the_floor(code_app: tuple[TargetApp, dict[str, str]],
                                                                      tmp_path: Path) -> None:
    app, env = code_app
    # Without the tree, nothing on screen says the empty "Code" field is secret: the text is recorded.
    r = cli("run", 'type "5432" into "Code"', "--approve", "auto", "--no-accessibility", home=tmp_path / "plain",
            env_extra=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "needs explicit approval" not in r.stdout and "Type '5432'" in r.stdout
    r = cli("run", "press ctrl+a; press backspace", "--approve", "auto", home=tmp_path / "plain", env_extra=env)
    assert r.returncode == 0 and [e["value"] for e in app.events("text")][-1] == ""  # no dots left to read

    home = tmp_path / "home"
    r = cli("run", 'type "9876" into "Code"', "--approve", "auto", home=home, env_extra=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [e["value"] for e in app.events("text")][-1] == "9876"
    assert "needs explicit approval: typing into a password field" in r.stdout
    assert "9876" not in r.stdout + r.stderr
    for f in home.rglob("*"):
        assert not (f.is_file() and b"9876" in f.read_bytes()), f
