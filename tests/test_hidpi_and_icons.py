"""Coordinates at scale 2 with real input, and the 16 px icon-only buttons found by parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_agent.agent import Agent
from desktop_agent.agent.approval import AutoApprover
from desktop_agent.capture.scaled import ScaledScreen
from desktop_agent.capture.screen import MssScreen
from desktop_agent.capture.session import default_screen
from desktop_agent.execution.input_driver import PyAutoGuiDriver
from desktop_agent.geometry import Rect
from desktop_agent.perception.elements import ElementKind
from desktop_agent.planning.planner import DirectPlanner
from desktop_agent.runs.store import RunStore
from tests.display import TargetApp

pytestmark = pytest.mark.display


def test_clicks_land_when_captures_are_at_scale_two(target_app: TargetApp, home: Path, parser) -> None:  # type: ignore[no-untyped-def]
    screen = ScaledScreen(MssScreen(), 2.0)  # captures in device pixels, input in logical units
    store = RunStore(home)
    agent = Agent(screen, parser, PyAutoGuiDriver(), store, AutoApprover(allow_risky=True))
    outcome = agent.run('click "Open Report"; click "Confirm Transfer"', DirectPlanner(
        'click "Open Report"; click "Confirm Transfer"'), "auto")
    assert outcome.exit_code == 0, outcome.message
    assert [e["widget"] for e in target_app.events("clicked")] == ["Open Report", "Confirm Transfer"]
    step = store.steps(outcome.run_id)[0]
    assert step.target is not None
    # The box is in device pixels (twice the logical size); the desktop point is logical.
    x1, y1, x2, y2 = target_app.widgets["Open Report"]
    bx1, _, bx2, _ = step.target["bbox"]
    assert (bx2 - bx1) > 1.5 * 0.5 * (x2 - x1)
    dx, dy = step.target["desktop"]
    assert x1 <= dx < x2 and y1 <= dy < y2


def test_parse_finds_the_16px_icon_buttons(session_app: TargetApp, parser) -> None:  # type: ignore[no-untyped-def]
    """On X11 and on Wayland: the monitor that shows the main window, captured by the session's own screen."""
    screen = default_screen()
    try:
        x1, y1, *_ = session_app.widgets["window"]
        mon = next(m for m in screen.layout().monitors
                   if m.left <= x1 < m.left + m.width and m.top <= y1 < m.top + m.height)
        frame = screen.grab(mon)
    finally:
        getattr(screen, "close", lambda: None)()
    parsed = parser.parse(frame.image, incremental=False)
    icons = [e for e in parsed.elements if e.kind in (ElementKind.ICON, ElementKind.BUTTON, ElementKind.CHECKBOX)]
    for name in ("icon:star", "icon:play", "icon:pause", "icon:trash"):
        x1, y1, x2, y2 = session_app.widgets[name]
        truth = Rect(x1 - mon.left, y1 - mon.top, x2 - mon.left, y2 - mon.top)
        # The 16 px glyph sits in a 24 px button: a detected box must hold the glyph's centre and be small.
        found = [e for e in icons if e.bbox.contains(truth.center) and e.bbox.width <= 32 and e.bbox.height <= 32]
        assert found, f"{name} not detected near {truth}"
