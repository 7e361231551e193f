"""Values the agent loop hands out: where a target was found, the step a person is asked to approve,
events for front ends, and how a run ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.geometry import DesktopPoint, Monitor, Point
from desktop_agent.grounding.locate import LocateResult
from desktop_agent.perception.elements import ParseResult
from desktop_agent.planning.actions import Action, Target, TypeText
from desktop_agent.planning.planner import PlannedStep
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
        return self.frame.geometry.monitor

    def to_dict(self) -> dict[str, Any]:
        return {
            "instruction": self.target.text or self.target.describe(),
            "monitor": self.monitor.index,
            "score": round(self.result.score, 3),
            "bbox": self.result.bbox.as_list(),
            "element_bbox": self.result.element.bbox.as_list(),
            "point": list(self.result.point.rounded()),
            "desktop": [self.desktop.x, self.desktop.y],
            "element": self.result.element.to_dict(),
        }


@dataclass
class StepProposal:
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
        return self.planned.action

    @property
    def shown_action(self) -> Action:
        """The action as a person is shown it: text for a secret field masked."""
        if self.risk == PASSWORD_RISK and isinstance(self.action, TypeText):
            return self.action.model_copy(update={"text": MASK})
        return self.action

    def plain_words(self) -> str:
        words = self.shown_action.describe()
        if self.targets:
            t = self.targets[0]
            words += f" at ({t.desktop.x}, {t.desktop.y}) on monitor {t.monitor.index}"
        return words


@dataclass
class AgentEvent:
    # run_started, step_planned, step_rejected, step_located, step_skipped, step_done, step_failed,
    # step_answered, run_finished
    kind: str
    run_id: str
    step: int | None = None
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunOutcome:
    run_id: str
    status: str  # succeeded, partial (some steps skipped), failed, aborted
    message: str
    exit_code: int
    steps: int


@dataclass
class AgentSettings:
    settle_timeout: float = 2.0
    verify_timeout: float = 2.5
    wait_for_timeout: float = 10.0
    max_steps: int = 50
    max_rejections: int = 3  # model answers in a row that could not become an action
    max_repeats: int = 2  # the same action failing this often counts as a loop
