"""`desktop-agent eval tasks`: every task on a fresh desktop, run by the real agent (the `desktop-agent run`
command, in its own process on the task's display), checked where a user would look, and reported."""

from __future__ import annotations

import html
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from desktop_agent.config import EMULATE_SCALE_ENV, ENV_NAMES
from desktop_agent.errors import AgentError, StepFailed, StepSkipped, TargetNotFound, TaskSkipped, one_line
from desktop_agent.evaluation.reference import (
    ReferenceRecording,
    ReferenceStep,
    load_reference,
    recording_from_run,
    reference_path,
    replay,
)
from desktop_agent.evaluation.task_checks import check_outcome
from desktop_agent.evaluation.task_env import TaskEnvironment, private_tmp_supported
from desktop_agent.evaluation.task_suite import TaskSpec
from desktop_agent.planning.actions import TypeText
from desktop_agent.planning.script import parse_step, split_steps
from desktop_agent.runs.store import RunStore, StepRow

SCALE_ENV = EMULATE_SCALE_ENV


# Failure kinds, each read from evidence (the run's exit code, which says which exception ended it, its
# recorded steps, and the reference run's target boxes), never from the wording of a message.
TIMEOUT, ABSTAINED, WRONG_ELEMENT = "timeout", "abstained", "wrong element"
LOST_INPUT, NO_EFFECT, WRONG_OUTCOME, ERROR = "lost input", "no effect", "wrong outcome", "error"
UNREACHED = "not reached"  # step-controlled: no known-good input leads to the state before this step
SKIPPED = "skipped"  # the task's app does not run in this kind of session (an X11-only app on Wayland)


@dataclass
class TaskResult:
    """One task's result: success, the failure's kind and detail, steps, time and tokens."""

    name: str
    success: bool  # the whole task: its checks passed and the run ended cleanly
    failure: str  # "" or one of the kinds above (step-controlled with a model: "planned differently")
    detail: str
    steps: int
    seconds: float
    tokens: int = 0
    run_id: str = ""
    exit_code: int | None = None
    # Step-controlled mode: each reference step alone (None: not scored, no known-good input reaches it)
    step_results: list[bool | None] = field(default_factory=list)
    step_notes: list[str] = field(default_factory=list)  # why a step missed (a failure kind, or the plan's)
    reference_run: str = ""  # step-controlled: the verified run whose input events were replayed

    @property
    def verdict(self) -> str:
        """"ok", "FAIL" or "SKIP" (the task could not run in this session), four characters wide."""
        return "ok  " if self.success else "SKIP" if self.failure == SKIPPED else "FAIL"

    @property
    def seconds_per_step(self) -> float:
        """Seconds per recorded step (0 without steps)."""
        return self.seconds / self.steps if self.steps else 0.0


def _on_target(row: StepRow, ref: ReferenceStep) -> bool | None:
    """Whether a step's input points fell on the reference step's targets (None: nothing to compare)."""
    if not row.target or not ref.targets:
        return None
    points = [row.target, *row.target.get("more", [])]
    if len(points) != len(ref.targets):
        return False
    return all(box.holds(int(t["monitor"]), t["point"]) for t, box in zip(points, ref.targets, strict=True))


def classify_failure(code: int | None, rows: list[StepRow], ref_steps: list[ReferenceStep],
                     planner: str = "direct") -> str:
    """The kind of a failed run from its evidence: the exit code (the exception type that ended it), its
    recorded steps, and the reference steps they should match (empty where no reference is known)."""
    if code is None:
        return TIMEOUT
    if code == TargetNotFound.exit_code:
        return ABSTAINED
    aligned = list(zip(rows, ref_steps, strict=False))
    if any(_on_target(row, ref) is False for row, ref in aligned):
        return WRONG_ELEMENT
    last = rows[-1] if rows else None
    if code == StepFailed.exit_code and last is not None and last.status == "failed":
        return _failed_step_kind(rows, ref_steps)
    if code in (0, StepSkipped.exit_code):
        # Every step ran, the outcome is wrong. Each input went where the reference's went (none missed it,
        # above): some was lost.
        if planner == "direct" and ref_steps and len(rows) <= len(ref_steps):
            return LOST_INPUT
        return WRONG_OUTCOME
    return ERROR


