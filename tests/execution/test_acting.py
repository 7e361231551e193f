"""Acting: each action kind becomes the driver calls it should (a RecordingDriver), and the wait for a change
finds the monitor that changed (a FakeScreen changed from another thread, as an app would)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from desktop_agent.capture.fake import FakeScreen
from desktop_agent.errors import StepFailed
from desktop_agent.execution.acting import await_change, perform, prepare
from desktop_agent.execution.input_driver import RecordingDriver
from desktop_agent.geometry import DesktopPoint, Monitor, ScreenLayout
from desktop_agent.planning.actions import Action, Done
from desktop_agent.planning.script import parse_script

A, B = DesktopPoint(10, 20), DesktopPoint(300, 40)


@pytest.mark.parametrize("script, points, calls", [
    ('click "Save"', [A], [("click", (A, "left", 1))]),
    ('double click "Save"', [A], [("click", (A, "left", 2))]),
    ('right click "Save"', [A], [("click", (A, "right", 1))]),
    ('type "héllo"', [], [("type_text", ("héllo",))]),
    ("press ctrl+shift+s", [], [("press", (("ctrl", "shift", "s"),))]),
    ("scroll up 2", [], [("scroll", (None, 2))]),
    ('scroll down 3 on "List"', [A], [("scroll", (A, -3))]),
    ('drag "a.txt" to "Trash"', [A, B], [("drag", (A, B))]),
])
def test_each_action_becomes_its_driver_calls(script: str, points: list[DesktopPoint],
                                              calls: list[tuple[str, tuple[object, ...]]]) -> None:
    (action,) = parse_script(script)
    driver = RecordingDriver()
    perform(driver, action, points)
    assert driver.calls == calls


def test_an_action_the_executor_cannot_send_is_refused() -> None:
    driver = RecordingDriver()
    action: Action = Done(summary="ok")
    with pytest.raises(StepFailed, match="cannot run"):
        perform(driver, action, [])
    assert driver.calls == []


def test_prepare_hovers_a_click_and_clicks_into_a_typed_field() -> None:
    driver = RecordingDriver()
    (click,) = parse_script('click "Save"')
    (typing,) = parse_script('type "x" into "Name"')
    assert prepare(driver, click, A) is False and prepare(driver, typing, B) is True
    assert prepare(driver, click, None) is False
    assert driver.calls == [("move", (A,)), ("click", (B, "left", 1))]


def test_await_change_finds_the_monitor_that_changed() -> None:
    one, two = Monitor(1, 0, 0, 100, 80, 1.0, True), Monitor(2, 100, 0, 100, 80)
    blank = np.full((80, 100, 3), 240, np.uint8)
    screen = FakeScreen(ScreenLayout((one, two)), {1: blank, 2: blank})
    before = {m.index: screen.grab(m) for m in (one, two)}
    changed = blank.copy()
    changed[20:50, 30:70] = 0

    def app() -> None:
        time.sleep(0.2)
        screen.show(changed, 2)

    threading.Thread(target=app).start()
    change, after = await_change(screen, before, [one, two], 3.0, screen.grab)
    assert change.changed and after.geometry.monitor == two
    assert change.pixels == 40 * 30 and change.bbox is not None  # the box: the changed area, 1 px of dilation around
    assert change.bbox.as_list() == [29.0, 19.0, 71.0, 51.0]
    nothing, first = await_change(screen, {1: screen.grab(one), 2: screen.grab(two)}, [one, two], 0.2, screen.grab)
    assert not nothing.changed and first.geometry.monitor == one
