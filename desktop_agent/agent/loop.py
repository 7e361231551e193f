"""The agent loop: plan, perceive, locate, ask, act, verify, record, one step at a time.

A plain object with an event callback; the CLI prints the events and the Qt app turns them into
signals. Nothing here imports Qt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from desktop_agent.agent.proposal import (
    PARTIAL_EXIT,
    AgentEvent,
    AgentSettings,
    Located,
    RunOutcome,
    StepProposal,
)
from desktop_agent.agent.risk import PASSWORD_RISK, is_secret_field, looks_selected, step_risk, tree_secret_at
from desktop_agent.approval import Approver, Decision
from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.capture.masked import MaskedScreen
from desktop_agent.capture.screen import Screen
from desktop_agent.errors import AgentError, ApprovalRefused, RunAborted, StepFailed, TargetNotFound
from desktop_agent.execution.change_words import NO_CHANGE, describe_change
from desktop_agent.execution.input_driver import InputDriver
from desktop_agent.execution.verify import (
    TOGGLE_ROLES,
    Change,
    StateChange,
    toggle_state,
    visible_change,
    wait_until_settled,
)
from desktop_agent.geometry import Monitor, Point, Rect
from desktop_agent.grounding.instruction import parse_instruction
from desktop_agent.grounding.locate import LocateResult, locate_target
from desktop_agent.perception.accessibility.fusion import TreeView
from desktop_agent.perception.accessibility.reader import PendingRead, TreeReader
from desktop_agent.perception.accessibility.source import AccessibilityError, AccessibilitySource
from desktop_agent.perception.elements import Element, ElementKind
from desktop_agent.perception.parser import ScreenParser
from desktop_agent.planning.actions import (
    Action,
    AskUser,
    Click,
    Done,
    Drag,
    Press,
    Scroll,
    Target,
    TypeText,
    Wait,
    WaitFor,
    action_targets,
)
from desktop_agent.planning.decision import PlanRejected
from desktop_agent.planning.planner import HistoryEntry, PlanContext, PlannedStep, Planner, ScreenView
from desktop_agent.runs.store import RunStore
from desktop_agent.secret_fields import MASK, is_secret_label, is_secret_role, redact_task

# Budgets of the accessibility read that asks whether a typing target is a password field: the usual one,
# then a longer one when the first was cut short.
SECRET_READ_BUDGETS_S = (0.15, 1.0)

class Agent:
    def __init__(self, screen: Screen, parser: ScreenParser, driver: InputDriver, store: RunStore,
                 approver: Approver, settings: AgentSettings | None = None,
                 on_event: Callable[[AgentEvent], None] | None = None,
                 accessibility: AccessibilitySource | None = None) -> None:
        self.screen = screen
        self.parser = parser
        self.driver = driver
        self.store = store
        self.approver = approver
        self.settings = settings or AgentSettings()
        self.on_event = on_event or (lambda e: None)
        # The platform's accessibility tree, fused with the pixels at every look at the screen (exact names,
        # roles, states; a password field by its role); None: pixels only.
        self.accessibility = accessibility
        self._tree = TreeReader(accessibility) if accessibility is not None else None
        self._abort = threading.Event()
        self._resumed = threading.Event()  # cleared while paused
        self._resumed.set()
        self._parsers: dict[int, ScreenParser] = {}
        self._plan_views: dict[int, ScreenView] = {}  # what a looking planner was shown this step
        self._run_id = ""
        self._task = ""  # as recorded: secrets masked
        self._secret_texts: set[str] = set()  # text typed into secret fields this run, never written
        self._secret_focus = False  # the last click went into a secret field
        self._last_views: list[ScreenView] = []  # what the last locate looked at (for an abstained step)

    # -- control -----------------------------------------------------------------------------------
    def abort(self) -> None:
        """Stop the run at the next safe point (between or during a step); no further input is sent."""
        self._abort.set()

    def pause(self) -> None:
        """Hold the run at the next safe point (no input is sent while paused) until resume()."""
        self._resumed.clear()

    def resume(self) -> None:
        self._resumed.set()

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    def _check_abort(self) -> None:
        if self._abort.is_set():
            raise RunAborted("run stopped on request")
        if not self._resumed.is_set():
            self.on_event(AgentEvent("paused", self._run_id))
            while not self._resumed.wait(0.1):
                if self._abort.is_set():
                    raise RunAborted("run stopped on request")
            self.on_event(AgentEvent("resumed", self._run_id))

    def _emit(self, kind: str, run_id: str, step: int | None = None, message: str = "", **data: Any) -> None:
        self.on_event(AgentEvent(kind, run_id, step, message, data))

    # -- perception --------------------------------------------------------------------------------
    def _parser_for(self, monitor: Monitor) -> ScreenParser:
        p = self._parsers.get(monitor.index)
        if p is None:
            # One memory per monitor (incremental parses), one set of models for all.
            p = self.parser if not self._parsers else ScreenParser(self.parser.ocr, self.parser.detector,
                                                                   self.parser.icons or False)
            self._parsers[monitor.index] = p
        return p

    def _settled(self, monitor: Monitor) -> ScreenFrame:
        frames: list[ScreenFrame] = []

        def grab() -> np.ndarray:
            frames.append(self.screen.grab(monitor))
            return frames[-1].image

        wait_until_settled(grab, self.settings.settle_timeout, abort=self._abort.is_set)
        return frames[-1]

    def _perceive(self, timings: dict[str, float]) -> list[ScreenView]:
        out = []
        layout = self.screen.layout()
        pending: PendingRead | None = None
        for monitor in layout.monitors:
            t0 = time.perf_counter()
            frame = self._settled(monitor)
            if pending is None and self._tree is not None:
                # Once the screen is still: the tree is read while the pixels are parsed.
                pending = self._tree.start(layout)
            t1 = time.perf_counter()
            parsed = self._parser_for(monitor).parse(frame.image, tree=self._tree_view(pending, frame))
            if isinstance(self.screen, MaskedScreen):
                # The app's own windows are blanked in the capture; nothing there is a target.
                masks = self.screen.masks_in(frame)
                if masks:
                    parsed = replace(parsed, elements=[e for e in parsed.elements
                                                       if not any(m.contains(e.bbox.center) for m in masks)])
            t2 = time.perf_counter()
            timings["settle_capture"] = timings.get("settle_capture", 0.0) + (t1 - t0) * 1000
            timings["parse"] = timings.get("parse", 0.0) + (t2 - t1) * 1000
            for k, v in parsed.timings.items():
                if k != "total":
                    timings[f"parse_{k}"] = timings.get(f"parse_{k}", 0.0) + v
            out.append(ScreenView(frame, parsed))
        return out

    @staticmethod
    def _tree_view(pending: PendingRead | None, frame: ScreenFrame) -> Callable[[], TreeView | None] | None:
        """What the parser fuses for one frame: the pending read's view of it, if it comes back in time."""
        if pending is None:
            return None

        def view() -> TreeView | None:
            read = pending.result()
            return read.view(frame.geometry) if read is not None else None

        return view

    def _locate(self, target: Target, timings: dict[str, float], prefer: ElementKind | None = None) -> Located:
        if target.element_id is not None or target.x is not None:
            return self._locate_picked(target, timings)
        views = self._perceive(timings)
        self._last_views = views
        t0 = time.perf_counter()
        try:
            best: tuple[ScreenView, LocateResult] | None = None
            reasons = []
            for view in views:
                try:
                    res = locate_target(view.parsed, target.text or "", prefer=prefer)
                except TargetNotFound as exc:
                    reasons.append(str(exc))
                    continue
                if best is None or res.score > best[1].score:
                    best = (view, res)
            if best is None:
                raise TargetNotFound(reasons[0] if reasons else f"{target.describe()} is not on screen")
            view, res = best
            return Located(target, view.frame, res, view.frame.geometry.to_desktop(res.point), view.parsed)
        finally:
            timings["locate"] = timings.get("locate", 0.0) + (time.perf_counter() - t0) * 1000

    def _locate_picked(self, target: Target, timings: dict[str, float]) -> Located:
        """A target a model planner picked on the screen it was shown: an element there, or (last resort)
        a point in that screenshot. Refused if the screen has changed under it since."""
        view = self._plan_views.get(target.monitor if target.monitor is not None else -1)
        if view is None:
            raise TargetNotFound(f"{target.describe()}: monitor {target.monitor} was not part of the planned screen")
        if target.element_id is not None:
            el = next((e for e in view.parsed.elements if e.id == target.element_id), None)
            if el is None:
                raise TargetNotFound(f"no element #{target.element_id} on the screen the planner saw")
            res = LocateResult(el.bbox.center, el.bbox, 1.0, el, parse_instruction(el.text or target.label or "?"))
        else:
            assert target.x is not None and target.y is not None
            p = Point(target.x + 0.5, target.y + 0.5)
            if not (0 <= p.x < view.frame.width and 0 <= p.y < view.frame.height):
                raise TargetNotFound(f"{target.describe()} is off the screen of monitor {target.monitor}")
            box = Rect(p.x - 4, p.y - 4, p.x + 4, p.y + 4)
            el = Element(-1, ElementKind.CONTAINER, box, "", 0.0, "planner point")
            res = LocateResult(p, box, 0.0, el, parse_instruction("point"))
        t0 = time.perf_counter()
        now = self.screen.grab(view.frame.geometry.monitor)
        region = res.element.bbox.expanded(6) if res.element.id >= 0 else res.bbox
        change = visible_change(view.frame.image, now.image, region)
        timings["locate"] = timings.get("locate", 0.0) + (time.perf_counter() - t0) * 1000
        if change.changed and change.pixels > 0.25 * max(region.area, 1):
            raise TargetNotFound(f"{target.describe()} changed on screen since the planner looked "
                                 f"({change.pixels} px); not clicking a guess")
        return Located(target, view.frame, res, view.frame.geometry.to_desktop(res.point), view.parsed)

    # -- the loop ----------------------------------------------------------------------------------
    def run(self, task: str, planner: Planner, approve_mode: str = "ask") -> RunOutcome:
        self._abort.clear()
        self._plan_views = {}
        layout = self.screen.layout()
        screens = [{"index": m.index, "left": m.left, "top": m.top, "width": m.width, "height": m.height,
                    "scale": m.scale, "primary": m.primary} for m in layout.monitors]
        self._secret_texts, self._secret_focus = set(), False
        # What is written and shown: every typed text masked (a field may turn out secret only once it is
        # on screen; each step's record shows its text once its field is known not to be). The planner
        # gets the real task.
        self._task = redact_task(task, all_typed=True)
        run_id = self.store.start_run(self._task, planner.name, approve_mode, screens)
        self._run_id = run_id
        self._emit("run_started", run_id, message=self._task, planner=planner.name)
        history: list[HistoryEntry] = []
        approve_rest = False
        idx = 0
        rejected_in_a_row = 0
        status, message, code = "succeeded", "", 0
        try:
            while True:
                self._check_abort()
                if idx >= self.settings.max_steps and planner.needs_screen:
                    # A model planner is not asked again past the limit (it costs a model call).
                    raise StepFailed(f"stopped after --max-steps {self.settings.max_steps} steps")
                plan_timings: dict[str, float] = {}
                views: list[ScreenView] = []
                if planner.needs_screen:
                    self._emit("status", run_id, idx, "reading the screen")
                    views = self._perceive(plan_timings)
                    self._plan_views = {v.monitor_index: v for v in views}
                    self._emit("status", run_id, idx, "asking the model")
                self._check_abort()
                try:
                    planned = planner.next_step(PlanContext(task, idx, history, views, self._abort.is_set))
                except PlanRejected as exc:
                    rejected_in_a_row += 1
                    self._record_rejection(run_id, idx, exc, plan_timings)
                    history.append(HistoryEntry(None, f"rejected: {exc}"))
                    idx += 1
                    if rejected_in_a_row >= self.settings.max_rejections:
                        raise StepFailed(f"the model gave {rejected_in_a_row} unusable answers in a row; "
                                         f"the last: {exc}") from None
                    continue
                rejected_in_a_row = 0
                if idx >= self.settings.max_steps and planned is not None and not isinstance(planned.action, Done):
                    raise StepFailed(f"stopped after --max-steps {self.settings.max_steps} steps")
                if planned is None or isinstance(planned.action, Done):
                    if planned is not None:
                        message = planned.action.summary  # type: ignore[union-attr]
                        if planned.usage:  # the model's last answer costs tokens too
                            self._record_done(run_id, idx, planned, plan_timings)
                    break
                if isinstance(planned.action, AskUser):
                    self._ask_user(run_id, idx, planned, history, plan_timings)
                    idx += 1
                    continue
                try:
                    approve_rest = self._run_step(run_id, idx, planned, approve_rest, history, plan_timings)
                except (TargetNotFound, StepFailed) as exc:
                    if not planner.recovers:
                        raise
                    # A model planner gets the failure back, with a bound on repeating it.
                    if not history or history[-1].action is not planned.action:
                        history.append(HistoryEntry(planned.action, f"failed: {exc}", planned.reason))
                    self._check_loop(run_id, idx, planned, history)
                idx += 1
            skipped = sum(1 for h in history if h.outcome == "skipped")
            unseen = sum(1 for h in history if h.outcome.startswith("done, no visible change"))
            if skipped:
                # The person's choice, but not every step ran: say so in the status and the exit code.
                status, code = "partial", PARTIAL_EXIT
                message = message or f"{idx - skipped} steps ran and were verified, {skipped} skipped"
            if unseen and not message:
                message = (f"all {idx} steps ran; {idx - unseen} verified on screen, {unseen} with no visible "
                           "change (a shortcut acting out of sight, or a target already selected)")
            message = message or f"all {idx} steps ran and were verified"
        except RunAborted as exc:
            status, message, code = "aborted", str(exc), exc.exit_code
        except KeyboardInterrupt:
            status, message, code = "aborted", "interrupted with Ctrl+C", RunAborted.exit_code
        except AgentError as exc:
            status, message, code = "failed", str(exc), exc.exit_code
        except Exception as exc:
            if type(exc).__name__ == "FailSafeException":
                status, message, code = "aborted", "pyautogui fail-safe: mouse moved to a screen corner", 130
            else:
                self.store.finish_run(run_id, "failed", f"internal error: {exc!r}")
                raise
        finally:
            self._plan_views = {}
        self.store.finish_run(run_id, status, message)
        self._emit("run_finished", run_id, message=message, status=status, exit_code=code)
        return RunOutcome(run_id, status, message, code, idx)

    def _record_rejection(self, run_id: str, idx: int, exc: PlanRejected, timings: dict[str, float]) -> None:
        self.store.add_step(run_id, idx, {"action": "rejected", "raw": exc.raw[:4000]}, "Model answer rejected", "")
        self.store.update_step(run_id, idx, status="rejected", error=str(exc), usage=dict(exc.usage),
                               timings=timings, ended_at=time.time())
        self._emit("step_rejected", run_id, idx, str(exc), usage=dict(exc.usage))

    def _record_done(self, run_id: str, idx: int, planned: PlannedStep, timings: dict[str, float]) -> None:
        self.store.add_step(run_id, idx, planned.action.model_dump(), planned.action.describe(), planned.reason)
        self.store.update_step(run_id, idx, status="verified", usage=dict(planned.usage), timings=timings,
                               ended_at=time.time())
        self._emit("step_done", run_id, idx, planned.action.describe(), usage=dict(planned.usage))

    def _ask_user(self, run_id: str, idx: int, planned: PlannedStep, history: list[HistoryEntry],
                  timings: dict[str, float]) -> None:
        action = planned.action
        assert isinstance(action, AskUser)
        self.store.add_step(run_id, idx, action.model_dump(), action.describe(), planned.reason)
        self.store.update_step(run_id, idx, usage=dict(planned.usage), timings=timings)
        self._emit("step_planned", run_id, idx, action.describe(), reason=planned.reason, usage=dict(planned.usage))
        answer = self.approver.answer(action.question)
        if answer is None:
            self.store.update_step(run_id, idx, status="failed", error="no one answered", ended_at=time.time())
            raise StepFailed(f"the planner asks: {action.question} (no one to answer; nothing more was done)")
        self.store.update_step(run_id, idx, status="answered", verify={"answer": answer}, ended_at=time.time())
        history.append(HistoryEntry(action, f"answered: {answer}", planned.reason))
        self._emit("step_answered", run_id, idx, answer)

    def _check_loop(self, run_id: str, idx: int, planned: PlannedStep, history: list[HistoryEntry]) -> None:
        """The same action failing again and again is a loop: ask the person, or stop."""
        words = planned.action.describe()
        fails = sum(1 for h in history if h.action is not None and h.action.describe() == words
                    and h.outcome.startswith("failed"))
        if fails < self.settings.max_repeats:
            return
        question = f"The agent tried {words!r} {fails} times and it failed each time. What should it do instead?"
        answer = self.approver.answer(question)
        if answer is None:
            raise StepFailed(f"the planner repeated a failing step {fails} times: {words}")
        history.append(HistoryEntry(None, f"stopped by loop detection; the person says: {answer}"))
        self._emit("step_answered", run_id, idx, answer)

    def _shown(self, action: Action) -> Action:
        """The action as it may be written and shown: typed text hidden until the field is known not to
        be secret, and every secret typed this run masked."""
        if isinstance(action, TypeText):
            return action.model_copy(update={"text": MASK})
        return action

    def _keep_secret(self, run_id: str, text: str) -> None:
        """Remember a secret typed this run; mask it in the recorded task if it is there."""
        if not text:
            return
        self._secret_texts.add(text)
        if text in self._task:
            self._task = redact_task(self._task, tuple(self._secret_texts))
            self.store.set_task(run_id, self._task)

    def _run_step(self, run_id: str, idx: int, planned: PlannedStep, approve_rest: bool,
                  history: list[HistoryEntry], plan_timings: dict[str, float] | None = None) -> bool:
        action = planned.action
        timings: dict[str, float] = {f"plan_{k}": v for k, v in (plan_timings or {}).items()}
        shown = self._shown(action)
        self.store.add_step(run_id, idx, shown.model_dump(), shown.describe(), planned.reason)
        if planned.usage:
            self.store.update_step(run_id, idx, usage={**planned.usage, "confidence": planned.confidence})
        self._emit("step_planned", run_id, idx, shown.describe(), reason=planned.reason,
                   confidence=planned.confidence, usage=dict(planned.usage))
        step_t0 = time.perf_counter()
        targets: list[Located] = []
        try:
            if isinstance(action, WaitFor):
                loc = self._wait_for(action, timings)
                self._record_target(run_id, idx, [loc], timings)
                self.store.update_step(run_id, idx, status="verified", verify={"found": True},
                                       timings=timings, ended_at=time.time())
                history.append(HistoryEntry(action, "verified", planned.reason))
                self._emit("step_done", run_id, idx, f"found {loc.result.element.text!r}")
                return approve_rest
            prefer = ElementKind.INPUT if isinstance(action, TypeText) else None
            targets = [self._locate(t, timings, prefer) for t in action_targets(action)]
            self._record_target(run_id, idx, targets, timings)
            # Only typing asks the tree (one bounded read): the field at the target, or the focused one.
            platform_secret = isinstance(action, TypeText) and self._platform_secret(targets[0] if targets else None)
            proposal = StepProposal(idx, planned, targets,
                                    step_risk(planned, targets, self._secret_focus, platform_secret))
            secret = proposal.risk == PASSWORD_RISK and isinstance(action, TypeText)
            if secret:
                # The secret is typed, never written down: not in the record, the events or the model's history.
                assert isinstance(action, TypeText)
                self._keep_secret(run_id, action.text)
                action = shown
            elif isinstance(action, TypeText):
                self.store.update_step(run_id, idx, action=action.model_dump(), description=action.describe())
            self._emit("step_located", run_id, idx, StepProposal(idx, PlannedStep(action), targets).plain_words(),
                       targets=[t.to_dict() for t in targets], risk=proposal.risk)
            self._check_abort()
            if not approve_rest or proposal.risk:
                t0 = time.perf_counter()
                decision = self.approver.decide(proposal)
                timings["approval"] = (time.perf_counter() - t0) * 1000
                if decision == Decision.QUIT:
                    raise RunAborted("stopped at the approval prompt")
                if decision == Decision.SKIP:
                    self.store.update_step(run_id, idx, status="skipped", timings=timings, ended_at=time.time())
                    history.append(HistoryEntry(action, "skipped", planned.reason))
                    self._emit("step_skipped", run_id, idx, "skipped")
                    return approve_rest
                approve_rest = approve_rest or decision == Decision.APPROVE_REST
            to_run = self._apply_edits(run_id, idx, proposal, targets, timings)
            if secret and isinstance(to_run, TypeText):
                self._keep_secret(run_id, to_run.text)
            self.store.update_step(run_id, idx, status="approved")
            self._check_abort()
            change, before, after = self._act_and_verify(run_id, idx, to_run, targets, timings)
            self._track_focus(to_run, targets, secret)
            return self._record_outcome(run_id, idx, planned, action, targets, change, before, after, timings,
                                        step_t0, history, approve_rest)
        except (TargetNotFound, ApprovalRefused) as exc:
            if not targets:
                self._record_what_was_seen(run_id, idx)
            if (isinstance(action, TypeText) and not is_secret_label(action.into.text if action.into else "")
                    and not self._secret_focus and isinstance(exc, TargetNotFound)):
                # Not found, and nothing says the field is secret: the record may show what was to be typed.
                self.store.update_step(run_id, idx, action=action.model_dump(), description=action.describe())
            self.store.update_step(run_id, idx, status="failed", error=str(exc), timings=timings,
                                   ended_at=time.time())
            self._emit("step_failed", run_id, idx, str(exc))
            raise
        except StepFailed as exc:
            self._emit("step_failed", run_id, idx, str(exc))
            raise

    def _record_what_was_seen(self, run_id: str, idx: int) -> None:
        """An abstained step keeps the screenshot it looked at (the primary monitor's, or the first)."""
        if not self._last_views:
            return
        view = next((v for v in self._last_views if v.frame.geometry.monitor.primary), self._last_views[0])
        try:
            before = self.store.save_screenshot(run_id, idx, "before", view.frame)
        except AgentError:
            return  # the refusal itself is what matters; a failing disk must not hide it
        self.store.update_step(run_id, idx, before_path=before)

    def _platform_secret(self, loc: Located | None) -> bool:
        """Whether the accessibility tree says the control at a target (or, with none, the focused control)
        is a password field, by its role or its secret state. Bounded by the read's budget; a source that
        fails is not asked again this run."""
        el = _tree_element_at(loc) if loc is not None else None
        if el is not None and ("secret" in el.states or is_secret_role(el.role)):
            return True  # the fused element carries the tree's word already: no second read
        if self.accessibility is None:
            return False
        try:
            # Safety is not traded for speed: a read cut short by its budget (a busy machine, a large app)
            # is done again with a second's budget before the field is taken for an ordinary one.
            for budget in SECRET_READ_BUDGETS_S:
                snap = self.accessibility.read(budget_s=budget, within=self.screen.layout())
                if snap.complete:
                    break
        except AccessibilityError:
            self.accessibility = None
            return False
        if loc is None:
            return any(n.states.focused and (n.states.secret or is_secret_role(n.role)) for n in snap.nodes)
        return tree_secret_at(snap.nodes, loc.desktop)

    def _track_focus(self, action: Action, targets: list[Located], secret: bool) -> None:
        """Where typing with no target goes next: into a secret field after a click on one."""
        if isinstance(action, Click) and targets:
            self._secret_focus = secret or is_secret_field(targets[0])
        elif isinstance(action, TypeText):
            self._secret_focus = secret if action.into is not None else self._secret_focus
        elif isinstance(action, Drag) or (
                isinstance(action, Press) and {k.lower() for k in action.keys} & {"tab", "enter", "esc"}):
            self._secret_focus = False

    def _record_outcome(self, run_id: str, idx: int, planned: PlannedStep, action: Action, targets: list[Located],
                        change: Change, before: ScreenFrame | None, after: ScreenFrame | None,
                        timings: dict[str, float], step_t0: float, history: list[HistoryEntry],
                        approve_rest: bool) -> bool:
        """Write what a sent step did (verified, unverified or failed) with its screenshots."""
        timings["step"] = (time.perf_counter() - step_t0) * 1000
        shots: dict[str, Any] = {}
        if before is not None and not targets:
            shots["before_path"] = self.store.save_screenshot(run_id, idx, "before", before)
        if after is not None:
            shots["after_path"] = self.store.save_screenshot(run_id, idx, "after", after)
        if shots:
            self.store.update_step(run_id, idx, **shots)
        if isinstance(action, Wait):
            detail = f"waited {action.seconds:g} s"
            self.store.update_step(run_id, idx, status="verified", verify={"detail": detail}, timings=timings,
                                   ended_at=time.time())
            history.append(HistoryEntry(action, "done", planned.reason))
            self._emit("step_done", run_id, idx, detail, timings=timings)
            return approve_rest
        verify: dict[str, Any] = {"changed": change.changed, "pixels": change.pixels,
                                  "bbox": change.bbox.as_list() if change.bbox else None,
                                  "detail": change.describe()}
        toggle = self._toggle_after(action, targets)
        if toggle is not None:
            verify["tree"] = toggle.to_dict()
            verify["detail"] = f"{verify['detail']}; {toggle.describe()}"
            if toggle.changed and not change.changed:
                change = Change(True, 0, None)  # the app says the toggle flipped: the step did its work
        t_words = time.perf_counter()
        words = self._outcome_words(action, targets, change, before, after, toggle)
        self.store.update_step(run_id, idx, outcome=words)
        timings["outcome"] = (time.perf_counter() - t_words) * 1000
        unchanged_why = ""
        if not change.changed and isinstance(action, Press):
            # Shortcuts often act out of sight (save, copy): record it honestly, do not fail the run.
            unchanged_why = "no visible change (a shortcut may act out of sight)"
        elif (not change.changed and isinstance(action, Click) and action.action == "click" and targets
              and looks_selected(targets[0])):
            # Clicking what is already selected changes nothing: the step's aim already holds.
            unchanged_why = "no visible change: the target was already selected"
        if unchanged_why:
            verify["detail"] = unchanged_why
            self.store.update_step(run_id, idx, status="unverified", verify=verify, timings=timings,
                                   ended_at=time.time())
            history.append(HistoryEntry(action, f"done, {unchanged_why}", planned.reason))
            self._emit("step_done", run_id, idx, unchanged_why, timings=timings, outcome=words)
            return approve_rest
        if not change.changed:
            self.store.update_step(run_id, idx, status="failed", verify=verify, timings=timings,
                                   error="no visible effect", ended_at=time.time())
            history.append(HistoryEntry(action, "failed: no visible effect", planned.reason))
            raise StepFailed(f"step {idx + 1} ({action.describe()}) had no visible effect on the screen")
        self.store.update_step(run_id, idx, status="verified", verify=verify, timings=timings,
                               ended_at=time.time())
        history.append(HistoryEntry(action, "verified", planned.reason))
        self._emit("step_done", run_id, idx, change.describe(), timings=timings, outcome=words)
        return approve_rest

    def _outcome_words(self, action: Action, targets: list[Located], change: Change, before: ScreenFrame | None,
                       after: ScreenFrame | None, toggle: StateChange | None) -> str:
        """The step's effect in words, from the text read in the changed area before and after (secrets
        masked); the app's word for a toggle. Never fails the step: words it cannot find are left out."""
        if toggle is not None:
            return toggle.describe()
        if not change.changed or change.bbox is None or before is None or after is None:
            return NO_CHANGE if not change.changed else "the screen changed"
        first = targets[0] if targets and targets[0].monitor.index == after.geometry.monitor.index else None
        try:
            return describe_change(before.image, after.image, change.bbox, self.parser.ocr,
                                   first.result.bbox if first is not None else None,
                                   typed_into=isinstance(action, TypeText) and first is not None,
                                   secret_field=isinstance(action, TypeText) and action.text == MASK,
                                   secrets=self._secret_texts).words
        except Exception:  # words are a courtesy: a failing read leaves the step's record as it is
            return ""

    def _toggle_after(self, action: Action, targets: list[Located]) -> StateChange | None:
        """A clicked check box's (radio button's, switch's) checked state read back from the accessibility
        tree, against the fused element's before: one bounded read, for toggles the tree named only."""
        if self._tree is None or not isinstance(action, Click) or not targets:
            return None
        el = _tree_element_at(targets[0])
        if el is None or el.role not in TOGGLE_ROLES:
            return None
        read = self._tree.read(self.screen.layout())
        if read is None:
            return None
        return toggle_state(read.snapshot, targets[0].desktop, el.role, "", "checked" in el.states)

    def _apply_edits(self, run_id: str, idx: int, proposal: StepProposal, targets: list[Located],
                     timings: dict[str, float]) -> Action:
        """What the person changed at the approval prompt: the target point, or the text to type."""
        action = proposal.action
        if proposal.edited_point is not None and targets:
            first, p = targets[0], proposal.edited_point
            if not (0 <= p.x < first.frame.width and 0 <= p.y < first.frame.height):
                raise TargetNotFound(f"the edited point ({p.x:.0f}, {p.y:.0f}) is off the screenshot")
            box = Rect(p.x - 4, p.y - 4, p.x + 4, p.y + 4)
            el = Element(-1, ElementKind.CONTAINER, box, "", 1.0, "person")
            res = LocateResult(p, box, 1.0, el, parse_instruction("point"))
            targets[0] = Located(first.target, first.frame, res, first.frame.geometry.to_desktop(p), first.parsed)
            self._record_target(run_id, idx, targets, timings)
        if proposal.edited_text is not None and isinstance(action, TypeText):
            action = action.model_copy(update={"text": proposal.edited_text})
            if proposal.risk != PASSWORD_RISK:
                self.store.update_step(run_id, idx, action=action.model_dump(), description=action.describe())
        return action

    def _record_target(self, run_id: str, idx: int, targets: list[Located], timings: dict[str, float]) -> None:
        if not targets:
            self.store.update_step(run_id, idx, timings=timings)
            return
        first = targets[0]
        before = self.store.save_screenshot(run_id, idx, "before", first.frame)
        info = first.to_dict()
        if len(targets) > 1:
            info["more"] = [t.to_dict() for t in targets[1:]]
        self.store.update_step(run_id, idx, target=info, before_path=before, timings=timings)

    def _wait_for(self, action: WaitFor, timings: dict[str, float]) -> Located:
        deadline = time.monotonic() + min(action.timeout, self.settings.wait_for_timeout)
        while True:
            self._check_abort()
            try:
                return self._locate(action.target, timings)
            except TargetNotFound:
                if time.monotonic() > deadline:
                    raise TargetNotFound(f"{action.target.describe()} did not appear within "
                                         f"{min(action.timeout, self.settings.wait_for_timeout):g} s") from None
                time.sleep(0.25)

    def _act_and_verify(self, run_id: str, idx: int, action: Action, targets: list[Located],
                        timings: dict[str, float]) -> tuple[Change, ScreenFrame | None, ScreenFrame | None]:
        """Send the input, then watch for its effect. Returns the change and the before/after frames
        of the monitor where it showed (or the target's). The step is `sending` (committed) before the
        first input event and `sent` once the input is out."""
        drv = self.driver
        if isinstance(action, Wait):
            end = time.monotonic() + action.seconds
            while time.monotonic() < end:
                self._check_abort()
                time.sleep(min(0.1, max(0.0, end - time.monotonic())))
            return Change(False, 0, None), None, None
        first = targets[0] if targets else None
        self.store.update_step(run_id, idx, status="sending")
        # Put the pointer on the target first so hover effects are in the "before" picture, not
        # mistaken for the action's effect.
        if first is not None and not isinstance(action, TypeText | Drag):
            drv.move(first.desktop)
        if isinstance(action, TypeText) and first is not None:
            drv.click(first.desktop)
            self._settled(first.monitor)
        t0 = time.perf_counter()
        before = {mon.index: self._settled(mon) for mon in self.screen.layout().monitors}
        timings["pre_act_settle"] = (time.perf_counter() - t0) * 1000
        self._check_abort()
        t1 = time.perf_counter()
        if isinstance(action, Click):
            assert first is not None
            button = "right" if action.action == "right_click" else "left"
            drv.click(first.desktop, button=button, count=2 if action.action == "double_click" else 1)
        elif isinstance(action, TypeText):
            drv.type_text(action.text)
        elif isinstance(action, Press):
            drv.press(action.keys)
        elif isinstance(action, Scroll):
            clicks = action.amount if action.direction == "up" else -action.amount
            drv.scroll(first.desktop if first else None, clicks)
        elif isinstance(action, Drag):
            drv.drag(targets[0].desktop, targets[1].desktop)
        else:
            raise StepFailed(f"the executor cannot run {action.describe()!r}")
        timings["act"] = (time.perf_counter() - t1) * 1000
        self.store.update_step(run_id, idx, status="sent")
        t2 = time.perf_counter()
        change, after = self._verify(before, first)
        timings["verify"] = (time.perf_counter() - t2) * 1000
        return change, before[after.geometry.monitor.index], after

    def _verify(self, before: dict[int, ScreenFrame], first: Located | None) -> tuple[Change, ScreenFrame]:
        layout = self.screen.layout()
        order = sorted(layout.monitors, key=lambda m: 0 if first is not None and m.index == first.monitor.index else 1)
        deadline = time.monotonic() + self.settings.verify_timeout
        best = Change(False, 0, None)
        after_frame: ScreenFrame | None = None
        while True:
            for mon in order:
                frame = self.screen.grab(mon)
                ch = visible_change(before[mon.index].image, frame.image)
                if ch.changed:
                    after_frame = self._settled(mon)
                    best = visible_change(before[mon.index].image, after_frame.image)
                    if not best.changed:
                        best = ch
                    break
            if best.changed or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if after_frame is None:
            after_frame = self.screen.grab(order[0])
        return best, after_frame


def _tree_element_at(loc: Located) -> Element | None:
    """The element the accessibility tree named where a target is clicked: the smallest fused element
    with a role around the point (a phrase pieced from several elements carries its first piece's)."""
    elements = loc.parsed.elements if loc.parsed is not None else [loc.result.element]
    hits = [e for e in elements if e.role and e.bbox.contains(loc.result.point)]
    return min(hits, key=lambda e: e.bbox.area) if hits else None