def _failed_step_kind(rows: list[StepRow], ref_steps: list[ReferenceStep]) -> str:
    """The kind of a run that ended on a failed step (StepFailed): its input lost, without effect, or an error."""
    last = rows[-1]
    if (last.verify or {}).get("changed") is False:
        # Sent and nothing changed: on the reference's own element, the app lost the input.
        hit = len(rows) <= len(ref_steps) and _on_target(last, ref_steps[len(rows) - 1])
        return LOST_INPUT if hit else NO_EFFECT
    return ERROR


def _agent_run(env: TaskEnvironment, task: TaskSpec, text: str, planner_args: list[str], data_home: Path,
               max_steps: int, timeout: float) -> tuple[int | None, str, str]:
    """One `desktop-agent run` on the task's display. Returns (exit code or None on timeout, output, run id)."""
    run_env = env.env()
    run_env[ENV_NAMES["home"]] = str(data_home)
    if task.scale != 1 and task.emulate_scale:
        run_env[SCALE_ENV] = str(task.scale)
    before = {r.id for r in RunStore(data_home).list_runs(5)}
    cmd = [sys.executable, "-m", "desktop_agent", "run", text, "--approve", "auto", "--max-steps", str(max_steps),
           *planner_args]
    try:
        r = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=timeout, cwd=env.home)
        code: int | None = r.returncode
        out = r.stdout + r.stderr
    except subprocess.TimeoutExpired as exc:
        parts = [p.decode(errors="replace") if isinstance(p, bytes) else (p or "") for p in (exc.stdout, exc.stderr)]
        code, out = None, "".join(parts)
    store = RunStore(data_home)
    new = [r for r in store.list_runs(5) if r.id not in before]
    store.close()
    return code, out, new[0].id if new else ""


def _run_rows(data_home: Path, run_id: str) -> tuple[list[StepRow], str]:
    """A recorded run's steps and its final message ([] and "" for no run)."""
    if not run_id:
        return [], ""
    store = RunStore(data_home)
    try:
        return store.steps(run_id), store.get_run(run_id).message
    finally:
        store.close()


def _judged(task: TaskSpec, problems: list[str], code: int | None, message: str) -> tuple[list[str], str]:
    """The task's problems and the detail line: the checks' problems with how the run ended; a right outcome
    from a run that did not finish cleanly is a problem too."""
    detail = "; ".join(problems) if problems else "checked"
    if problems and message:
        detail = f"{detail} (run: {message})"
    elif problems and code is None:
        detail = f"{detail} (over the {task.time_limit:g} s limit)"
    elif not problems and code != 0:
        # The outcome is right but the agent did not finish cleanly: not a success either.
        problems = [f"the outcome is right but the run ended: {message or 'over the time limit'}"]
        detail = problems[0]
    return problems, detail


def run_task(task: TaskSpec, data_home: Path, planner: str = "direct", planner_args: list[str] | None = None,
             reference: ReferenceRecording | None = None,
             environment: type[TaskEnvironment] = TaskEnvironment) -> TaskResult:
    """The whole task in one run. A failure's kind is told against `reference` (for the direct planner: the
    stored reference run of this task when none is given)."""
    planner_args = ["--planner", planner, *(planner_args or [])]
    text = task.script if planner == "direct" else task.goal
    if reference is None and planner == "direct":
        reference = load_reference(data_home, task)
    t0 = time.monotonic()
    env = environment(task)  # AccessibleTaskEnvironment: `eval tasks --accessibility on`
    try:
        with env:
            code, out, run_id = _agent_run(env, task, text, planner_args, data_home, task.max_steps, task.time_limit)
            time.sleep(0.5)  # the app writes its file or settings
            problems = check_outcome(env, list(task.check))
    finally:
        env.cleanup()
    seconds = time.monotonic() - t0
    rows, message = _run_rows(data_home, run_id)
    tokens = int(sum(s.usage.get("prompt_tokens", 0) + s.usage.get("completion_tokens", 0) for s in rows))
    problems, detail = _judged(task, problems, code, message)
    kind = classify_failure(code, rows, reference.steps if reference and planner == "direct" else [], planner) \
        if problems else ""
    if problems and code is not None and not run_id:
        detail = f"{detail} (agent: {one_line(out)[-200:]})"
    return TaskResult(task.name, not problems, kind, detail, len(rows), seconds, tokens, run_id, code)


def _first_step(data_home: Path, run_id: str) -> tuple[StepRow | None, str]:
    if not run_id:
        return None, "the run did not start"
    rows, message = _run_rows(data_home, run_id)
    return (rows[0] if rows else None), message


