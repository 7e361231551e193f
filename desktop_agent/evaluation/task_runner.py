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

from desktop_agent.errors import one_line
from desktop_agent.evaluation.task_checks import check_outcome
from desktop_agent.evaluation.task_env import TaskEnvironment, private_tmp_supported
from desktop_agent.evaluation.task_suite import TaskSpec
from desktop_agent.planning.script import split_steps
from desktop_agent.runs.store import RunStore, StepRow

SCALE_ENV = "DESKTOP_AGENT_EMULATE_SCALE"


@dataclass
class TaskResult:
    name: str
    success: bool
    failure: str  # "", "grounding miss", "abstained", "no visible effect", "wrong outcome", "timeout", "error"
    detail: str
    steps: int
    seconds: float
    tokens: int = 0
    run_id: str = ""
    exit_code: int | None = None
    step_results: list[bool] = field(default_factory=list)  # step-controlled mode: each reference step
    step_notes: list[str] = field(default_factory=list)  # step-controlled with a model: why a step missed

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / self.steps if self.steps else 0.0


def _classify(exit_code: int | None, problems: list[str], message: str, planner: str = "direct") -> str:
    if not problems:
        return ""
    if exit_code is None:
        return "timeout"
    if exit_code == 3 or "not on screen" in message or "no element matching" in message:
        return "abstained"
    if "no visible effect" in message:
        return "no visible effect"
    if exit_code in (0, 6):
        # Every step ran, yet the outcome is wrong. With the reference script the plan was right, so a
        # step acted on the wrong element; with a model planner it may also have planned the wrong thing.
        return "grounding miss" if planner == "direct" else "wrong outcome"
    return "error"


def _agent_run(env: TaskEnvironment, task: TaskSpec, text: str, planner_args: list[str], data_home: Path,
               max_steps: int, timeout: float) -> tuple[int | None, str, str]:
    """One `desktop-agent run` on the task's display. Returns (exit code or None on timeout, output, run id)."""
    run_env = env.env()
    run_env["DESKTOP_AGENT_HOME"] = str(data_home)
    if task.scale != 1:
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


def run_task(task: TaskSpec, data_home: Path, planner: str = "direct", planner_args: list[str] | None = None,
             ) -> TaskResult:
    planner_args = ["--planner", planner, *(planner_args or [])]
    text = task.script if planner == "direct" else task.goal
    t0 = time.monotonic()
    env = TaskEnvironment(task)
    try:
        with env:
            code, out, run_id = _agent_run(env, task, text, planner_args, data_home, task.max_steps, task.time_limit)
            time.sleep(0.5)  # the app writes its file or settings
            problems = check_outcome(env, list(task.check))
    finally:
        env.cleanup()
    seconds = time.monotonic() - t0
    steps, tokens, message = 0, 0, ""
    if run_id:
        store = RunStore(data_home)
        rows = store.steps(run_id)
        message = store.get_run(run_id).message
        store.close()
        steps = len(rows)
        tokens = int(sum(s.usage.get("prompt_tokens", 0) + s.usage.get("completion_tokens", 0) for s in rows))
    detail = "; ".join(problems) if problems else "checked"
    if problems and message:
        detail = f"{detail} (run: {message})"
    elif problems and code is None:
        detail = f"{detail} (over the {task.time_limit:g} s limit)"
    elif not problems and code != 0:
        # The outcome is right but the agent did not finish cleanly: not a success either.
        problems = [f"the outcome is right but the run ended: {message or 'over the time limit'}"]
        detail = problems[0]
    return TaskResult(task.name, not problems, _classify(code, problems, message or out, planner), detail, steps,
                      seconds, tokens, run_id, code)


def _first_step(data_home: Path, run_id: str) -> tuple[StepRow | None, str]:
    if not run_id:
        return None, "the run did not start"
    store = RunStore(data_home)
    try:
        rows = store.steps(run_id)
        return (rows[0] if rows else None), store.get_run(run_id).message
    finally:
        store.close()


def _inside(point: list[float], box: list[float], margin: float = 4.0) -> bool:
    return box[0] - margin <= point[0] <= box[2] + margin and box[1] - margin <= point[1] <= box[3] + margin


