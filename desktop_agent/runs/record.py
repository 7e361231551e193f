"""The run record's vocabulary: run and step statuses (str enums, so stored values and JSON stay the plain
words they always were) and typed views of a step's `usage` and `target` JSON."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    """A run's status in the `runs` table."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some steps were skipped
    FAILED = "failed"
    ABORTED = "aborted"  # stopped by the person (or a signal)
    INTERRUPTED = "interrupted"  # the process died; set the next time the database is opened


FINAL_RUN = (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED, RunStatus.ABORTED, RunStatus.INTERRUPTED)


class StepStatus(StrEnum):
    """A step's status in the `steps` table, in the order a step can pass through them."""

    PLANNED = "planned"
    APPROVED = "approved"
    SENDING = "sending"  # committed before the first input event
    SENT = "sent"  # the input is out, its effect not yet checked
    VERIFIED = "verified"
    UNVERIFIED = "unverified"  # sent, no visible change, and that is no failure (a shortcut, a selected item)
    FAILED = "failed"
    SKIPPED = "skipped"
    REJECTED = "rejected"  # a model answer that could not become an action
    ANSWERED = "answered"  # the person answered the planner's question
    ABORTED = "aborted"  # not yet sent when the run ended
    INTERRUPTED = "interrupted"  # not yet sent when the process died


@dataclass(frozen=True)
class Usage:
    """What a model answer cost: tokens, time and money, and the model's confidence (the `usage` JSON)."""

    prompt_tokens: float = 0.0
    completion_tokens: float = 0.0
    model_ms: float | None = None
    cost_usd: float | None = None
    confidence: float | None = None

    @staticmethod
    def of(data: dict[str, Any] | None) -> Usage:
        """The typed view of a recorded (or planned) usage dict; missing keys stay None."""
        d = data or {}

        def opt(key: str) -> float | None:
            return float(d[key]) if key in d else None

        return Usage(float(d.get("prompt_tokens", 0)), float(d.get("completion_tokens", 0)), opt("model_ms"),
                     opt("cost_usd"), opt("confidence"))

    @property
    def tokens(self) -> float:
        """Tokens sent and received, together."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class TargetRecord:
    """Where a step acted (the `target` JSON): the desktop point, its monitor, and the element found there."""

    desktop: tuple[int, int]
    monitor: int
    score: float | None
    bbox: list[float] | None
    element: dict[str, Any]

    @staticmethod
    def of(data: dict[str, Any]) -> TargetRecord:
        """The typed view of a recorded target dict (also an event's target)."""
        x, y = data["desktop"]
        return TargetRecord((x, y), data["monitor"], data.get("score"), data.get("bbox"), data.get("element") or {})