def _inside(point: list[float], box: list[float], margin: float = 4.0) -> bool:
    return box[0] - margin <= point[0] <= box[2] + margin and box[1] - margin <= point[1] <= box[3] + margin


def plan_matches(ref: StepRow, got: StepRow | None, message: str = "") -> tuple[bool, str]:
    """Whether a planner's step does what the reference step does on the same screen: the same action, on
    the element the reference step's grounding found (the planner's point inside it), with the same text or
    keys. Returns (match, why not)."""
    if got is None:
        return False, f"planned nothing ({message})" if message else "planned nothing"
    why = _other_action(ref, got) or _other_target(ref, got)
    return not why, why


def _other_action(ref: StepRow, got: StepRow) -> str:
    """How the planned action differs from the reference's (kind, text, keys, direction); "" when it does not."""
    want, have = ref.action, got.action
    if have.get("action") != want.get("action"):
        return f"planned {got.description!r} where the reference does {ref.description!r}"
    if want.get("action") == "type" and str(have.get("text", "")).strip() != str(want.get("text", "")).strip():
        return f"typed {have.get('text')!r}, the reference types {want.get('text')!r}"
    if want.get("action") == "press" and [k.lower() for k in have.get("keys", [])] != [
            k.lower() for k in want.get("keys", [])]:
        pressed, expected = "+".join(have.get("keys", [])), "+".join(want.get("keys", []))
        return f"pressed {pressed}, the reference presses {expected}"
    if want.get("action") == "scroll" and have.get("direction") != want.get("direction"):
        return f"scrolled {have.get('direction')}, the reference scrolls {want.get('direction')}"
    return ""


def _other_target(ref: StepRow, got: StepRow) -> str:
    """How the planned points miss the reference's elements; "" when each lies in its element."""
    if not ref.target or ref.action.get("action") in ("type", "press", "wait"):
        return ""
    if not got.target:
        return f"{got.description!r} found no target ({got.error or got.status})"
    pairs = [(ref.target, got.target), *zip(ref.target.get("more", []), got.target.get("more", []), strict=False)]
    for r, g in pairs:
        # The reference's element, or the box its click point was in (a label beside a check box).
        hit = _inside(g["point"], r["element_bbox"]) or (bool(r.get("action_bbox")) and _inside(
            g["point"], r["action_bbox"]))
        if r["monitor"] != g["monitor"] or not hit:
            return f"{got.description!r} points elsewhere than the reference's {r['instruction']!r}"
    return ""


def record_reference(task: TaskSpec, data_home: Path) -> tuple[TaskResult, ReferenceRecording | None]:
    """The task's whole reference script run once by the direct planner (its whole-task result) and, when
    the run is verified (its checks passed), the recording of its input events, stored for later
    evaluations. Without a verified run: the stored recording of this task, if any."""
    whole = run_task(task, data_home)
    if whole.success:
        rows, _ = _run_rows(data_home, whole.run_id)
        recording = recording_from_run(task, whole.run_id, rows)
        recording.save(reference_path(data_home, task))
        return whole, recording
    return whole, load_reference(data_home, task)


def script_typed_text(task: TaskSpec) -> list[str | None]:
    """What each step of the task's reference script types (None: a step that types nothing): the replay
    types it where the recording holds only the mask of a secret."""
    steps = [parse_step(text, n) for n, text in enumerate(split_steps(task.script), 1)]
    return [a.text if isinstance(a, TypeText) else None for a in steps]


def _reach(env: TaskEnvironment, reference: ReferenceRecording | None, k: int) -> str:
    """Bring the task's fresh desktop to the state before step k by the reference's input events.
    Returns "" when done, else why not."""
    if k == 0:
        return ""
    if reference is None or len(reference.steps) < k:
        return UNREACHED
    try:
        replay(reference, k, env.env(), env.home, typed=script_typed_text(env.task))
    except AgentError as exc:
        return f"{UNREACHED}: {one_line(str(exc))[:200]}"
    return ""


def _score(results: list[bool | None]) -> tuple[int, int]:
    scored = [r for r in results if r is not None]
    return sum(scored), len(scored)


