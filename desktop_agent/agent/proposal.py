"""Values the agent loop hands out: where a target was found, the step a person is asked to approve,
and how a run ended (its events are in events.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.geometry import DesktopPoint, DesktopRect, Monitor, Point, Rect
from desktop_agent.grounding.locate import LocateResult
from desktop_agent.perception.elements import Element, ElementKind, ParseResult
from desktop_agent.planning.actions import Action, Target, TypeText
from desktop_agent.planning.planner import PlannedStep
from desktop_agent.runs.wording import place_words
from desktop_agent.secret_fields import MASK

PARTIAL_EXIT = 6
PASSWORD_RISK = "typing into a password field"


@dataclass(frozen=True)
class Located:
    """A target found on screen: the frame it was found in, the grounding result and the desktop point."""

    target: Target
    frame: ScreenFrame
    result: LocateResult
    desktop: DesktopPoint
    parsed: ParseResult | None = None  # the whole screen it was found on (for labels around it)

    @property
    def monitor(self) -> Monitor:
        """The monitor the target is on."""
        return self.frame.geometry.monitor

    @property
    def box(self) -> Rect:
        """The box the step acts on, in the frame's pixels; it always holds the input point. The element's box
        where the point is in it (a button), else the span the point is aimed at: a control named by the label
        beside it is clicked on the label, not on its 16 px glyph."""
        p, el = self.result.point, self.result.element
        if el.id >= 0 and el.bbox.contains(p):
            return el.bbox
        if self.result.bbox.contains(p):
            return self.result.bbox
        return Rect(p.x - 6, p.y - 6, p.x + 6, p.y + 6)

    @property
    def desktop_box(self) -> DesktopRect:
        """`box` in desktop coordinates, grown to hold the input point (`desktop`) also where rounding or
        the monitor's edge moved it."""
        d = DesktopRect.from_image(self.box, self.frame.geometry)
        p = self.desktop
        return DesktopRect(min(d.left, p.x), min(d.top, p.y), max(d.right, p.x + 1), max(d.bottom, p.y + 1))

    def to_dict(self) -> dict[str, Any]:
        """The target as the record (`steps.target`) and the `step_located` event hold it."""
        return {
            "instruction": self.target.text or self.target.describe(),
            "monitor": self.monitor.index,
            "score": round(self.result.score, 3),
            "bbox": self.result.bbox.as_list(),
            "element_bbox": self.result.element.bbox.as_list(),
            "action_bbox": self.box.as_list(),  # what the approval panel and overlay showed: holds the point
            "point": list(self.result.point.rounded()),
            "desktop": [self.desktop.x, self.desktop.y],
            "element": self.result.element.to_dict(),
        }


@dataclass
class StepProposal:
    """A located step as a person is asked to approve it, with the approval floor's reason and their edits."""

    index: int
    planned: PlannedStep
    targets: list[Located]
    risk: str | None = None  # why this step always needs a person's explicit approval
    # The person's edits at the approval prompt: another point on the first target's screenshot (its
    # image pixels), or other text to type.
    edited_point: Point | None = None
    edited_text: str | None = None

    @property
    def action(self) -> Action:
        """The planned action."""
        return self.planned.action

    @property
    def shown_action(self) -> Action:
        """The action as a person is shown it: text for a secret field masked."""
        if self.risk == PASSWORD_RISK and isinstance(self.action, TypeText):
            return self.action.model_copy(update={"text": MASK})
        return self.action

    def shown_target(self) -> Located | None:
        """The target the approval panel and overlay show: the first one, or the point the person picked."""
        if not self.targets:
            return None
        first = self.targets[0]
        if self.edited_point is None:
            return first
        p = self.edited_point
        box = Rect(p.x - 4, p.y - 4, p.x + 4, p.y + 4)  # as the loop acts on it (Agent._apply_edits)
        el = Element(-1, ElementKind.CONTAINER, box, "", 1.0, "person")
        res = LocateResult(p, box, 1.0, el, first.result.instruction)
        return Located(first.target, first.frame, res, first.frame.geometry.to_desktop(p), first.parsed)

    def plain_words(self) -> str:
        """The step as a person reads it: 'Click "Save" at (812, 44) on monitor 2'."""
        words = self.shown_action.describe()
        if self.targets:
            t = self.targets[0]
            words += " " + place_words(t.desktop.x, t.desktop.y, t.monitor.index)
        return words


@dataclass
class RunOutcome:
    """How a run ended: its status (succeeded, partial: some steps skipped, failed, aborted), message, exit code."""

    run_id: str
    status: str  # a RunStatus (its plain word compares and prints the same)
    message: str
    exit_code: int
    steps: int


@dataclass
class AgentSettings:
    """The loop's time and count limits."""

    settle_timeout: float = 2.0
    verify_timeout: float = 2.5
    wait_for_timeout: float = 10.0
    max_steps: int = 50
    max_rejections: int = 3  # model answers in a row that could not become an action
    max_repeats: int = 2  # the same action failing this often counts as a loop
