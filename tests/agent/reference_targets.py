"""The targets of the task suite's reference runs, as recorded: for each task, its latest verified run of the
reference script (direct planner), each step's targets as the agent's loop found them (box, element box,
point, desktop point, monitor). tests/agent/test_proposal_box.py checks the approval panel's and overlay's
box against every one of them, without the apps.

Re-record after a task's script changes: run the suite with the direct planner, then
`python -m tests.agent.reference_targets RUNS.sqlite3 [RUNS.sqlite3 ...]` (the data folders' run databases)."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from desktop_agent.evaluation.reference import task_fingerprint
from desktop_agent.evaluation.task_suite import load_suite
from desktop_agent.secret_fields import redact_task

DATA = Path(__file__).parent / "data" / "reference_targets.json"
# Suite tasks with no verified run of their reference script yet: no mode of the agent passes them (perception
# misses: a Rename button whose dialog title is "Rename" too, "N" beside "n" in a character grid, a check box
# named by a separate label), so there are no targets to record. Each script's steps were done by hand with
# xdotool and gave the outcome its check expects. Record them once a run passes.
NO_VERIFIED_RUN = frozenset({"engrampa-rename-member", "gucharmap-copy-letters", "lxterminal-hide-scrollbar"})
_KEEP = ("instruction", "monitor", "bbox", "element_bbox", "point", "desktop")


def _target(t: dict[str, Any]) -> dict[str, Any]:
    el = t["element"]
    return {**{k: t[k] for k in _KEEP}, "element": {k: el[k] for k in ("id", "kind", "text") if k in el}}


def extract(databases: list[Path]) -> dict[str, Any]:
    """The latest succeeded run of each suite task's script in these run databases."""
    runs: dict[str, tuple[float, str, list[dict[str, Any]], list[tuple[str, dict[str, Any] | None]]]] = {}
    for db in databases:
        con = sqlite3.connect(db)
        try:
            for run_id, task, started, screens in con.execute(
                    "select id, task, started_at, screens from runs where status = 'succeeded'"):
                steps = [(d, json.loads(t) if t else None) for d, t in con.execute(
                    "select description, target from steps where run_id = ? order by idx", (run_id,))]
                if task not in runs or runs[task][0] < started:
                    runs[task] = (started, run_id, json.loads(screens), steps)
        finally:
            con.close()
    out: dict[str, Any] = {}
    for task in load_suite():
        found = runs.get(redact_task(task.script, all_typed=True))
        if found is None:
            continue
        _, run_id, screens, steps = found
        out[task.name] = {"fingerprint": task_fingerprint(task), "run_id": run_id, "screens": screens,
                          "steps": [{"description": d, "targets": [_target(x) for x in [t, *t.get("more", [])]]
                                     if t else []} for d, t in steps]}
    return out


def main(argv: list[str]) -> int:
    data = extract([Path(a) for a in argv])
    DATA.parent.mkdir(parents=True, exist_ok=True)
    DATA.write_text(json.dumps(data, ensure_ascii=False, indent=None, separators=(",", ":")) + "\n",
                    encoding="utf-8")
    missing = sorted({t.name for t in load_suite()} - set(data))
    print(f"{len(data)} tasks, {sum(len(v['steps']) for v in data.values())} steps; missing: {missing or 'none'}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
