"""One planned step, start to end: written down with secrets masked, its targets located, the approval gate
passed, the input sent, its effect awaited and judged, and the outcome recorded."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop_agent.agent.approval import ApprovalGate, Decision
from desktop_agent.agent.events import EventKind
from desktop_agent.agent.outcome import change_words, toggle_after, value_after, verdict, verify_record
from desktop_agent.agent.perceive import ScreenReader, point_target
from desktop_agent.agent.proposal import PASSWORD_RISK, AgentSettings, Located, StepProposal
from desktop_agent.agent.recorder import StepRecorder
from desktop_agent.agent.secrecy import SecretGuard, shown
from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.errors import AgentError, ApprovalRefused, StepFailed, TargetNotFound
from desktop_agent.execution.acting import NO_CHANGE_SEEN, await_change, perform, prepare
from desktop_agent.execution.input_driver import InputDriver
from desktop_agent.execution.verify import Change
from desktop_agent.geometry import DesktopPoint
from desktop_agent.perception.elements import ElementKind
from desktop_agent.planning.actions import Action, TypeText, Wait, WaitFor, action_targets
from desktop_agent.planning.planner import HistoryEntry, PlannedStep
from desktop_agent.runs.record import StepStatus
from desktop_agent.secret_fields import is_secret_label


@dataclass
class _Step:
    """A step in progress: the action as it may be written (secrets masked), its targets, its timings."""

    idx: int
    planned: PlannedStep
    action: Action
    timings: dict[str, float]
    targets: list[Located] = field(default_factory=list)
    t0: float = field(default_factory=time.perf_counter)


class StepRunner:
    """Runs planned steps for the loop over its reader, driver, recorder, approval gate and secret guard."""

    def __init__(self, reader: ScreenReader, driver: InputDriver, recorder: StepRecorder, gate: ApprovalGate,
                 guard: SecretGuard, settings: AgentSettings, check_abort: Callable[[], None],
                 pointer_rest: Callable[[DesktopPoint, float], bool] | None = None) -> None:
        self.reader = reader
        self.driver = driver
        self.recorder = recorder
        self.gate = gate
        self.guard = guard
        self.settings = settings
        self.check_abort = check_abort
        # Moves the pointer off a control whose tooltip shows, when the pointer is still where our last step
        # left it (execution/tooltips.py); None: leave the pointer be.
        self.pointer_rest = pointer_rest
        self._pointer_left_at: DesktopPoint | None = None
        self._pointer_left_time = 0.0

    def run(self, idx: int, planned: PlannedStep, history: list[HistoryEntry],
            plan_timings: dict[str, float] | None = None) -> None:
        """Run one step; a step that cannot be done raises (TargetNotFound, StepFailed, ...) once recorded."""
        step = _Step(idx, planned, planned.action, {f"plan_{k}": v for k, v in (plan_timings or {}).items()})
        self._planned(step)
        step.t0 = time.perf_counter()
        try:
            with self.gate.step():
                self._attempt(step, history)
        except (TargetNotFound, ApprovalRefused) as exc:
            self._refused(step, exc)
            raise
        except StepFailed as exc:
            self.recorder.emit(EventKind.STEP_FAILED, idx, str(exc))
            raise

    def _planned(self, step: _Step) -> None:
        planned, masked = step.planned, shown(step.action)
        self.recorder.add_step(step.idx, masked, masked.describe(), planned.reason)
        if planned.usage:
            self.recorder.update(step.idx, usage={**planned.usage, "confidence": planned.confidence})
        self.recorder.emit(EventKind.STEP_PLANNED, step.idx, masked.describe(), reason=planned.reason,
                           confidence=planned.confidence, usage=dict(planned.usage))

    def _attempt(self, step: _Step, history: list[HistoryEntry]) -> None:
        if isinstance(step.action, WaitFor):
            self._wait_for(step, step.action, history)
            return
        proposal, secret = self._propose(step)
        self.check_abort()
        if self.gate.decide(proposal, step.timings) == Decision.SKIP:
            self.recorder.end_step(step.idx, StepStatus.SKIPPED, EventKind.STEP_SKIPPED, "skipped",
                                   timings=step.timings)
            history.append(HistoryEntry(step.action, "skipped", step.planned.reason))
            return
        to_run = self._apply_edits(step, proposal)
        if secret and isinstance(to_run, TypeText):
            self.guard.keep(to_run.text, self.recorder)
        self.recorder.update(step.idx, status=StepStatus.APPROVED)
        self.check_abort()
        change, before, after = self._act(step, to_run)
        self.guard.track_focus(to_run, step.targets, secret)
        self._record_outcome(step, change, before, after, history)

    def _wait_for(self, step: _Step, action: WaitFor, history: list[HistoryEntry]) -> None:
        loc = self.reader.wait_for(action, step.timings, self.check_abort)
        self._record_target(step.idx, [loc], step.timings)
        self.recorder.end_step(step.idx, StepStatus.VERIFIED, EventKind.STEP_DONE, f"found {loc.result.element.text!r}",
                               verify={"found": True}, timings=step.timings)
        history.append(HistoryEntry(action, "verified", step.planned.reason))

    def _propose(self, step: _Step) -> tuple[StepProposal, bool]:
        """Locate the targets, weigh the step against the approval floor, and show it; True: typing a secret."""
        action = step.action
        if self.pointer_rest is not None and self._pointer_left_at is not None and action_targets(action):
            self.pointer_rest(self._pointer_left_at, self._pointer_left_time)
        prefer = ElementKind.INPUT if isinstance(action, TypeText) else None
        step.targets = [self.reader.locate(t, step.timings, prefer) for t in action_targets(action)]
        self._record_target(step.idx, step.targets, step.timings)
        # Only typing asks the tree (one bounded read): the field at the target, or the focused one.
        platform_secret = isinstance(action, TypeText) and self.guard.platform_secret(
            step.targets[0] if step.targets else None, self.reader.screen.layout)
        risk = self.gate.floor(step.planned, step.targets, self.guard.focus, platform_secret)
        proposal = StepProposal(step.idx, step.planned, step.targets, risk)
        secret = risk == PASSWORD_RISK and isinstance(action, TypeText)
        if secret:
            # The secret is typed, never written down: not in the record, the events or the model's history.
            assert isinstance(action, TypeText)
            self.guard.keep(action.text, self.recorder)
            step.action = shown(action)
        elif isinstance(action, TypeText):
            self.recorder.show_action(step.idx, action)
        self.recorder.emit(EventKind.STEP_LOCATED, step.idx,
                           StepProposal(step.idx, PlannedStep(step.action), step.targets).plain_words(),
                           targets=[t.to_dict() for t in step.targets], risk=risk)
        return proposal, secret

    def _apply_edits(self, step: _Step, proposal: StepProposal) -> Action:
        """What the person changed at the approval prompt: the target point, or the text to type."""
        action = proposal.action
        if proposal.edited_point is not None and step.targets:
            first, p = step.targets[0], proposal.edited_point
            if not (0 <= p.x < first.frame.width and 0 <= p.y < first.frame.height):
                raise TargetNotFound(f"the edited point ({p.x:.0f}, {p.y:.0f}) is off the screenshot")
            step.targets[0] = point_target(first.target, first.frame, p, 1.0, "person", "point", first.parsed)
            self._record_target(step.idx, step.targets, step.timings)
        if proposal.edited_text is not None and isinstance(action, TypeText):
            action = action.model_copy(update={"text": proposal.edited_text})
            if proposal.risk != PASSWORD_RISK:
                self.recorder.show_action(step.idx, action)
        return action

    def _record_target(self, idx: int, targets: list[Located], timings: dict[str, float]) -> None:
        if not targets:
            self.recorder.update(idx, timings=timings)
            return
        first = targets[0]
        before = self.recorder.screenshot(idx, "before", first.frame)
        info = first.to_dict()
        if len(targets) > 1:
            info["more"] = [t.to_dict() for t in targets[1:]]
        self.recorder.update(idx, target=info, before_path=before, timings=timings)

    def _act(self, step: _Step, action: Action) -> tuple[Change, ScreenFrame | None, ScreenFrame | None]:
        """Send the input, then watch for its effect. Returns the change and the before/after frames
        of the monitor where it showed (or the target's). The step is `sending` (committed) before the
        first input event and `sent` once the input is out."""
        if isinstance(action, Wait):
            end = time.monotonic() + action.seconds
            while time.monotonic() < end:
                self.check_abort()
                time.sleep(min(0.1, max(0.0, end - time.monotonic())))
            return NO_CHANGE_SEEN, None, None
        first, timings, reader = (step.targets[0] if step.targets else None), step.timings, self.reader
        self.recorder.update(step.idx, status=StepStatus.SENDING)
        if prepare(self.driver, action, first.desktop if first is not None else None) and first is not None:
            reader.settled(first.monitor)
        t0 = time.perf_counter()
        before = {mon.index: reader.settled(mon) for mon in reader.screen.layout().monitors}
        timings["pre_act_settle"] = (time.perf_counter() - t0) * 1000
        self.check_abort()
        t1 = time.perf_counter()
        perform(self.driver, action, [t.desktop for t in step.targets])
        if step.targets:
            self._pointer_left_at, self._pointer_left_time = step.targets[-1].desktop, time.monotonic()
        timings["act"] = (time.perf_counter() - t1) * 1000
        self.recorder.update(step.idx, status=StepStatus.SENT)
        t2 = time.perf_counter()
        order = sorted(reader.screen.layout().monitors,
                       key=lambda m: 0 if first is not None and m.index == first.monitor.index else 1)
        change, after = await_change(reader.screen, before, order, self.settings.verify_timeout, reader.settled)
        timings["verify"] = (time.perf_counter() - t2) * 1000
        return change, before[after.geometry.monitor.index], after

    def _record_outcome(self, step: _Step, change: Change, before: ScreenFrame | None, after: ScreenFrame | None,
                        history: list[HistoryEntry]) -> None:
        """Write what a sent step did (verified, unverified or failed) with its screenshots."""
        idx, action, timings, targets = step.idx, step.action, step.timings, step.targets
        timings["step"] = (time.perf_counter() - step.t0) * 1000
        self._save_shots(idx, before if not targets else None, after)
        if isinstance(action, Wait):
            detail = f"waited {action.seconds:g} s"
            self.recorder.end_step(idx, StepStatus.VERIFIED, EventKind.STEP_DONE, detail, {"timings": timings},
                                   verify={"detail": detail}, timings=timings)
            history.append(HistoryEntry(action, "done", step.planned.reason))
            return
        toggle = (toggle_after(self.reader.tree, self.reader.screen.layout, action, targets)
                  or value_after(self.reader.tree, self.reader.screen.layout, action, targets, self.guard.texts))
        verify, change = verify_record(change, toggle)
        t_words = time.perf_counter()
        words = change_words(self.reader.parser.ocr, action, targets, change, before, after, toggle, self.guard.texts)
        self.recorder.update(idx, outcome=words)
        timings["outcome"] = (time.perf_counter() - t_words) * 1000
        judged = verdict(action, targets, change)
        history.append(HistoryEntry(action, judged.history, step.planned.reason))
        if judged.status == StepStatus.FAILED:
            self.recorder.end_step(idx, judged.status, verify=verify, timings=timings, error=judged.message)
            raise StepFailed(f"step {idx + 1} ({action.describe()}) had no visible effect on the screen")
        if judged.status == StepStatus.UNVERIFIED:
            verify["detail"] = judged.message
        self.recorder.end_step(idx, judged.status, EventKind.STEP_DONE, judged.message,
                               {"timings": timings, "outcome": words}, verify=verify, timings=timings)

    def _save_shots(self, idx: int, before: ScreenFrame | None, after: ScreenFrame | None) -> None:
        shots: dict[str, str] = {}
        if before is not None:
            shots["before_path"] = self.recorder.screenshot(idx, "before", before)
        if after is not None:
            shots["after_path"] = self.recorder.screenshot(idx, "after", after)
        if shots:
            self.recorder.update(idx, **shots)

    def _refused(self, step: _Step, exc: AgentError) -> None:
        """A step that found no target or was refused: recorded as failed, with what it looked at."""
        action = step.action
        if not step.targets:
            self._record_what_was_seen(step.idx)
        if (isinstance(action, TypeText) and not is_secret_label(action.into.text if action.into else "")
                and not self.guard.focus and isinstance(exc, TargetNotFound)):
            # Not found, and nothing says the field is secret: the record may show what was to be typed.
            self.recorder.show_action(step.idx, action)
        self.recorder.end_step(step.idx, StepStatus.FAILED, EventKind.STEP_FAILED, str(exc), error=str(exc),
                               timings=step.timings)

    def _record_what_was_seen(self, idx: int) -> None:
        """An abstained step keeps the screenshot it looked at (the primary monitor's, or the first)."""
        views = self.reader.last_views
        if not views:
            return
        view = next((v for v in views if v.frame.geometry.monitor.primary), views[0])
        try:
            before = self.recorder.screenshot(idx, "before", view.frame)
        except AgentError:
            return  # the refusal itself is what matters; a failing disk must not hide it
        self.recorder.update(idx, before_path=before)