def run_task_stepwise_planner(task: TaskSpec, data_home: Path, planner: str, planner_args: list[str] | None = None,
                              reference: ReferenceRecording | None = None) -> TaskResult:
    """Step-controlled mode for a model planner: before each reference step, a fresh desktop brought to the
    state before it by replaying the reference run's input events; the reference step is located (not sent)
    to know its target, then the planner, told the goal and the steps already done, plans one step on the
    same screen (not sent either). A step counts when the plan matches the reference (`plan_matches`): this
    scores planning apart from grounding. The whole task is also run once by the planner (`success`)."""
    steps = split_steps(task.script)
    t0 = time.monotonic()
    if reference is None:
        reference = load_reference(data_home, task) or record_reference(task, data_home)[1]
    whole = run_task(task, data_home, planner, planner_args)
    results: list[bool | None] = []
    notes: list[str] = []
    tokens = whole.tokens
    args = ["--planner", planner, *(planner_args or [])]
    for k, step in enumerate(steps):
        env = TaskEnvironment(task)
        try:
            with env:
                why = _reach(env, reference, k)
                if why:
                    results.append(None)
                    notes.append(why)
                    continue
                _, _, ref_id = _agent_run(env, task, step, ["--planner", "direct", "--dry-run"], data_home, 1,
                                          task.time_limit)
                ref, ref_msg = _first_step(data_home, ref_id)
                goal = task.goal + (f"\nAlready done, in this order: {'; '.join(steps[:k])}." if k else "")
                _, _, got_id = _agent_run(env, task, goal, [*args, "--dry-run"], data_home, 1, task.time_limit)
                got, got_msg = _first_step(data_home, got_id)
                if got is not None:
                    tokens += int(got.usage.get("prompt_tokens", 0) + got.usage.get("completion_tokens", 0))
                if ref is None or (ref.target is None and ref.action.get("action") not in ("type", "press", "wait")):
                    results.append(False)
                    notes.append(f"the reference step was not located ({ref_msg})")
                    continue
                ok, why = plan_matches(ref, got, got_msg)
                results.append(ok)
                notes.append(why)
        finally:
            env.cleanup()
    return _stepwise_result(task, whole, results, notes, time.monotonic() - t0, tokens, reference,
                            "steps planned like the reference")


def run_task_stepwise(task: TaskSpec, data_home: Path, reference: ReferenceRecording | None = None) -> TaskResult:
    """Step-controlled mode: the whole reference script once (whole-task success, and the recording of its
    input events when its checks pass), then for each step a fresh desktop brought to the exact state before
    it by replaying the recorded events of the steps before it, and that step alone by the agent. A step
    counts if it ran, verified, and acted on the reference step's element; a missed step leaves the later
    ones scored. `reference`: a recording to replay instead of this run's (it must have as many steps)."""
    steps = split_steps(task.script)
    t0 = time.monotonic()
    whole, recorded = record_reference(task, data_home)
    reference = reference or recorded
    results: list[bool | None] = []
    notes: list[str] = []
    for k, step in enumerate(steps):
        env = TaskEnvironment(task)
        try:
            with env:
                why = _reach(env, reference, k)
                if why:
                    results.append(None)
                    notes.append(why)
                    continue
                code, _, run_id = _agent_run(env, task, step, ["--planner", "direct"], data_home, 1, task.time_limit)
        finally:
            env.cleanup()
        rows, _ = _run_rows(data_home, run_id)
        ref_steps = reference.steps[k:k + 1] if reference is not None and len(reference.steps) > k else []
        if code == 0 and not (ref_steps and rows and _on_target(rows[0], ref_steps[0]) is False):
            results.append(True)
            notes.append("")
        else:
            results.append(False)
            notes.append(WRONG_ELEMENT if code == 0 else classify_failure(code, rows, ref_steps))
    return _stepwise_result(task, whole, results, notes, time.monotonic() - t0, whole.tokens, reference, "steps")


def _step_counts(ran: list[TaskResult]) -> dict[str, Any]:
    """Median steps, median seconds per step and tokens over the tasks that ran."""
    per_step = [r.seconds_per_step for r in ran if r.steps]
    return {"median_steps": statistics.median(r.steps for r in ran),
            "median_seconds_per_step": round(statistics.median(per_step), 2) if per_step else 0.0,
            "tokens": sum(r.tokens for r in ran)}


def _stepwise_result(task: TaskSpec, whole: TaskResult, results: list[bool | None], notes: list[str], seconds: float,
                     tokens: int, reference: ReferenceRecording | None, what: str) -> TaskResult:
    hits, scored = _score(results)
    detail = f"{hits}/{scored} {what} alone"
    if scored < len(results):
        detail += f" ({len(results) - scored} not reached: no verified reference run)"
    misses = [f"step {i + 1}: {n}" for i, n in enumerate(notes) if n and results[i] is False]
    if misses:
        detail += f"; {misses[0]}"
    detail += f"; whole task: {'ok' if whole.success else whole.failure + ' (' + whole.detail + ')'}"
    return TaskResult(task.name, whole.success, whole.failure, detail, len(results), seconds, tokens, whole.run_id,
                      whole.exit_code, results, notes, reference.run_id if reference else "")


