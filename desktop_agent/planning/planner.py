"""The `Planner` protocol, what it sees each step, and the direct planner that runs scripts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.perception.elements import ParseResult
from desktop_agent.planning.actions import Action
from desktop_agent.planning.script import parse_script


@dataclass(frozen=True)
class HistoryEntry:
    """One step done so far, as the planner is told it: the action, its outcome and why."""

    action: Action | None  # None: the planner's answer was rejected before it became an action
    outcome: str  # "verified", "skipped", "failed: ...", "rejected: ...", "answered: ..."
    reason: str = ""

    def line(self) -> str:
        """The step as one line of text, for a model's prompt."""
        if self.action is None:
            return f"your answer was {self.outcome}"
        return f"{self.action.describe()} -> {self.outcome}"


@dataclass(frozen=True)
class ScreenView:
    """One monitor as the planner saw it: the frame and what parsing found in it."""

    frame: ScreenFrame
    parsed: ParseResult

    @property
    def monitor_index(self) -> int:
        """The number of the monitor this view shows."""
        return self.frame.geometry.monitor.index


@dataclass(frozen=True)
class PlanContext:
    """What a planner sees for its next step: the goal, the screens and the steps so far."""

    goal: str
    step_index: int
    history: Sequence[HistoryEntry]
    views: Sequence[ScreenView] = ()  # every monitor, for planners that look (needs_screen)
    cancelled: Callable[[], bool] = lambda: False  # True once the person stopped the run

    @property
    def screen(self) -> ParseResult | None:
        """The first monitor's parse, or None without a screen."""
        return self.views[0].parsed if self.views else None


@dataclass(frozen=True)
class PlannedStep:
    """A planner's next step: the action and why (with the model's usage)."""

    action: Action
    reason: str = ""
    confidence: float = 1.0
    usage: dict[str, float] = field(default_factory=dict)  # prompt/completion tokens, model ms, cost
    risky: bool = False  # the planner thinks this step needs a person's explicit approval


class Planner(Protocol):
    """Plans the next step of a task from what is on screen."""

    name: str
    needs_screen: bool
    recovers: bool  # a failed step goes back to the planner (True) rather than ending the run

    def next_step(self, context: PlanContext) -> PlannedStep | None:
        """The next action, or None when the task is finished."""
        ...


class DirectPlanner:
    """Runs a task script step by step; no model. The script is parsed whole before anything runs, so
    a bad step fails the run before the first click."""

    name = "direct"
    needs_screen = False
    recovers = False

    def __init__(self, script: str) -> None:
        self.actions = parse_script(script)

    def next_step(self, context: PlanContext) -> PlannedStep | None:
        """The script's next step, or None at its end."""
        if context.step_index >= len(self.actions):
            return None
        return PlannedStep(self.actions[context.step_index], reason=f"step {context.step_index + 1} of the script")


class ScriptedPlanner:
    """A fake planner that returns the steps it was given (for tests, demos and benchmarks of the loop)."""

    name = "scripted"
    needs_screen = True
    recovers = False

    def __init__(self, steps: Sequence[PlannedStep]) -> None:
        self.steps = list(steps)
        self.contexts: list[PlanContext] = []

    def next_step(self, context: PlanContext) -> PlannedStep | None:
        """The next scripted step, or None at the end (a fake for tests)."""
        self.contexts.append(context)
        return self.steps[context.step_index] if context.step_index < len(self.steps) else None
