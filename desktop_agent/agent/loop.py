"""The agent loop: plan a step, run it (perceive, locate, ask, act, verify, record), until the planner is done.

A plain object with an event callback; the CLI prints the events and the Qt app turns them into signals.
Nothing here imports Qt. The parts: `ScreenReader` (perceive), `StepRunner` (one step), `ApprovalGate`
(whether to ask), `SecretGuard` (what may be written), `StepRecorder` (the record and its events)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from desktop_agent.agent.approval import ApprovalGate, Approver
from desktop_agent.agent.control import RunControl
from desktop_agent.agent.events import AgentEvent, EventKind
from desktop_agent.agent.outcome import run_summary
from desktop_agent.agent.perceive import ScreenReader
from desktop_agent.agent.proposal import AgentSettings, RunOutcome
from desktop_agent.agent.recorder import StepRecorder
from desktop_agent.agent.secrecy import SecretGuard
from desktop_agent.agent.step import StepRunner
from desktop_agent.capture.screen import Screen
from desktop_agent.errors import AgentError, RunAborted, StepFailed, TargetNotFound
from desktop_agent.execution.input_driver import InputDriver
from desktop_agent.geometry import DesktopPoint
from desktop_agent.perception.accessibility.reader import TreeReader
from desktop_agent.perception.accessibility.source import AccessibilitySource
from desktop_agent.perception.accessibility.visibility import ScreenWindow
from desktop_agent.perception.parser import ScreenParser
from desktop_agent.planning.actions import AskUser, Done
from desktop_agent.planning.decision import PlanRejected
from desktop_agent.planning.planner import HistoryEntry, PlanContext, PlannedStep, Planner
from desktop_agent.runs.record import RunStatus, StepStatus
from desktop_agent.runs.store import RunStore


@dataclass
class _Run:
    """Where a run stands: the next step's index, what the planner is told happened, rejections in a row."""

    task: str
    planner: Planner
    idx: int = 0
    history: list[HistoryEntry] = field(default_factory=list)
    rejected_in_a_row: int = 0