@dataclass
class SuiteReport:
    """The results of a suite run and how it was run."""

    planner: str
    results: list[TaskResult]
    mode: str = "whole tasks"
    isolation: str = ""  # how tasks' temporary files were kept apart (a private /tmp, or TMPDIR only)
    planned: int = 0  # tasks the suite was asked to run (more than `results` when interrupted)
    interrupted: bool = False  # stopped early (Ctrl+C): the figures are over the tasks that finished

    def partial_note(self) -> str:
        """Why the figures cover only some of the tasks ("" when they cover all)."""
        if not self.interrupted:
            return ""
        return (f"PARTIAL: stopped after {len(self.results)} of {self.planned or len(self.results)} tasks; "
                f"the figures are over those {len(self.results)}")

    def summary(self) -> dict[str, Any]:
        """The suite's figures as JSON-ready data (tasks.json's "summary")."""
        ran = [r for r in self.results if r.failure != SKIPPED]  # skipped tasks are in no figure
        n = len(ran)
        ok = sum(r.success for r in ran)
        out: dict[str, Any] = {"planner": self.planner, "mode": self.mode, "tasks": n, "succeeded": ok,
                               "success_rate": round(100 * ok / n, 1) if n else 0.0,
                               "failures": dict(Counter(r.failure for r in ran if not r.success))}
        if len(ran) < len(self.results):
            out["skipped"] = len(self.results) - len(ran)
        if self.isolation:
            out["isolation"] = self.isolation
        if self.interrupted:
            out["partial"] = True
            out["tasks_planned"] = self.planned
        if ran:
            out.update(_step_counts(ran))
        if self.mode == "step-controlled":
            out.update(self._step_figures())
        return out

    def _step_figures(self) -> dict[str, Any]:
        """Step-controlled figures: each step alone, on the state the reference run's input reached; steps no
        verified reference run reaches are counted apart, not as misses."""
        hits, scored = _score([s for r in self.results for s in r.step_results])
        return {"per_step_accuracy": round(100 * hits / scored, 1) if scored else 0.0, "steps_scored": scored,
                "steps_not_reached": sum(s is None for r in self.results for s in r.step_results),
                "step_failures": dict(Counter(n.split(":")[0] for r in self.results
                                              for s, n in zip(r.step_results, r.step_notes, strict=False)
                                              if s is False and n))}

    def format(self) -> str:
        """The report as text: a line per task, then the figures."""
        s = self.summary()
        lines = [f"{r.name:40s} {r.verdict} {r.steps:3d} steps {r.seconds:6.1f} s  "
                 f"{r.failure + ': ' if r.failure else ''}{r.detail}" for r in self.results]
        if self.interrupted:
            lines.append(self.partial_note())
        lines.append(f"{s['succeeded']}/{s['tasks']} tasks succeeded ({s['success_rate']}%) with the {self.planner} "
                     f"planner, {self.mode}")
        if s.get("skipped"):
            lines.append(f"skipped: {s['skipped']} tasks whose apps do not run in this session")
        if "median_steps" in s:
            lines.append(f"median {s['median_steps']} steps, {s['median_seconds_per_step']} s per step, "
                         f"{s['tokens']} tokens")
        if "per_step_accuracy" in s:
            lines.append(f"per-step accuracy: {s['per_step_accuracy']}% of {s['steps_scored']} steps, each alone"
                         + (f" ({s['steps_not_reached']} not reached)" if s["steps_not_reached"] else ""))
            if s["step_failures"]:
                lines.append("missed steps: " + ", ".join(f"{k} {v}" for k, v in s["step_failures"].items()))
        if s["failures"]:
            lines.append("failures: " + ", ".join(f"{k} {v}" for k, v in s["failures"].items()))
        if self.isolation:
            lines.append(f"isolation: {self.isolation}")
        return "\n".join(lines)

    def write(self, folder: Path) -> tuple[Path, Path]:
        """Write tasks.json and tasks.html into `folder`; returns their paths."""
        folder.mkdir(parents=True, exist_ok=True)
        js = folder / "tasks.json"
        js.write_text(json.dumps({"summary": self.summary(),
                                  "results": [asdict(r) | {"seconds_per_step": round(r.seconds_per_step, 2)}
                                              for r in self.results]}, indent=1), encoding="utf-8")
        page = folder / "tasks.html"
        page.write_text(self.html(), encoding="utf-8")
        return js, page

    def html(self) -> str:
        """The report as an HTML page."""
        e = html.escape
        s = self.summary()
        rows = "".join(
            f"<tr class='{'ok' if r.success else 'fail'}'><td>{e(r.name)}</td><td>{r.verdict.strip()}</td>"
            f"<td>{r.steps}</td><td>{r.seconds:.1f}</td><td>{r.seconds_per_step:.2f}</td><td>{r.tokens}</td>"
            f"<td>{e(r.failure)}</td><td>{e(r.detail)}</td><td><code>{e(r.run_id)}</code></td></tr>"
            for r in self.results)
        failures = ", ".join(f"{e(k)}: {v}" for k, v in s["failures"].items()) or "none"
        extra = (f"<p>Per-step accuracy: <b>{s['per_step_accuracy']}%</b> of {s['steps_scored']} steps, each alone on "
                 f"the state the reference run's input reached ({s['steps_not_reached']} not reached); missed "
                 f"steps by kind: {e(', '.join(f'{k}: {v}' for k, v in s['step_failures'].items()) or 'none')}.</p>"
                 if "per_step_accuracy" in s else "")
        isolation = f"<p>Isolation: {e(self.isolation)}.</p>" if self.isolation else ""
        if self.interrupted:
            isolation = f"<p><b>{e(self.partial_note())}</b>.</p>" + isolation
        return ("<!doctype html><meta charset='utf-8'><title>desktop-agent task evaluation</title><style>"
                "body{font:14px system-ui,sans-serif;margin:24px}table{border-collapse:collapse}"
                "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}tr.fail{background:#fde8e8}"
                "tr.ok{background:#eaf7ea}</style>"
                f"<h1>Task evaluation: {e(self.planner)} planner, {e(self.mode)}</h1>"
                f"<p><b>{s['succeeded']}/{s['tasks']}</b> tasks succeeded ({s['success_rate']}%); failures by kind: "
                f"{failures}.</p>{extra}{isolation}<table><tr><th>task</th><th>result</th><th>steps</th><th>seconds</th>"
                f"<th>s/step</th><th>tokens</th><th>failure</th><th>detail</th><th>run</th></tr>{rows}</table>"
                "<p>Each run is in the run database: <code>desktop-agent runs show ID</code>.</p>")


