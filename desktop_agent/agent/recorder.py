"""The one place a run is written down: each change to a step's row and the event that tells front ends about
it go together, so the record and what the CLI and the app show cannot drift apart."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from desktop_agent.agent.events import AgentEvent, EventKind
from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.geometry import ScreenLayout
from desktop_agent.planning.actions import Action
from desktop_agent.runs.record import RunStatus, StepStatus
from desktop_agent.runs.store import RunStore


class StepRecorder:
    """Writes one run's rows to a `RunStore` and emits the matching `AgentEvent`s."""

    def __init__(self, store: RunStore, on_event: Callable[[AgentEvent], None]) -> None:
        self.store = store
        self.on_event = on_event
        self.run_id = ""

    def start_run(self, task: str, planner: str, approve_mode: str, layout: ScreenLayout) -> str:
        """Record a new run (its task already masked) with the monitors it sees; emit `run_started`."""
        screens = [{"index": m.index, "left": m.left, "top": m.top, "width": m.width, "height": m.height,
                    "scale": m.scale, "primary": m.primary} for m in layout.monitors]
        self.run_id = self.store.start_run(task, planner, approve_mode, screens)
        self.emit(EventKind.RUN_STARTED, message=task, planner=planner)
        return self.run_id

    def set_task(self, task: str) -> None:
        """Rewrite the run's task (a secret found while running is masked in it)."""
        self.store.set_task(self.run_id, task)

    def emit(self, kind: EventKind, step: int | None = None, message: str = "", **data: Any) -> None:
        """Tell the front ends something that changes no row (status lines, pause, an answer)."""
        self.on_event(AgentEvent(kind, self.run_id, step, message, data))

    def add_step(self, idx: int, action: Action | dict[str, Any], description: str, reason: str) -> None:
        """Write a new step row (`planned`); `action` as it may be written (secrets masked)."""
        data = action if isinstance(action, dict) else action.model_dump()
        self.store.add_step(self.run_id, idx, data, description, reason)

    def update(self, idx: int, **fields: Any) -> None:
        """Change fields of a step's row (status, target, usage, ...)."""
        self.store.update_step(self.run_id, idx, **fields)

    def show_action(self, idx: int, action: Action) -> None:
        """Write the action as it will run, once its typed text may be shown."""
        self.update(idx, action=action.model_dump(), description=action.describe())

    def screenshot(self, idx: int, which: str, frame: ScreenFrame) -> str:
        """Save one of a step's screenshots; returns its path in the data folder."""
        return self.store.save_screenshot(self.run_id, idx, which, frame)

    def end_step(self, idx: int, status: StepStatus, event: EventKind | None = None, message: str = "",
                 data: dict[str, Any] | None = None, **fields: Any) -> None:
        """Close a step's row with its final status (and fields), then emit `event` about it."""
        self.update(idx, status=status, **fields, ended_at=time.time())
        if event is not None:
            self.emit(event, idx, message, **(data or {}))

    def finish_run(self, status: RunStatus, message: str, exit_code: int) -> None:
        """Record how the run ended and emit `run_finished`."""
        self.store.finish_run(self.run_id, status, message)
        self.emit(EventKind.RUN_FINISHED, message=message, status=status, exit_code=exit_code)
