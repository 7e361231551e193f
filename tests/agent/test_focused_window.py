"""A control in the window that has the focus is what a person means before a same-named one in a window
behind it: a modal dialog's "Save" over its main window's "Save" button. On a real X display with a real
window manager (openbox, which says which window is active), the real Qt target app and the real CLI; the
assertions are on what the app received."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_agent.capture.virtual_display import VirtualDisplay, stop_process
from desktop_agent.geometry import DesktopPoint, DesktopRect
from desktop_agent.perception.accessibility.visibility import ScreenWindow
from desktop_agent.perception.accessibility.x_windows import active_window, stacked_windows
from tests.display import TargetApp
from tests.e2e_helpers import cli

pytestmark = [pytest.mark.display,
              pytest.mark.skipif(not (shutil.which("openbox") and shutil.which("Xvfb")),
                                 reason="needs Xvfb and the task suite's openbox (./scripts/setup.sh --suite)")]


def test_an_open_menu_over_the_focused_window_is_where_the_input_goes() -> None:
    main = ScreenWindow(DesktopRect(40, 40, 1040, 760), pid=5, active=True)
    other = ScreenWindow(DesktopRect(600, 100, 1200, 700), pid=6)
    menu = ScreenWindow(DesktopRect(107, 85, 331, 437), pid=None, popup=True)
    tip = ScreenWindow(DesktopRect(300, 300, 360, 320), pid=None, popup=True, tooltip=True)
    far = ScreenWindow(DesktopRect(1500, 0, 1600, 50), pid=None, popup=True)  # a popup away from it
    assert active_window([other, main]) == main.box
    assert active_window([other, main, menu, tip]) == menu.box  # a tooltip over it takes no input
    assert active_window([other, main, far]) == main.box
    assert active_window([menu, other, main]) == main.box  # a popup below the focused window is not open over it
    assert active_window([other]) is None and active_window(None) is None


def _centre(rect: list[int]) -> DesktopPoint:
    return DesktopPoint((rect[0] + rect[2]) // 2, (rect[1] + rect[3]) // 2)


@pytest.fixture
def dialog_app(tmp_path: Path) -> Iterator[tuple[TargetApp, dict[str, str]]]:
    """The target app under openbox on a display of its own, its modal dialog open beside its Save button."""
    display = VirtualDisplay.start("1280x800")
    env = dict(os.environ, DISPLAY=display.display, QT_QPA_PLATFORM="xcb", DESKTOP_AGENT_MONITORS="1280x800+0+0*")
    wm = subprocess.Popen(["openbox", "--sm-disable"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = None
    try:
        time.sleep(0.5)
        app = TargetApp.start(tmp_path / "events.jsonl", env, main="20,20", extra=("--dialog", "700,520"))
        yield app, env
    finally:
        if app is not None:
            app.stop()
        stop_process(wm)
        display.stop()


def test_the_focused_dialogs_save_is_clicked_not_the_main_windows(dialog_app: tuple[TargetApp, dict[str, str]],
                                                                   home: Path) -> None:
    app, env = dialog_app
    dialog_save, main_save = app.widgets["dialog:Save"], app.widgets["Save"]
    deadline = time.monotonic() + 10
    focus = None
    while time.monotonic() < deadline:  # the window manager gives the new dialog the focus
        focus = active_window(stacked_windows(env["DISPLAY"]))
        if focus is not None and focus.contains(_centre(dialog_save)):
            break
        time.sleep(0.2)
    assert focus is not None and focus.contains(_centre(dialog_save)), f"the dialog never had the focus: {focus}"
    assert not focus.contains(_centre(main_save))  # both buttons show: the main window's is not covered

    r = cli("run", 'click "Save"', "--approve", "auto", home=home, env_extra=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert {"event": "dialog_clicked", "widget": "Save"} in app.events()
    assert app.events("clicked") == []  # the main window's Save was not clicked (nor anything else)
