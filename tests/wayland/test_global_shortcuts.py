"""Global shortcuts on Wayland through the desktop portal's GlobalShortcuts, over the FAKE portal
(tests/portal_fake.py: the portal and the person's "yes" are fake; its bindings are real sway key bindings):
a real key combination pressed on a real headless sway, through a virtual keyboard, reaches PortalShortcuts'
callback and the app's command bar. A portal without GlobalShortcuts (xdg-desktop-portal-wlr) gives a clear
error that names the commands to bind instead.

Only the fake portal is tested here: GNOME's and KDE's portals need their desktops."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from desktop_agent.app.hotkeys import HotkeyError, hotkey_support, session_hotkeys
from desktop_agent.app.portal_shortcuts import PortalShortcuts, xdg_trigger
from desktop_agent.capture.headless_wayland import HeadlessSway
from desktop_agent.capture.virtual_display import VirtualDisplay
from desktop_agent.doctor import _hotkeys
from desktop_agent.execution.wayland_input import WlrootsDriver
from tests.sessions import running_portal, running_sway
from tests.wayland.conftest import OUTPUTS

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def wayland_session(xvfb: VirtualDisplay, qapp: Any) -> Iterator[HeadlessSway]:
    """Headless sway for the module, started after the X display and the QApplication: the app's windows in the
    controller test are on Xvfb (the app runs under XWayland on a Wayland desktop for now), its shortcuts and
    key presses on sway."""
    with running_sway(OUTPUTS) as sway:
        yield sway


@pytest.fixture(scope="module")
def portal_log(wayland_session: HeadlessSway, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    log = tmp_path_factory.mktemp("portal") / "portal.jsonl"
    with running_portal(wayland_session, log):
        yield log


def _events(log: Path, kind: str) -> list[dict[str, Any]]:
    return [e for e in map(json.loads, log.read_text(encoding="utf-8").splitlines()) if e["event"] == kind]


def _wait_for(log: Path, kind: str, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(_events(log, kind)) < count:
        assert time.monotonic() < deadline, f"no {kind} #{count} in the fake portal's log"
        time.sleep(0.05)


def test_the_xdg_trigger_format() -> None:
    assert xdg_trigger("ctrl+alt+space") == "CTRL+ALT+space"
    assert xdg_trigger("Ctrl+Alt+Esc") == "CTRL+ALT+Escape"
    assert xdg_trigger("super+shift+f5") == "LOGO+SHIFT+F5"


def test_a_portal_without_global_shortcuts_says_what_to_bind(wayland_session: HeadlessSway,
                                                              tmp_path: Path) -> None:
    with running_portal(wayland_session, tmp_path / "portal.jsonl", shortcuts=False):
        assert os.environ.get("WAYLAND_DISPLAY")
        with pytest.raises(HotkeyError) as caught:
            session_hotkeys()
        why = str(caught.value)
        assert "GlobalShortcuts" in why and "desktop-agent app --summon" in why and "--stop-run" in why, why
        how, missing = hotkey_support()
        assert how == "none" and "desktop-agent app --summon" in missing
        assert _hotkeys()["how"] == "none"  # doctor says so


def test_portal_shortcuts_call_back_when_the_keys_are_pressed_on_sway(portal_log: Path) -> None:
    keys = session_hotkeys()  # a Wayland session whose portal offers GlobalShortcuts
    assert isinstance(keys, PortalShortcuts)
    assert hotkey_support() == ("portal", "")
    assert _hotkeys()["how"] == "portal"  # doctor says so
    pressed: dict[str, threading.Event] = {"summon": threading.Event(), "stop-run": threading.Event()}
    bound = threading.Event()
    errors: list[str] = []
    keys.register("ctrl+alt+space", pressed["summon"].set, "summon", "Open the command bar")
    keys.register("ctrl+alt+escape", pressed["stop-run"].set, "stop-run", "Stop the run")
    keys.on_bound = lambda _triggers: bound.set()
    keys.on_error = errors.append
    driver = WlrootsDriver()
    keys.start()
    try:
        assert bound.wait(10), errors
        assert keys.bound == {"summon": "Ctrl+Mod1+space", "stop-run": "Ctrl+Mod1+Escape"}
        assert _events(portal_log, "shortcuts_prompt")[-1]["shortcuts"] == [
            ["summon", "Open the command bar", "CTRL+ALT+space"], ["stop-run", "Stop the run", "CTRL+ALT+Escape"]]
        driver.press(["ctrl", "alt", "space"])
        assert pressed["summon"].wait(5), _events(portal_log, "shortcut_activated")
        assert not pressed["stop-run"].is_set()
        driver.press(["ctrl", "alt", "escape"])
        assert pressed["stop-run"].wait(5)
        driver.press(["ctrl", "space"])  # not bound: nothing
        time.sleep(0.5)
        assert [e["id"] for e in _events(portal_log, "shortcut_activated")][-2:] == ["summon", "stop-run"]
    finally:
        keys.stop()
    try:
        _wait_for(portal_log, "shortcuts_closed", 1)
        activated = len(_events(portal_log, "shortcut_activated"))
        driver.press(["ctrl", "alt", "space"])  # the session is closed: the desktop no longer binds the key
        time.sleep(0.5)
        assert len(_events(portal_log, "shortcut_activated")) == activated
    finally:
        driver.close()
    assert not errors


def test_the_apps_summon_key_through_the_portal_shows_the_command_bar(portal_log: Path, qapp: Any, qtbot: Any,
                                                                      home: Path, tmp_path: Path) -> None:
    from desktop_agent.app.controller import AppController, follow_system_scheme
    from desktop_agent.app.settings import AppSettings
    from desktop_agent.capture.fake import FakeScreen
    from desktop_agent.execution.input_driver import RecordingDriver

    follow_system_scheme(qapp)
    closed = len(_events(portal_log, "shortcuts_closed"))
    settings = AppSettings(data_folder=str(home), auto_approve=[])
    app = AppController(settings, settings_path=str(tmp_path / "settings.ini"),
                        screen=FakeScreen.single(np.zeros((600, 800, 3), np.uint8)), driver=RecordingDriver(),
                        use_tray=False, hotkeys=True)
    driver = WlrootsDriver()
    try:
        assert isinstance(app.hotkeys, PortalShortcuts) and app.hotkey_error == ""
        assert app.fallback is not None
        qtbot.waitUntil(lambda: "hotkeys set by the desktop" in app.fallback.status.text(), timeout=10_000)
        assert "Ctrl+Mod1+space" in app.fallback.status.text()
        assert not app.command_bar.isVisible()
        driver.press(["ctrl", "alt", "space"])
        qtbot.waitUntil(app.command_bar.isVisible, timeout=5_000)
    finally:
        driver.close()
        app.shutdown()
    _wait_for(portal_log, "shortcuts_closed", closed + 1)  # quitting gives the keys back to the desktop
