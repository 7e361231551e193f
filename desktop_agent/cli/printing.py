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
    step = f"step {event.step + 1}: " if event.step is not None else ""
    kind = event.kind
    if kind == "run_started":
        print(f"run {event.run_id} ({event.data.get('planner')}): {event.message}", flush=True)
    elif kind == "step_planned":
        usage = event.data.get("usage") or {}
        if usage:  # a model planned it: show why, and what it cost
            cost = f", ${usage['cost_usd']:.4f}" if "cost_usd" in usage else ""
            tokens = f"{usage.get('prompt_tokens', 0):.0f}+{usage.get('completion_tokens', 0):.0f} tokens"
            print(f"  {step}{event.message}  ({event.data.get('reason', '')}; {tokens}, "
                  f"{usage.get('model_ms', 0):.0f} ms{cost})", flush=True)
        else:
            print(f"  {step}{event.message}", flush=True)
    elif kind == "step_located":
        risk = f"  [needs explicit approval: {event.data['risk']}]" if event.data.get("risk") else ""
        print(f"  {step}{event.message}{risk}", flush=True)
    elif kind == "step_rejected":
        print(f"  {step}model answer rejected: {event.message}", flush=True)
    elif kind == "step_answered":
        print(f"  {step}you answered: {event.message}", flush=True)
    elif kind in ("step_done", "step_skipped"):
        print(f"  {step}{'verified: ' if kind == 'step_done' else ''}{event.message}", flush=True)
    elif kind == "step_failed":
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


def _usage_line(usage: dict[str, Any], reason: str) -> str:
    """A step's model use: tokens, time, cost and the model's reason."""
    cost = f", ${usage['cost_usd']:.4f}" if "cost_usd" in usage else ""
    why = f"; reason: {reason}" if reason else ""
    return (f"     model: {usage.get('prompt_tokens', 0):.0f}+{usage.get('completion_tokens', 0):.0f} "
            f"tokens, {usage.get('model_ms', 0):.0f} ms{cost}{why}")


def print_run(run: Any, steps: list[Any]) -> None:
    """`runs show` as text: the run, each step with where it acted, and the model's total use."""
    print(f"run {run.id}: {run.status} {run.message}\ntask: {run.task}\nplanner: {run.planner}, "
          f"approval: {run.approve}")
    for s in steps:
        where = ""
        if s.target:
            where = f" at ({s.target['desktop'][0]}, {s.target['desktop'][1]}) on monitor {s.target['monitor']}"
        detail = s.error or (s.verify or {}).get("detail", "")
        print(f"  {s.idx + 1}. {s.description}{where}: {s.status} {detail}")
        if s.usage:
            print(_usage_line(s.usage, s.reason))
    spent = [s.usage for s in steps if s.usage]
    if spent:
        total = sum(u.get("prompt_tokens", 0) + u.get("completion_tokens", 0) for u in spent)
        costs = [u["cost_usd"] for u in spent if "cost_usd" in u]
        print(f"model total: {total:.0f} tokens over {len(spent)} answers"
              + (f", ${sum(costs):.4f}" if costs else ""))
