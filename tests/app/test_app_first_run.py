"""The first-run window: what it tells (hotkey, approval, where runs go), the planner it saves, and that
`desktop-agent app` shows it at the first start only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop_agent.capture.virtual_display import VirtualDisplay, stop_process
from tests.e2e_helpers import ROOT

WELCOME = "Welcome to desktop-agent"


def test_it_tells_the_hotkey_approval_and_data_folder_and_saves_the_planner(qtbot: Any, tmp_path: Path) -> None:
    from desktop_agent.app.qt_first_run import FirstRunWindow
    from desktop_agent.app.settings import AppSettings, load_settings

    ini = str(tmp_path / "s.ini")
    settings = AppSettings(summon_hotkey="ctrl+alt+space", stop_hotkey="ctrl+alt+escape")
    win = FirstRunWindow(settings, tmp_path / "runs", tray=True, settings_path=ini)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert "Press Ctrl+Alt+Space anywhere" in win.hotkey.text() and "Ctrl+Alt+Escape stops" in win.hotkey.text()
    assert "tray" in win.hotkey.text()
    assert "approve, edit, skip or reject" in win.approval.text() and "always asked" in win.approval.text()
    assert str(tmp_path / "runs") in win.data.text()
    assert win.choices["direct"].isChecked()  # the current planner
    qtbot.mouseClick(win.choices["llama"], Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(win.finished):
        qtbot.mouseClick(win.start, Qt.MouseButton.LeftButton)
    saved = load_settings(ini)
    assert saved.planner == "llama" and saved.first_run_done


def test_closing_it_counts_as_seen_and_changes_nothing_else(qtbot: Any, tmp_path: Path) -> None:
    from desktop_agent.app.qt_first_run import FirstRunWindow
    from desktop_agent.app.settings import AppSettings, load_settings

    ini = str(tmp_path / "s.ini")
    win = FirstRunWindow(AppSettings(planner="openai"), tmp_path, tray=False, settings_path=ini)
    qtbot.addWidget(win)
    win.show()
    assert "small window" in win.hotkey.text()  # no tray: where the menu is instead
    grabbed = FirstRunWindow(AppSettings(), tmp_path, tray=False, settings_path=ini,
                             hotkey_error="another program holds ctrl+alt+space")
    qtbot.addWidget(grabbed)
    assert "could not be set up (another program holds ctrl+alt+space)" in grabbed.hotkey.text()
    assert "Press " not in grabbed.hotkey.text()
    win.choices["anthropic"].setChecked(True)
    with qtbot.waitSignal(win.finished):
        win.close()
    saved = load_settings(ini)
    assert saved.first_run_done and saved.planner == "openai"


@pytest.mark.display
def test_open_settings_from_it_and_the_command_bar_names_the_new_planner(qtbot: Any, controller: Any) -> None:
    from desktop_agent.app.qt_settings import SettingsDialog
    from desktop_agent.app.settings import load_settings

    win = controller.show_first_run()
    qtbot.waitExposed(win)
    win.choices["openai"].setChecked(True)
    qtbot.mouseClick(win.open_settings, Qt.MouseButton.LeftButton)
    from PySide6.QtWidgets import QApplication

    qtbot.waitUntil(lambda: any(isinstance(w, SettingsDialog) and w.isVisible()
                                for w in QApplication.topLevelWidgets()))
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, SettingsDialog) and w.isVisible())
    assert dialog.planner.currentText() == "openai"
    assert "openai" in controller.command_bar.planner.text()
    assert load_settings(controller.settings_path).first_run_done
    dialog.reject()


def _titles(pid: int) -> list[str]:
    """Titles of the mapped top-level X windows of process `pid`."""
    from Xlib import X, display
    from Xlib import error as xerror

    d = display.Display()
    try:
        pid_atom, name_atom = d.intern_atom("_NET_WM_PID"), d.intern_atom("_NET_WM_NAME")
        out = []
        for w in d.screen().root.query_tree().children:
            try:
                prop = w.get_full_property(pid_atom, X.AnyPropertyType)
                if not prop or int(prop.value[0]) != pid or w.get_attributes().map_state != X.IsViewable:
                    continue
                name = w.get_full_property(name_atom, X.AnyPropertyType)
                out.append(name.value.decode() if name and isinstance(name.value, bytes) else str(w.get_wm_name()))
            except xerror.XError:
                continue
        return out
    finally:
        d.close()


def _close_window(pid: int, title: str) -> None:
    """What a window manager sends when the person closes the window."""
    from Xlib import X, display, protocol

    d = display.Display()
    try:
        pid_atom, name_atom = d.intern_atom("_NET_WM_PID"), d.intern_atom("_NET_WM_NAME")
        for w in d.screen().root.query_tree().children:
            prop = w.get_full_property(pid_atom, X.AnyPropertyType)
            name = w.get_full_property(name_atom, X.AnyPropertyType)
            if prop and int(prop.value[0]) == pid and name and name.value.decode() == title:
                protocols, delete = d.intern_atom("WM_PROTOCOLS"), d.intern_atom("WM_DELETE_WINDOW")
                w.send_event(protocol.event.ClientMessage(window=w, client_type=protocols,
                                                          data=(32, [delete, X.CurrentTime, 0, 0, 0])),
                             event_mask=X.NoEventMask)
                d.flush()
                return
        raise AssertionError(f"no window {title!r}")
    finally:
        d.close()


@pytest.mark.display
def test_the_app_shows_it_at_the_first_start_only(xvfb: VirtualDisplay, tmp_path: Path, home: Path) -> None:
    from desktop_agent.app.settings import load_settings

    ini = tmp_path / "app.ini"
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", DESKTOP_AGENT_HOME=str(home))

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "desktop_agent", "app", "--no-tray", "--no-hotkeys",
                                 "--settings", str(ini)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def wait_for(proc: subprocess.Popen[bytes], title: str) -> None:
        deadline = time.monotonic() + 60
        while title not in _titles(proc.pid):
            assert proc.poll() is None and time.monotonic() < deadline, _titles(proc.pid)
            time.sleep(0.2)

    first = start()
    try:
        wait_for(first, WELCOME)
        wait_for(first, "desktop-agent")  # the app itself is there too
        _close_window(first.pid, WELCOME)
        deadline = time.monotonic() + 10
        while not load_settings(str(ini)).first_run_done:
            assert time.monotonic() < deadline, "closing the window did not record it as seen"
            time.sleep(0.1)
        first.send_signal(signal.SIGTERM)
        first.wait(30)
        assert first.returncode == 0
    finally:
        stop_process(first)
    second = start()
    try:
        wait_for(second, "desktop-agent")
        time.sleep(1.5)
        assert WELCOME not in _titles(second.pid)
    finally:
        stop_process(second)
