"""The `Planner` protocol, what it sees each step, and the direct planner that runs scripts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from desktop_agent.perception.elements import ParseResult
from desktop_agent.planning.actions import Action
from desktop_agent.planning.script import parse_script


@dataclass(frozen=True)
class HistoryEntry:
    action: Action
    outcome: str  # "verified", "skipped", "failed: ..."


@dataclass(frozen=True)
class PlanContext:
    goal: str
    step_index: int
    history: Sequence[HistoryEntry]
    screen: ParseResult | None = None  # model planners look; the direct planner does not need to


@dataclass(frozen=True)
class PlannedStep:
    action: Action
    reason: str = ""
    confidence: float = 1.0
    usage: dict[str, float] = field(default_factory=dict)  # prompt/completion tokens, model ms, cost


class Planner(Protocol):
    name: str
    needs_screen: bool

    def next_step(self, context: PlanContext) -> PlannedStep | None:
        """The next action, or None when the task is finished."""
        ...


class DirectPlanner:
    """Runs a task script step by step; no model. The script is parsed whole before anything runs, so
    a bad step fails the run before the first click."""

    name = "direct"
    needs_screen = False

    def __init__(self, script: str) -> None:
        self.actions = parse_script(script)

    def next_step(self, context: PlanContext) -> PlannedStep | None:
        if context.step_index >= len(self.actions):
            return None
        return PlannedStep(self.actions[context.step_index], reason=f"step {context.step_index + 1} of the script")


class ScriptedPlanner:
    """A fake planner that returns the steps it was given (for tests, demos and benchmarks of the loop)."""

    name = "scripted"
    needs_screen = True

    def __init__(self, steps: Sequence[PlannedStep]) -> None:
        self.steps = list(steps)
        self.contexts: list[PlanContext] = []

    def next_step(self, context: PlanContext) -> PlannedStep | None:
        self.contexts.append(context)
        return self.steps[context.step_index] if context.step_index < len(self.steps) else None
