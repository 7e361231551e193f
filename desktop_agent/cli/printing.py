"""What the CLI prints: JSON, error lines, a run's events as they happen, parse results and recorded runs."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from desktop_agent.errors import one_line


def print_json(obj: Any) -> None:
    """`obj` as one line of JSON (UTF-8 text kept as it is)."""
    print(json.dumps(obj, ensure_ascii=False, indent=None))


def error_line(message: str) -> None:
    """An error as the CLI shows every error: one line on stderr, `desktop-agent: ...`."""
    print(f"desktop-agent: {one_line(message)}", file=sys.stderr)


def print_event(event: Any) -> None:
    """One line for each event of a run that a person follows (`desktop-agent run`'s progress)."""
    from desktop_agent.agent.events import EventKind
    from desktop_agent.runs.wording import answer_cost

    step = f"step {event.step + 1}: " if event.step is not None else ""
    kind = event.kind
    if kind == EventKind.RUN_STARTED:
        print(f"run {event.run_id} ({event.data.get('planner')}): {event.message}", flush=True)
    elif kind == EventKind.STEP_PLANNED:
        if event.data.get("usage"):  # a model planned it: show why, and what it cost
            print(f"  {step}{event.message}  ({event.data.get('reason', '')}; {answer_cost(event.usage)})", flush=True)
        else:
            print(f"  {step}{event.message}", flush=True)
    elif kind == EventKind.STEP_LOCATED:
        risk = f"  [needs explicit approval: {event.data['risk']}]" if event.data.get("risk") else ""
        print(f"  {step}{event.message}{risk}", flush=True)
    elif kind == EventKind.STEP_REJECTED:
        print(f"  {step}model answer rejected: {event.message}", flush=True)
    elif kind == EventKind.STEP_ANSWERED:
        print(f"  {step}you answered: {event.message}", flush=True)
    elif kind in (EventKind.STEP_DONE, EventKind.STEP_SKIPPED):
        print(f"  {step}{'verified: ' if kind == EventKind.STEP_DONE else ''}{event.message}", flush=True)
    elif kind == EventKind.STEP_FAILED:
        print(f"  {step}FAILED: {event.message}", flush=True)


def print_outcome(outcome: Any) -> None:
    """A run's last line: on stdout when it succeeded, else on stderr."""
    verb = {"succeeded": "succeeded", "partial": "PARTIAL", "failed": "FAILED", "aborted": "ABORTED"}[outcome.status]
    print(one_line(f"run {outcome.run_id} {verb}: {outcome.message}"),
          file=sys.stdout if outcome.exit_code == 0 else sys.stderr)


def print_parse(result: Any) -> None:
    """A parse result as text: the counts and timings, then one line per element."""
    t = result.timings
    print(f"{len(result.elements)} elements in {result.width}x{result.height} "
          f"({t['total']:.0f} ms: OCR detection {t['ocr_det']:.0f}, recognition {t['ocr_rec']:.0f}, "
          f"elements {t['detect']:.0f}, merge {t['merge']:.0f}, icons {t.get('icons', 0):.0f})")
    for el in result.elements:
        b = el.bbox
        meaning = f"  (icon: {el.icon[0][0]} {el.icon[0][1]:.2f})" if el.icon else ""
        tree = f"  [{el.origin}: {el.role}]" if el.role else ""
        print(f"{el.id:4d}  {el.kind.value:9s} [{b.x1:.0f},{b.y1:.0f},{b.x2:.0f},{b.y2:.0f}]  "
              f"{el.confidence:.2f}  {el.text}{meaning}{tree}")


def print_runs(runs: list[Any], where: Any) -> None:
    """`runs list` as text: one line per run, newest first."""
    if not runs:
        print(f"no runs yet in {where}")
    for r in runs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started_at))
        task = " ".join(r.task.replace(";", "; ").split()) if "\n" in r.task else r.task
        print(f"{r.id}  {when}  {r.status:11s} {r.step_count:3d} steps  {r.planner:7s} {task[:60]}")


def print_run(run: Any, steps: list[Any]) -> None:
    """`runs show` as text: the run, each step with where it acted, and the model's total use."""
    from desktop_agent.runs.record import TargetRecord, Usage
    from desktop_agent.runs.wording import answer_cost, money, target_place

    print(f"run {run.id}: {run.status} {run.message}\ntask: {run.task}\nplanner: {run.planner}, "
          f"approval: {run.approve}")
    for s in steps:
        where = f" {target_place(TargetRecord.of(s.target))}" if s.target else ""
        detail = s.error or (s.verify or {}).get("detail", "")
        print(f"  {s.idx + 1}. {s.description}{where}: {s.status} {detail}")
        if s.usage:
            why = f"; reason: {s.reason}" if s.reason else ""
            print(f"     model: {answer_cost(Usage.of(s.usage))}{why}")
    spent = [Usage.of(s.usage) for s in steps if s.usage]
    if spent:
        costs = [u.cost_usd for u in spent if u.cost_usd is not None]
        print(f"model total: {sum(u.tokens for u in spent):.0f} tokens over {len(spent)} answers"
              + (f", {money(sum(costs))}" if costs else ""))