def plan_matches(ref: StepRow, got: StepRow | None, message: str = "") -> tuple[bool, str]:
    """Whether a planner's step does what the reference step does on the same screen: the same action, on
    the element the reference step's grounding found (the planner's point inside it), with the same text or
    keys. Returns (match, why not)."""
    if got is None:
        return False, f"planned nothing ({message})" if message else "planned nothing"
    want, have = ref.action, got.action
    if have.get("action") != want.get("action"):
        return False, f"planned {got.description!r} where the reference does {ref.description!r}"
    if want.get("action") == "type" and str(have.get("text", "")).strip() != str(want.get("text", "")).strip():
        return False, f"typed {have.get('text')!r}, the reference types {want.get('text')!r}"
    if want.get("action") == "press" and [k.lower() for k in have.get("keys", [])] != [
            k.lower() for k in want.get("keys", [])]:
        pressed, expected = "+".join(have.get("keys", [])), "+".join(want.get("keys", []))
        return False, f"pressed {pressed}, the reference presses {expected}"
    if want.get("action") == "scroll" and have.get("direction") != want.get("direction"):
        return False, f"scrolled {have.get('direction')}, the reference scrolls {want.get('direction')}"
    if ref.target and want.get("action") not in ("type", "press", "wait"):
        if not got.target:
            return False, f"{got.description!r} found no target ({got.error or got.status})"
        pairs = [(ref.target, got.target),
                 *zip(ref.target.get("more", []), got.target.get("more", []), strict=False)]
        for r, g in pairs:
            if r["monitor"] != g["monitor"] or not _inside(g["point"], r["element_bbox"]):
                return False, f"{got.description!r} points elsewhere than the reference's {r['instruction']!r}"
    return True, ""


def run_task_stepwise_planner(task: TaskSpec, data_home: Path, planner: str, planner_args: list[str] | None = None
                              ) -> TaskResult:
    """Step-controlled mode for a model planner: before each reference step, a fresh desktop brought to the
    state before it; the reference step is located (not sent) to know its target, then the planner, told
    the goal and the steps already done, plans one step on the same screen (not sent either). A step counts
    when the plan matches the reference (`plan_matches`): this scores planning apart from grounding."""
    steps = split_steps(task.script)
    results: list[bool] = []
    notes: list[str] = []
    tokens = 0
    t0 = time.monotonic()
    args = ["--planner", planner, *(planner_args or [])]
    for k, step in enumerate(steps):
        env = TaskEnvironment(task)
        try:
            with env:
                if k:
                    code, _, _ = _agent_run(env, task, "; ".join(steps[:k]), ["--planner", "direct"], data_home,
                                            task.max_steps, task.time_limit)
                    if code != 0:
                        results.append(False)
                        notes.append("could not replay the steps before it")
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
    seconds = time.monotonic() - t0
    hits = sum(results)
    misses = [f"step {i + 1}: {n}" for i, n in enumerate(notes) if n]
    return TaskResult(task.name, hits == len(results), "" if hits == len(results) else "planned differently",
                      f"{hits}/{len(results)} steps planned like the reference" + (f"; {misses[0]}" if misses else ""),
                      len(results), seconds, tokens, step_results=results, step_notes=notes)


def run_task_stepwise(task: TaskSpec, data_home: Path) -> TaskResult:
    """Step-controlled mode: for each reference step, a fresh desktop brought to the exact state before it
    (by replaying the reference steps before it), then that step alone; it counts if it ran and verified.
    This scores grounding step by step, apart from whether a whole task succeeds."""
    steps = split_steps(task.script)
    results: list[bool] = []
    t0 = time.monotonic()
    for k, step in enumerate(steps):
        env = TaskEnvironment(task)
        try:
            with env:
                ok = True
                if k:
                    code, _, _ = _agent_run(env, task, "; ".join(steps[:k]), ["--planner", "direct"], data_home,
                                            task.max_steps, task.time_limit)
                    ok = code == 0
                if ok:  # the state before step k is set; now step k on its own
                    code, _, _ = _agent_run(env, task, step, ["--planner", "direct"], data_home, 1, task.time_limit)
                    results.append(code == 0)
                else:
                    results.append(False)
        finally:
            env.cleanup()
    seconds = time.monotonic() - t0
    hits = sum(results)
    return TaskResult(task.name, hits == len(results), "" if hits == len(results) else "step missed",
                      f"{hits}/{len(results)} steps", len(results), seconds, step_results=results)


