"""The AT-SPI reader on real applications: a GTK 3 calculator (galculator), a Qt 5 editor (featherpad) and
the Qt 6 target app, on a display of this module's own with a private session bus and AT-SPI bus (the
launcher marks the X root window with its bus, so the shared test display is left alone)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from desktop_agent.capture.virtual_display import VirtualDisplay, stop_process
from desktop_agent.geometry import parse_monitor_spec
from desktop_agent.perception.accessibility import A11ySnapshot
from desktop_agent.perception.accessibility.atspi import AtspiSource
from desktop_agent.perception.accessibility.atspi_bus import (
    BUS_LAUNCHER,
    PrivateAtspiBus,
    accessibility_enabled,
    set_accessibility_enabled,
)
from desktop_agent.perception.accessibility.setup_check import check_setup
from tests.display import MONITORS, SCREEN, TargetApp

pytestmark = [
    pytest.mark.display,
    pytest.mark.skipif(not (shutil.which("galculator") and shutil.which("featherpad") and os.path.exists(BUS_LAUNCHER)),
                       reason="needs galculator, featherpad and at-spi2-core (scripts/setup.sh --suite)"),
]


@dataclass
class Desktop:
    display: VirtualDisplay
    bus: PrivateAtspiBus
    env: dict[str, str]
    address: str
    galculator: subprocess.Popen[bytes]
    featherpad: subprocess.Popen[bytes]
    target: TargetApp


def _wait_for(source: AtspiSource, apps: set[str], timeout: float = 20.0) -> A11ySnapshot:
    deadline = time.monotonic() + timeout
    while True:
        snap = source.read(budget_s=2.0)
        if apps <= {w.app for w in snap.windows} or time.monotonic() > deadline:
            return snap
        time.sleep(0.2)


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    display = VirtualDisplay.start(SCREEN.rsplit("x", 1)[0])
    started: list[subprocess.Popen[bytes]] = []
    bus = None
    target = None
    try:
        bus = PrivateAtspiBus.start(display.display)
        home = tmp_path_factory.mktemp("a11y-home")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DBUS_", "QT_QPA", "AT_SPI"))}
        env.pop("NO_AT_BRIDGE", None)
        env.update(bus.env(), HOME=str(home), LANG="C.UTF-8", GSETTINGS_BACKEND="memory",
                   QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1", QT_QPA_PLATFORM="xcb")
        for cmd in (["openbox", "--sm-disable"], ["galculator"], ["featherpad", "--standalone"]):
            started.append(subprocess.Popen(cmd, env=env, cwd=home, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))
        target = TargetApp.start(home / "events.jsonl", env, main="1100,60", second="100,120", extra=("--password",))
        address = bus.address()
        assert address is not None
        yield Desktop(display, bus, env, address, started[1], started[2], target)
    finally:
        if target is not None:
            target.stop()
        for proc in reversed(started):
            stop_process(proc)
        if bus is not None:
            bus.stop()
        display.stop()


@pytest.fixture
def source(desktop: Desktop) -> Iterator[AtspiSource]:
    src = AtspiSource(bus_address=desktop.address)
    _wait_for(src, {"galculator", "FeatherPad", "target_app.py"})
    yield src
    src.close()


def _app(snap: A11ySnapshot, name: str) -> list:  # type: ignore[type-arg]
    return [n for n in snap.nodes if n.app == name]


def test_gtk_calculator_tree_has_its_buttons_and_menus(source: AtspiSource) -> None:
    snap = source.read(budget_s=3.0)
    assert snap.complete, snap.stats
    calc = _app(snap, "galculator")
    frame = next(n for n in calc if n.parent is None)
    assert frame.role == "frame" and frame.box is not None and frame.states.enabled
    equals = [n for n in calc if n.name == "="]
    assert len(equals) == 1 and equals[0].role in ("push button", "toggle button")
    assert {"File", "Edit", "View"} <= {n.name for n in calc if n.role == "menu"}
    for n in calc:  # every box on screen lies inside the window (its extents include the title bar)
        if n.box is not None:
            assert n.box.intersection(frame.box) == n.box, n
    menu_bar = next(n for n in calc if n.role == "menu bar")
    assert all(n.parent == menu_bar.id for n in calc if n.role == "menu")
    # Hidden menu items are not walked: only what is showing comes back.
    assert not [n for n in calc if n.role == "menu item"]


def test_qt_target_app_boxes_match_the_widgets_and_the_password_field_is_secret(source: AtspiSource,
                                                                                desktop: Desktop) -> None:
    snap = source.read(budget_s=3.0)
    app = _app(snap, "target_app.py")
    by_name = {n.name: n for n in app if n.name}
    for name in ("Save", "Open Report", "Delete"):
        node = by_name[name]
        assert node.role == "push button" and node.states.enabled
        assert node.box is not None and node.box.as_list() == desktop.target.widgets[name]
    password = [n for n in app if n.role == "password text"]
    assert len(password) == 1 and password[0].states.secret and password[0].states.editable
    assert password[0].box is not None and password[0].box.as_list() == desktop.target.widgets["password"]
    assert by_name["Remember me"].role == "check box" and not by_name["Remember me"].states.checked
    assert by_name["File"].role == "menu item"
    assert {"Target", "Second"} <= {w.title for w in snap.windows}
    # Only the windows on the captured monitors: the second window is on the left monitor.
    primary = parse_monitor_spec(MONITORS.split(",")[0])
    titles = {w.title for w in source.read(budget_s=3.0, within=primary).windows}
    assert "Target" in titles and "Second" not in titles


def test_qt5_editor_is_read_and_survives_being_read(source: AtspiSource, desktop: Desktop) -> None:
    for _ in range(3):
        snap = source.read(budget_s=3.0)
    pad = _app(snap, "FeatherPad")
    assert {"File", "Edit", "Options"} <= {n.name for n in pad if n.role == "menu item"}
    assert any(n.role == "text" and n.states.editable for n in pad)
    assert desktop.featherpad.poll() is None  # Qt 5 crashes on Properties.GetAll: the reader never sends it


def test_reading_keeps_to_its_budget_when_an_app_hangs(source: AtspiSource, desktop: Desktop) -> None:
    full = source.read(budget_s=3.0)
    assert full.complete and full.elapsed_ms < 3000
    t0 = time.monotonic()
    quick = source.read(budget_s=0.15)
    assert time.monotonic() - t0 < 0.15 + 0.1  # the budget plus a little bookkeeping
    assert quick.elapsed_ms < 250
    desktop.galculator.send_signal(signal.SIGSTOP)  # a hung application: it never answers
    try:
        t0 = time.monotonic()
        snap = source.read(budget_s=0.5)
        took = time.monotonic() - t0
    finally:
        desktop.galculator.send_signal(signal.SIGCONT)
    assert took < 0.5 + 0.1
    assert not snap.complete and "galculator" in snap.unanswered
    assert "Save" in {n.name for n in _app(snap, "target_app.py")}  # the others are still read
    # Late answers from the hung app do not confuse the next read.
    after = _wait_for(source, {"galculator"})
    assert len(_app(after, "galculator")) == len(_app(full, "galculator"))


def test_setup_check_reports_the_bus_and_the_apps(desktop: Desktop) -> None:
    checks = check_setup(desktop.env, timeout=3.0)
    assert checks[0].ok and "AT-SPI bus" in checks[0].what, [c.line() for c in checks]
    assert any(c.ok and "galculator" in c.what and "FeatherPad" in c.what for c in checks)
    # The bus is on the X root window here, where Qt 5 turns accessibility on by itself (IsEnabled is off).
    assert accessibility_enabled(desktop.env) is False
    no_bus = check_setup({"DISPLAY": desktop.env["DISPLAY"] + "9", "PATH": os.environ.get("PATH", "")})
    assert not no_bus[-1].ok and "at-spi" in no_bus[-1].fix


def test_switching_accessibility_on_and_off_as_a_screen_reader_does() -> None:
    display = VirtualDisplay.start("640x480")
    bus = PrivateAtspiBus.start(display.display, publish_on_display=False)
    try:
        assert accessibility_enabled(bus.env()) is False
        set_accessibility_enabled(True, bus.env())
        assert accessibility_enabled(bus.env()) is True
        set_accessibility_enabled(False, bus.env())
        assert accessibility_enabled(bus.env()) is False
    finally:
        bus.stop()
        display.stop()