class Agent:
    """Runs tasks on a screen through an input driver, asking an approver, recording each step in a store."""

    def __init__(self, screen: Screen, parser: ScreenParser, driver: InputDriver, store: RunStore,
                 approver: Approver, settings: AgentSettings | None = None,
                 on_event: Callable[[AgentEvent], None] | None = None,
                 accessibility: AccessibilitySource | None = None,
                 pointer_rest: Callable[[DesktopPoint, float], bool] | None = None,
                 windows: Callable[[], list[ScreenWindow] | None] | None = None) -> None:
        self.screen = screen
        self.parser = parser
        self.driver = driver
        self.store = store
        self.approver = approver
        self.settings = settings or AgentSettings()
        self.on_event = on_event or (lambda e: None)
        self.control = RunControl()
        self._abort = self.control.aborted
        # The platform's accessibility tree, fused with the pixels at every look at the screen (exact names,
        # roles, states; a password field by its role); None: pixels only.
        tree = TreeReader(accessibility) if accessibility is not None else None
        # `windows`: the display's windows, to tell which has the focus (a dialog's "OK" before its main window's).
        self.reader = ScreenReader(screen, parser, self.settings, tree, self._abort, windows)
        self.recorder = StepRecorder(store, lambda event: self.on_event(event))
        self.guard = SecretGuard(accessibility)
        self.gate = ApprovalGate(approver)
        self.pointer_rest = pointer_rest  # the pointer moved off a tooltip it raised (execution/tooltips.py)

    @property
    def accessibility(self) -> AccessibilitySource | None:
        """The accessibility source still asked (None: none, or it failed this session)."""
        return self.guard.accessibility

    @property
    def _run_id(self) -> str:
        return self.recorder.run_id

    # -- control -----------------------------------------------------------------------------------
    def abort(self) -> None:
        """Stop the run at the next safe point (between or during a step); no further input is sent."""
        self.control.abort()

    def pause(self) -> None:
        """Hold the run at the next safe point (no input is sent while paused) until resume()."""
        self.control.pause()

    def resume(self) -> None:
        """Let a paused run go on."""
        self.control.resume()

    @property
    def paused(self) -> bool:
        """Whether the run is held by pause()."""
        return self.control.paused

    def _check_abort(self) -> None:
        self.control.check(lambda: self.recorder.emit(EventKind.PAUSED), lambda: self.recorder.emit(EventKind.RESUMED))

    # -- the loop ----------------------------------------------------------------------------------
    def run(self, task: str, planner: Planner, approve_mode: str = "ask") -> RunOutcome:
        """Run `task` with `planner` until it is done, fails or is stopped; the record says what happened."""
        self._abort.clear()
        self.reader.plan_views = {}
        self.gate = ApprovalGate(self.approver)
        layout = self.screen.layout()
        # What is written and shown: every typed text masked. The planner gets the real task.
        run_id = self.recorder.start_run(self.guard.begin(task), planner.name, approve_mode, layout)
        run = _Run(task, planner)
        try:
            summary = self._steps(run)
            status, message, code = run_summary(run.idx, run.history, summary)
        except RunAborted as exc:
            status, message, code = RunStatus.ABORTED, str(exc), exc.exit_code
        except KeyboardInterrupt:
            status, message, code = RunStatus.ABORTED, "interrupted with Ctrl+C", RunAborted.exit_code
        except AgentError as exc:
            status, message, code = RunStatus.FAILED, str(exc), exc.exit_code
        except Exception as exc:
            self.store.finish_run(run_id, RunStatus.FAILED, f"internal error: {exc!r}")
            raise
        finally:
            self.reader.plan_views = {}
        self.recorder.finish_run(status, message, code)
        return RunOutcome(run_id, status, message, code, run.idx)

    def _steps(self, run: _Run) -> str:
        """Plan and run steps until the planner is done; the done step's summary ('' where it gave none)."""
        steps = StepRunner(self.reader, self.driver, self.recorder, self.gate, self.guard, self.settings,
                           self._check_abort, self.pointer_rest)
        while True:
            self._check_abort()
            if run.idx >= self.settings.max_steps and run.planner.needs_screen:
                # A model planner is not asked again past the limit (it costs a model call).
                raise StepFailed(f"stopped after --max-steps {self.settings.max_steps} steps")
            timings: dict[str, float] = {}
            try:
                planned = self._next_step(run, timings)
            except PlanRejected as exc:
                self._rejected(run, exc, timings)
                continue
            run.rejected_in_a_row = 0
            if run.idx >= self.settings.max_steps and planned is not None and not isinstance(planned.action, Done):
                raise StepFailed(f"stopped after --max-steps {self.settings.max_steps} steps")
            if planned is None or isinstance(planned.action, Done):
                return self._done(run.idx, planned, timings)
            if isinstance(planned.action, AskUser):
                self._ask_user(run, planned, timings)
            else:
                try:
                    steps.run(run.idx, planned, run.history, timings)
                except (TargetNotFound, StepFailed) as exc:
                    self._failed(run, planned, exc)
            run.idx += 1

    def _next_step(self, run: _Run, timings: dict[str, float]) -> PlannedStep | None:
        views = []
        if run.planner.needs_screen:
            self.recorder.emit(EventKind.STATUS, run.idx, "reading the screen")
            views = self.reader.perceive(timings)
            self.reader.plan_views = {v.monitor_index: v for v in views}
            self.recorder.emit(EventKind.STATUS, run.idx, "asking the model")
        self._check_abort()
        return run.planner.next_step(PlanContext(run.task, run.idx, run.history, views, self._abort.is_set))

    def _rejected(self, run: _Run, exc: PlanRejected, timings: dict[str, float]) -> None:
        """A model answer that could not become an action: recorded; too many in a row fail the run."""
        run.rejected_in_a_row += 1
        rec = self.recorder
        rec.add_step(run.idx, {"action": "rejected", "raw": exc.raw[:4000]}, "Model answer rejected", "")
        rec.end_step(run.idx, StepStatus.REJECTED, EventKind.STEP_REJECTED, str(exc), {"usage": dict(exc.usage)},
                     error=str(exc), usage=dict(exc.usage), timings=timings)
        run.history.append(HistoryEntry(None, f"rejected: {exc}"))
        run.idx += 1
        if run.rejected_in_a_row >= self.settings.max_rejections:
            raise StepFailed(f"the model gave {run.rejected_in_a_row} unusable answers in a row; the last: {exc}")

    def _done(self, idx: int, planned: PlannedStep | None, timings: dict[str, float]) -> str:
        """The planner is done: its summary; a model's last answer costs tokens too, so it is recorded."""
        if planned is None:
            return ""
        action = planned.action
        assert isinstance(action, Done)
        if planned.usage:
            self.recorder.add_step(idx, action, action.describe(), planned.reason)
            self.recorder.end_step(idx, StepStatus.VERIFIED, EventKind.STEP_DONE, action.describe(),
                                   {"usage": dict(planned.usage)}, usage=dict(planned.usage), timings=timings)
        return action.summary

    def _ask_user(self, run: _Run, planned: PlannedStep, timings: dict[str, float]) -> None:
        """The planner asks the person a question; no answer stops the run."""
        action, idx, rec = planned.action, run.idx, self.recorder
        assert isinstance(action, AskUser)
        rec.add_step(idx, action, action.describe(), planned.reason)
        rec.update(idx, usage=dict(planned.usage), timings=timings)
        rec.emit(EventKind.STEP_PLANNED, idx, action.describe(), reason=planned.reason, usage=dict(planned.usage))
        answer = self.gate.answer(action.question)
        if answer is None:
            rec.end_step(idx, StepStatus.FAILED, error="no one answered")
            raise StepFailed(f"the planner asks: {action.question} (no one to answer; nothing more was done)")
        rec.end_step(idx, StepStatus.ANSWERED, EventKind.STEP_ANSWERED, answer, verify={"answer": answer})
        run.history.append(HistoryEntry(action, f"answered: {answer}", planned.reason))

    def _failed(self, run: _Run, planned: PlannedStep, exc: AgentError) -> None:
        """A step failed: a model planner is told and tries again, within a bound on repeating it; else it ends
        the run. The same action failing again and again is a loop: ask the person, or stop."""
        if not run.planner.recovers:
            raise exc
        history = run.history
        if not history or history[-1].action is not planned.action:
            history.append(HistoryEntry(planned.action, f"failed: {exc}", planned.reason))
        words = planned.action.describe()
        fails = sum(1 for h in history if h.action is not None and h.action.describe() == words
                    and h.outcome.startswith("failed"))
        if fails < self.settings.max_repeats:
            return
        question = f"The agent tried {words!r} {fails} times and it failed each time. What should it do instead?"
        answer = self.gate.answer(question)
        if answer is None:
            raise StepFailed(f"the planner repeated a failing step {fails} times: {words}")
        history.append(HistoryEntry(None, f"stopped by loop detection; the person says: {answer}"))
        self.recorder.emit(EventKind.STEP_ANSWERED, run.idx, answer)