@dataclass
class SuiteReport:
    planner: str
    results: list[TaskResult]
    mode: str = "whole tasks"
    isolation: str = ""  # how tasks' temporary files were kept apart (a private /tmp, or TMPDIR only)

    def summary(self) -> dict[str, Any]:
        n = len(self.results)
        ok = sum(r.success for r in self.results)
        out: dict[str, Any] = {"planner": self.planner, "mode": self.mode, "tasks": n, "succeeded": ok,
                               "success_rate": round(100 * ok / n, 1) if n else 0.0,
                               "failures": dict(Counter(r.failure for r in self.results if not r.success))}
        if self.isolation:
            out["isolation"] = self.isolation
        if self.results:
            out["median_steps"] = statistics.median(r.steps for r in self.results)
            per_step = [r.seconds_per_step for r in self.results if r.steps]
            out["median_seconds_per_step"] = round(statistics.median(per_step), 2) if per_step else 0.0
            out["tokens"] = sum(r.tokens for r in self.results)
        if self.mode == "step-controlled":
            all_steps = [s for r in self.results for s in r.step_results]
            out["per_step_accuracy"] = round(100 * sum(all_steps) / len(all_steps), 1) if all_steps else 0.0
        return out

    def format(self) -> str:
        s = self.summary()
        lines = [f"{r.name:40s} {'ok  ' if r.success else 'FAIL'} {r.steps:3d} steps {r.seconds:6.1f} s  "
                 f"{r.failure + ': ' if r.failure else ''}{r.detail}" for r in self.results]
        lines.append(f"{s['succeeded']}/{s['tasks']} tasks succeeded ({s['success_rate']}%) with the {self.planner} "
                     f"planner, {self.mode}")
        if self.results:
            lines.append(f"median {s['median_steps']} steps, {s['median_seconds_per_step']} s per step, "
                         f"{s['tokens']} tokens")
        if "per_step_accuracy" in s:
            lines.append(f"per-step accuracy: {s['per_step_accuracy']}%")
        if s["failures"]:
            lines.append("failures: " + ", ".join(f"{k} {v}" for k, v in s["failures"].items()))
        if self.isolation:
            lines.append(f"isolation: {self.isolation}")
        return "\n".join(lines)

    def write(self, folder: Path) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        js = folder / "tasks.json"
        js.write_text(json.dumps({"summary": self.summary(),
                                  "results": [asdict(r) | {"seconds_per_step": round(r.seconds_per_step, 2)}
                                              for r in self.results]}, indent=1), encoding="utf-8")
        page = folder / "tasks.html"
        page.write_text(self.html(), encoding="utf-8")
        return js, page

    def html(self) -> str:
        e = html.escape
        s = self.summary()
        rows = "".join(
            f"<tr class='{'ok' if r.success else 'fail'}'><td>{e(r.name)}</td><td>{'ok' if r.success else 'FAIL'}</td>"
            f"<td>{r.steps}</td><td>{r.seconds:.1f}</td><td>{r.seconds_per_step:.2f}</td><td>{r.tokens}</td>"
            f"<td>{e(r.failure)}</td><td>{e(r.detail)}</td><td><code>{e(r.run_id)}</code></td></tr>"
            for r in self.results)
        failures = ", ".join(f"{e(k)}: {v}" for k, v in s["failures"].items()) or "none"
        extra = f"<p>Per-step accuracy: <b>{s['per_step_accuracy']}%</b></p>" if "per_step_accuracy" in s else ""
        isolation = f"<p>Isolation: {e(self.isolation)}.</p>" if self.isolation else ""
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
              stepwise: bool = False, progress: Callable[[TaskResult], None] | None = None) -> SuiteReport:
    results = []
    for task in tasks:
        t0 = time.monotonic()
        try:
            if stepwise:
                r = (run_task_stepwise(task, data_home) if planner == "direct"
                     else run_task_stepwise_planner(task, data_home, planner, planner_args))
            else:
                r = run_task(task, data_home, planner, planner_args)
        except Exception as exc:  # a task that cannot be set up or checked fails alone; the report is written
            r = TaskResult(task.name, False, "error", f"{type(exc).__name__}: {one_line(str(exc))}", 0,
                           time.monotonic() - t0)
        results.append(r)
        if progress:
            progress(r)
    isolation = ("a private /tmp (mount namespace), TMPDIR and a D-Bus session bus per task" if private_tmp_supported()
                 else "TMPDIR and a D-Bus session bus per task; no private /tmp (mount namespaces are not allowed "
                      "here), so apps with fixed paths in /tmp share them")
    return SuiteReport(planner, results, "step-controlled" if stepwise else "whole tasks", isolation)
