"""The app's windows on their own: command bar, timeline from a recorded run, the no-tray window, settings
and keys, and the screenshot command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import pytest
from PySide6.QtCore import Qt

from desktop_agent.app.hotkeys import HotkeyError, parse_hotkey
from desktop_agent.runs.store import RunStore
from tests.display import TargetApp
from tests.e2e_helpers import ROOT, cli


def test_command_bar_submits_and_walks_its_history(qtbot: Any) -> None:
    from desktop_agent.app.qt_command_bar import CommandBar

    bar = CommandBar(["click \"File\"", "press ctrl+s"])
    qtbot.addWidget(bar)
    bar.set_planner("direct (runs scripts, no model)")
    bar.summon()
    qtbot.waitExposed(bar)
    assert bar.testAttribute(Qt.WidgetAttribute.WA_WState_Visible)
    flags = bar.windowFlags()
    assert flags & Qt.WindowType.WindowStaysOnTopHint and flags & Qt.WindowType.FramelessWindowHint
    assert "direct" in bar.planner.text()
    qtbot.keyClicks(bar.edit, "scroll down 3")
    qtbot.keyClick(bar.edit, Qt.Key.Key_Up)
    assert bar.edit.text() == "press ctrl+s"
    qtbot.keyClick(bar.edit, Qt.Key.Key_Up)
    assert bar.edit.text() == 'click "File"'
    qtbot.keyClick(bar.edit, Qt.Key.Key_Up)  # stays at the oldest
    assert bar.edit.text() == 'click "File"'
    qtbot.keyClick(bar.edit, Qt.Key.Key_Down)
    qtbot.keyClick(bar.edit, Qt.Key.Key_Down)
    assert bar.edit.text() == "scroll down 3"  # back to the draft
    with qtbot.waitSignal(bar.submitted) as got:
        qtbot.keyClick(bar.edit, Qt.Key.Key_Return)
    assert got.args == ["scroll down 3"]
    assert bar.history[-1] == "scroll down 3" and not bar.isVisible()
    bar.summon()
    qtbot.keyClick(bar.edit, Qt.Key.Key_Escape)
    assert not bar.isVisible()


@pytest.mark.display
def test_timeline_renders_a_recorded_run_and_exports_it(qtbot: Any, target_app: TargetApp, home: Path,
                                                         tmp_path: Path) -> None:
    r = cli("run", 'click "Save"; type "Zürich" into "Name"; click "Drag me"', "--approve", "auto", home=home)
    assert r.returncode == 5, r.stdout + r.stderr  # the last step has no visible effect
    from desktop_agent.app.qt_timeline import TimelineWindow

    win = TimelineWindow(home)
    qtbot.addWidget(win)
    win.show()
    run = RunStore(home).list_runs()[0]
    assert win.runs.count() == 1 and win.runs.itemData(0) == run.id
    win.show_run(run.id)
    cards = win.step_cards()
    assert [c.step.status for c in cards] == ["verified", "verified", "failed"]
    assert 'Click "Save" at (' in cards[0].title.text() and "on monitor 1" in cards[0].title.text()
    assert not cards[0].crop.pixmap().isNull() and not cards[0].after.pixmap().isNull()
    assert "Zürich" in cards[1].title.text()
    assert "failed" in win.header.text()
    out = win.export(str(tmp_path / "run.html"))
    assert out is not None and "data:image/png;base64," in out.read_text(encoding="utf-8")
    win.store.close()


@pytest.mark.display
def test_without_a_tray_a_small_window_offers_the_same_actions(qtbot: Any, qapp: Any, home: Path,
                                                               tmp_path: Path) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    from desktop_agent.app.controller import AppController
    from desktop_agent.app.settings import AppSettings

    assert not QSystemTrayIcon.isSystemTrayAvailable()  # a bare Xvfb display has no tray host
    c = AppController(AppSettings(data_folder=str(home)), settings_path=str(tmp_path / "s.ini"), hotkeys=False)
    try:
        assert c.tray is None and c.fallback is not None and c.fallback.isVisible()
        assert list(c.fallback.buttons) == ["new", "timeline", "pause", "stop", "settings", "quit"]
        assert not c.fallback.buttons["stop"].isEnabled()  # nothing to stop yet
        qtbot.mouseClick(c.fallback.buttons["new"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(c.command_bar.isVisible)
        qtbot.mouseClick(c.fallback.buttons["timeline"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(c.timeline.isVisible)
        # The app's own windows are excluded from the agent's view.
        qtbot.waitUntil(lambda: len(c.regions.get()) >= 3)
        g = c.fallback.frameGeometry()
        from desktop_agent.geometry import DesktopPoint

        assert c.regions.contains(DesktopPoint(g.center().x(), g.center().y()))
    finally:
        c.shutdown()


def test_settings_persist_and_keys_never_land_in_the_settings_file(qtbot: Any, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_agent.app.qt_settings import SettingsDialog
    from desktop_agent.app.settings import AppSettings, load_settings, save_settings

    # This machine has no Secret Service: the keyring refuses, and says so; nothing is written in clear.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    path = str(tmp_path / "settings.ini")
    dlg = SettingsDialog(AppSettings())
    qtbot.addWidget(dlg)
    dlg.planner.setCurrentText("openai")
    assert dlg.api_key.isEnabled() and not dlg.mmproj.isEnabled()
    dlg.model.setText("gpt-4o-mini")
    dlg.base_url.setText("http://127.0.0.1:11434/v1")
    dlg.auto["scroll"].setChecked(True)
    dlg.app_name.setText("gedit")
    dlg.autostart.setChecked(True)
    dlg.api_key.setText("sk-secret-123")
    dlg.save_key()
    assert "could not store the key" in dlg.key_state.text() and dlg.api_key.text() == ""
    save_settings(dlg.result_settings(), path)
    loaded = load_settings(path)
    assert (loaded.planner, loaded.model, loaded.base_url) == ("openai", "gpt-4o-mini", "http://127.0.0.1:11434/v1")
    assert "scroll" in loaded.auto_approve and loaded.auto_approve_app == "gedit"
    assert loaded.approval_policy().auto == frozenset(loaded.auto_approve)
    assert "sk-secret" not in Path(path).read_text()
    entry = (tmp_path / "config" / "autostart" / "desktop-agent.desktop").read_text()
    assert "Exec=" in entry and " app" in entry


def test_hotkey_specs() -> None:
    assert parse_hotkey("Ctrl+Alt+Space") == (["ControlMask", "Mod1Mask"], "space")
    assert parse_hotkey("ctrl+alt+esc") == (["ControlMask", "Mod1Mask"], "Escape")
    assert parse_hotkey("super+F12") == (["Mod4Mask"], "F12")
    with pytest.raises(HotkeyError, match="unknown modifier"):
        parse_hotkey("hyper+x")


def test_screenshot_command_saves_every_window_light_and_dark(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    r = subprocess.run([sys.executable, "-m", "desktop_agent", "app", "--screenshots", str(tmp_path)], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    windows = ("approval", "command-bar", "command-bar-busy", "first-run", "no-tray-window", "notifications",
               "settings", "timeline", "timeline-busy")
    assert names == sorted(f"{w}-{s}.png" for w in windows for s in ("dark", "light"))
    for w in windows:
        light, dark = (cv2.imread(str(tmp_path / f"{w}-{s}.png")) for s in ("light", "dark"))
        assert light.shape[0] > 40 and light.shape[1] > 300
        assert dark.mean() < light.mean() - 40, w  # the dark scheme really is dark


@pytest.mark.display
def test_with_a_tray_the_tray_menu_holds_the_actions(qtbot: Any, qapp: Any, xvfb: Any, home: Path,
                                                      tmp_path: Path) -> None:
    """A real tray host (trayer) on the display: the app puts its icon there instead of the window."""
    from PySide6.QtWidgets import QSystemTrayIcon

    from desktop_agent.app.controller import AppController
    from desktop_agent.app.settings import AppSettings
    from desktop_agent.capture.virtual_display import stop_process

    host = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width",
                             "120", "--height", "24"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        qtbot.waitUntil(QSystemTrayIcon.isSystemTrayAvailable, timeout=10_000)
        c = AppController(AppSettings(data_folder=str(home)), settings_path=str(tmp_path / "s.ini"), hotkeys=False)
        try:
            assert c.fallback is None and c.tray is not None and c.tray.isVisible()
            menu = c.tray.contextMenu()
            assert [a.text() for a in menu.actions()] == ["New task", "Timeline", "Pause", "Stop", "Settings",
                                                          "Quit"]
            menu.actions()[0].trigger()
            qtbot.waitUntil(c.command_bar.isVisible)
        finally:
            c.shutdown()
    finally:
        stop_process(host)


def test_the_app_detects_its_display_session_once(qapp: Any, home: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up reads the session once (on Wayland each reading asks the compositor or the desktop portal):
    `app` passes what its display check found to the controller, which makes its screen and driver from it."""
    from desktop_agent.app import controller as controller_module
    from desktop_agent.app.controller import AppController
    from desktop_agent.app.settings import AppSettings
    from desktop_agent.capture import session as session_module

    real = session_module.detect_session
    calls: list[str] = []

    def counted(environ: Any = None) -> Any:
        calls.append("detect")
        return real(environ)

    monkeypatch.setattr(session_module, "detect_session", counted)
    monkeypatch.setattr(controller_module, "detect_session", counted)
    session = session_module.check_display()  # what `desktop-agent app` does first
    c = AppController(AppSettings(data_folder=str(home)), settings_path=str(tmp_path / "s.ini"), use_tray=False,
                      hotkeys=False, session=session)
    try:
        assert calls == ["detect"] and session.backend == "x11"
        assert c.screen.layout().primary.width > 0  # a working screen, made from that session
    finally:
        c.shutdown()
    alone = AppController(AppSettings(data_folder=str(home)), settings_path=str(tmp_path / "s2.ini"), use_tray=False,
                          hotkeys=False)
    try:
        assert calls == ["detect", "detect"]  # without one, the controller reads it once itself
    finally:
        alone.shutdown()
