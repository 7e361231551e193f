"""The task suite and its harness: task files that load, checkers that fail on an untouched desktop,
and a CI subset run by the real agent against the real applications."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from desktop_agent.evaluation.task_checks import check_outcome
from desktop_agent.evaluation.task_env import TaskEnvironment
from desktop_agent.evaluation.task_runner import plan_matches
from desktop_agent.evaluation.task_suite import load_suite
from desktop_agent.planning.script import parse_script
from desktop_agent.runs.store import RunStore, StepRow
from tests.e2e_helpers import cli

CI_SUBSET = ["mousepad-unicode-save", "pcmanfm-drag-into-folder", "featherpad-save-icon",
             "galculator-second-monitor", "gnumeric-enter-and-save", "chromium-newsletter-form"]


def test_the_suite_loads_and_every_reference_script_parses() -> None:
    tasks = load_suite()
    assert len({t.name for t in tasks}) == len(tasks)
    apps = {t.apps[0].cmd[0] for t in tasks if t.apps}
    assert len(apps) >= 6, apps
    for t in tasks:
        assert parse_script(t.script), t.name
        for app in t.apps:
            assert shutil.which(app.cmd[0]), f"{t.name}: {app.cmd[0]} is not installed (scripts/setup.sh --test)"
    assert set(CI_SUBSET) <= {t.name for t in tasks}


@pytest.mark.display
def test_every_checker_fails_on_the_untouched_start_state() -> None:
    """A checker that passes when nothing was done would make the harness worthless."""
    for task in load_suite():
        env = TaskEnvironment(task)
        try:
            with env:
                problems = check_outcome(env, list(task.check))
        finally:
            env.cleanup()
        assert problems, f"{task.name}: its checks pass before anything was done"


@pytest.mark.display
def test_ci_subset_passes_with_the_direct_planner(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    r = cli("eval", "tasks", "--only", ",".join(CI_SUBSET), "--out", str(out), home=home, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads((out / "tasks.json").read_text())
    assert report["summary"]["tasks"] == len(CI_SUBSET) and report["summary"]["success_rate"] == 100.0
    assert "<table>" in (out / "tasks.html").read_text()
    runs = RunStore(home).list_runs(20)
    assert len(runs) == len(CI_SUBSET) and all(r.status == "succeeded" for r in runs)
    assert {r["run_id"] for r in report["results"]} == {r.id for r in runs}


@pytest.mark.display
def test_step_controlled_mode_scores_each_reference_step(home: Path, tmp_path: Path) -> None:
    r = cli("eval", "tasks", "--only", "mousepad-unicode-save", "--stepwise", "--out", str(tmp_path), home=home,
            timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads((tmp_path / "tasks.json").read_text())
    assert report["summary"]["per_step_accuracy"] == 100.0
    assert report["results"][0]["step_results"] == [True, True]


def test_eval_tasks_lists_names_and_refuses_unknown_ones(home: Path) -> None:
    r = cli("eval", "tasks", "--list", home=home)
    assert r.returncode == 0 and "mousepad-unicode-save" in r.stdout.split()
    r = cli("eval", "tasks", "--only", "no-such-task", home=home)
    assert r.returncode == 2 and "no task named 'no-such-task'" in r.stderr  # bad input (README: exit codes)


def _row(action: dict, target: dict | None = None) -> StepRow:  # type: ignore[type-arg]
    return StepRow("r", 0, action, str(action), "", "skipped", target, None, {}, {}, None, None, "", 0.0, None)


def _target(point: list[int], box: list[float]) -> dict:  # type: ignore[type-arg]
    return {"monitor": 0, "point": point, "element_bbox": box, "bbox": box, "instruction": "Save", "desktop": point}


def test_a_planned_step_matches_the_reference_only_on_the_same_element_action_and_text() -> None:
    save = [100.0, 50.0, 160.0, 80.0]
    ref = _row({"action": "click", "target": {"text": "Save"}}, _target([130, 65], save))
    assert plan_matches(ref, _row({"action": "click", "target": {"element_id": 4}}, _target([101, 79], save)))[0]
    ok, why = plan_matches(ref, _row({"action": "click", "target": {"element_id": 5}}, _target([200, 65], save)))
    assert not ok and "elsewhere" in why
    ok, why = plan_matches(ref, _row({"action": "double_click", "target": {"element_id": 4}}, _target([130, 65], save)))
    assert not ok and "where the reference does" in why
    assert not plan_matches(ref, None, "the model answered done")[0]
    typed = _row({"action": "type", "text": "Zürich"})
    assert plan_matches(typed, _row({"action": "type", "text": "Zürich "}))[0]
    assert not plan_matches(typed, _row({"action": "type", "text": "Zurich"}))[0]
    keys = _row({"action": "press", "keys": ["ctrl", "s"]})
    assert plan_matches(keys, _row({"action": "press", "keys": ["Ctrl", "S"]}))[0]
    assert not plan_matches(keys, _row({"action": "press", "keys": ["ctrl", "shift", "s"]}))[0]


@pytest.mark.display
def test_step_controlled_mode_scores_a_model_planners_plans_and_sends_nothing(home: Path, tmp_path: Path) -> None:
    """The real Gemma 3 270M plans each step of a task after the reference steps before it; its plans are
    scored against the reference step located on the same screen, and none of them is sent."""
    r = cli("eval", "tasks", "--only", "mousepad-unicode-save", "--stepwise", "--planner", "llama", "--model",
            "gemma3-270m", "--out", str(tmp_path), home=home, timeout=900)
    report = json.loads((tmp_path / "tasks.json").read_text())
    result = report["results"][0]
    assert report["summary"]["mode"] == "step-controlled" and report["summary"]["planner"] == "llama"
    assert len(result["step_results"]) == len(result["step_notes"]) == 2, r.stdout + r.stderr
    # Every miss says why; every hit has no note.
    assert all(bool(note) != ok for ok, note in zip(result["step_results"], result["step_notes"], strict=True))
    assert result["tokens"] > 0
    store = RunStore(home)
    runs = store.list_runs(20)
    dry = [run for run in runs if store.steps(run.id) and all(s.status == "skipped" for s in store.steps(run.id))]
    # Per step: one located reference step and one planned step, both recorded and skipped (not sent).
    assert len(dry) >= 4, [(run.planner, run.status, run.task[:40]) for run in runs]
    assert {run.planner.split(":")[0] for run in dry} == {"direct", "llama"}  # "llama:<model file>"