def run_suite(tasks: list[TaskSpec], data_home: Path, planner: str = "direct", planner_args: list[str] | None = None,
              stepwise: bool = False, progress: Callable[[TaskResult], None] | None = None,
              environment: type[TaskEnvironment] = TaskEnvironment) -> SuiteReport:
    """Every task in turn. Ctrl+C (KeyboardInterrupt) stops the suite: the task in progress is stopped and
    its desktop cleaned up, and the report holds the tasks that finished, marked `interrupted`."""
    results = []
    interrupted = False
    try:
        for task in tasks:
            t0 = time.monotonic()
            try:
                if stepwise:
                    r = (run_task_stepwise(task, data_home) if planner == "direct"
                         else run_task_stepwise_planner(task, data_home, planner, planner_args))
                else:
                    r = run_task(task, data_home, planner, planner_args, environment=environment)
            except TaskSkipped as exc:  # its app does not run in this kind of session: not the agent's failure
                r = TaskResult(task.name, False, SKIPPED, one_line(str(exc)), 0, time.monotonic() - t0)
            except Exception as exc:  # a task that cannot be set up or checked fails alone; the report is written
                r = TaskResult(task.name, False, "error", f"{type(exc).__name__}: {one_line(str(exc))}", 0,
                               time.monotonic() - t0)
            results.append(r)
            if progress:
                progress(r)
    except KeyboardInterrupt:
        interrupted = True
    isolation = ("a private /tmp (mount namespace), TMPDIR and a D-Bus session bus per task" if private_tmp_supported()
                 else "TMPDIR and a D-Bus session bus per task; no private /tmp (mount namespaces are not allowed "
                      "here), so apps with fixed paths in /tmp share them")
    return SuiteReport(planner, results, "step-controlled" if stepwise else "whole tasks", isolation, len(tasks),
                       interrupted)
