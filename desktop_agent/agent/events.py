"""What the agent tells its front ends as a run goes: the event kinds (a str enum, so a kind compares equal to
its word) and the event itself, with typed views of its usage and targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from desktop_agent.runs.record import TargetRecord, Usage


class EventKind(StrEnum):
    """Every event the loop emits, in the order a run can emit them."""

    RUN_STARTED = "run_started"  # message: the task as recorded; data: planner
    STATUS = "status"  # message: what the agent is doing now ("reading the screen", "asking the model")
    PAUSED = "paused"
    RESUMED = "resumed"
    STEP_PLANNED = "step_planned"  # message: the action; data: reason, confidence, usage
    STEP_REJECTED = "step_rejected"  # a model answer that could not become an action; data: usage
    STEP_LOCATED = "step_located"  # message: the step in plain words; data: targets, risk
    STEP_SKIPPED = "step_skipped"
    STEP_DONE = "step_done"  # message: what verification saw; data: timings, outcome (in words), usage
    STEP_FAILED = "step_failed"
    STEP_ANSWERED = "step_answered"  # message: the person's answer
    RUN_FINISHED = "run_finished"  # message: the run's message; data: status, exit_code


# The events that change a step's record (a front end showing the record reads it again on these).
STEP_EVENTS = frozenset({EventKind.STEP_PLANNED, EventKind.STEP_LOCATED, EventKind.STEP_DONE, EventKind.STEP_FAILED,
                         EventKind.STEP_SKIPPED, EventKind.STEP_REJECTED, EventKind.STEP_ANSWERED})


@dataclass
class AgentEvent:
    """One event of a run: its kind, the run and step (0-based; None for run-wide events), a message, data."""

    kind: EventKind
    run_id: str
    step: int | None = None
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def usage(self) -> Usage:
        """The model answer's usage that came with the event (empty where none)."""
        return Usage.of(self.data.get("usage"))

    @property
    def targets(self) -> list[TargetRecord]:
        """The located targets that came with a `step_located` event."""
        return [TargetRecord.of(t) for t in self.data.get("targets", []) if t.get("desktop")]
