"""The pointer steps off a tooltip it raised: where to rest (pure), and on a real X display with a real GTK app
(galculator, as in the task suite), its real tooltip gone after the clearer moved the pointer."""

from __future__ import annotations

import shutil
import subprocess
import time

import mss
import numpy as np
import pytest

from desktop_agent.evaluation.task_env import TaskEnvironment
from desktop_agent.evaluation.task_suite import TaskSpec
from desktop_agent.execution.input_driver import RecordingDriver
from desktop_agent.execution.tooltips import CORNER_MARGIN, TooltipClearer, rest_point
from desktop_agent.geometry import DesktopPoint, DesktopRect
from desktop_agent.grounding.locate import locate_target
from desktop_agent.perception.accessibility.visibility import ScreenWindow

SCREEN = [DesktopRect(0, 0, 1920, 1080)]


def test_rest_point_is_just_outside_the_window_nearest_the_pointer() -> None:
    win = ScreenWindow(DesktopRect(100, 100, 500, 400), pid=1)
    # Nearest edge to (480, 200) is the right one: the point lands 2 px right of it.
    assert rest_point(DesktopPoint(480, 200), [win], SCREEN) == DesktopPoint(502, 200)
    assert rest_point(DesktopPoint(300, 110), [win], SCREEN) == DesktopPoint(300, 97)


def test_rest_point_avoids_other_windows_and_screen_corners() -> None:
    win = ScreenWindow(DesktopRect(0, 0, 400, 300), pid=1)
    other = ScreenWindow(DesktopRect(400, 0, 900, 1080), pid=2)
    # Above and left are off screen, right is covered by another window: below it is.
    assert rest_point(DesktopPoint(390, 20), [win, other], SCREEN) == DesktopPoint(390, 302)
    # Below the window but within the corner margin of the screen's bottom-left corner: not there.
    tall = ScreenWindow(DesktopRect(0, 0, 400, 1080 - CORNER_MARGIN + 2), pid=1)
    spot = rest_point(DesktopPoint(3, 500), [tall, other], SCREEN)
    assert spot == DesktopPoint(3, 1)  # nothing free nearby: the window's own top edge


def test_rest_point_none_over_no_window_and_popups_do_not_count() -> None:
    menu = ScreenWindow(DesktopRect(100, 100, 300, 300), pid=1, popup=True)
    assert rest_point(DesktopPoint(150, 150), [menu], SCREEN) is None


def test_no_display_means_nothing_to_clear() -> None:
    clearer = TooltipClearer(RecordingDriver(), display=":9999")
    assert clearer.shown() == [] and clearer(DesktopPoint(10, 10)) is False


class _XdotoolDriver(RecordingDriver):
    """Real pointer moves on another X display (pyautogui is bound to the tests' own display)."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__()
        self.env = env

    def move(self, p: DesktopPoint) -> None:
        super().move(p)
        subprocess.run(["xdotool", "mousemove", str(p.x), str(p.y)], env=self.env, check=True, timeout=10)

    def pointer(self) -> tuple[int, int]:
        out = subprocess.run(["xdotool", "getmouselocation", "--shell"], env=self.env, capture_output=True,
                             text=True, check=True, timeout=10).stdout
        kv = dict(line.split("=", 1) for line in out.split())
        return int(kv["X"]), int(kv["Y"])


def _wait(cond, timeout: float = 8.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not (shutil.which("galculator") and shutil.which("openbox") and shutil.which("xdotool")),
                    reason="needs the task suite's galculator, openbox and xdotool (./scripts/setup.sh --suite)")
def test_galculators_tooltip_goes_when_the_pointer_steps_aside(parser) -> None:  # type: ignore[no-untyped-def]
    """As in the task suite: galculator under openbox; the pointer left on its "1" key raises the key's
    tooltip over the "0" key; the clearer moves the pointer off the window and the tooltip goes."""
    task = TaskSpec.model_validate({
        "name": "tooltip-probe", "goal": "g", "script": 'click "1"',
        "apps": [{"cmd": ["galculator"], "window": "galculator", "geometry": [100, 100, 340, 380]}],
        "check": [{"kind": "clipboard", "equals": "x"}]})
    env = TaskEnvironment(task)
    try:
        with env:
            driver = _XdotoolDriver(env.env())
            with mss.MSS(display=env.display) as grabber:
                shot = np.asarray(grabber.grab(grabber.monitors[0]))[:, :, :3]
            one = locate_target(parser.parse(np.ascontiguousarray(shot), incremental=False), '"1"')
            on_key = DesktopPoint(int(one.point.x), int(one.point.y))
            driver.move(on_key)
            clearer = TooltipClearer(driver, display=env.display)
            try:
                assert _wait(clearer.shown), "galculator showed no tooltip over the hovered key"
                # The pointer is not where the agent left it: the person's pointer is left alone.
                assert clearer(DesktopPoint(on_key.x + 40, on_key.y)) is False and clearer.shown()
                assert clearer(on_key) is True
                assert clearer.shown() == []
                px, py = driver.pointer()
                assert not (100 <= px < 440 and 100 <= py < 480), (px, py)
            finally:
                clearer.close()
    finally:
        env.cleanup()
