"""Acting on the desktop: one planned action sent through an `InputDriver` at its targets' desktop points,
and the wait for its effect (the first monitor that changes, once it has settled)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.capture.screen import Screen
from desktop_agent.errors import StepFailed
from desktop_agent.execution.input_driver import InputDriver
from desktop_agent.execution.verify import Change, visible_change
from desktop_agent.geometry import DesktopPoint, Monitor
from desktop_agent.planning.actions import Action, Click, Drag, Press, Scroll, TypeText

NO_CHANGE_SEEN = Change(False, 0, None)


def perform(driver: InputDriver, action: Action, points: Sequence[DesktopPoint]) -> None:
    """Send `action`'s input at `points` (its targets' desktop points, in order); refuses what it cannot send."""
    first = points[0] if points else None
    if isinstance(action, Click):
        assert first is not None
        button = "right" if action.action == "right_click" else "left"
        driver.click(first, button=button, count=2 if action.action == "double_click" else 1)
    elif isinstance(action, TypeText):
        driver.type_text(action.text)
    elif isinstance(action, Press):
        driver.press(action.keys)
    elif isinstance(action, Scroll):
        driver.scroll(first, action.amount if action.direction == "up" else -action.amount)
    elif isinstance(action, Drag):
        driver.drag(points[0], points[1])
    else:
        raise StepFailed(f"the executor cannot run {action.describe()!r}")


def prepare(driver: InputDriver, action: Action, first: DesktopPoint | None) -> bool:
    """Before the "before" picture: the pointer on the target (so hover effects are not taken for the action's
    effect), or a click into the field typed into. True when the field was clicked (the caller lets it settle)."""
    if first is None:
        return False
    if not isinstance(action, TypeText | Drag):
        driver.move(first)
    if isinstance(action, TypeText):
        driver.click(first)
        return True
    return False


def await_change(screen: Screen, before: dict[int, ScreenFrame], order: Sequence[Monitor], timeout: float,
                 settled: Callable[[Monitor], ScreenFrame]) -> tuple[Change, ScreenFrame]:
    """Watch the monitors (in `order`: the target's first) until one differs from `before`, then take its settled
    frame; the change seen and that frame (the first monitor's, if nothing changed within `timeout`)."""
    deadline = time.monotonic() + timeout
    best = NO_CHANGE_SEEN
    after_frame: ScreenFrame | None = None
    while True:
        for mon in order:
            frame = screen.grab(mon)
            ch = visible_change(before[mon.index].image, frame.image)
            if ch.changed:
                after_frame = settled(mon)
                best = visible_change(before[mon.index].image, after_frame.image)
                if not best.changed:
                    best = ch
                break
        if best.changed or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if after_frame is None:
        after_frame = screen.grab(order[0])
    return best, after_frame
