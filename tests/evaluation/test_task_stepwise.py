"""Step-controlled scores that do not cascade: the state before each step is reached by replaying the input
events of a verified reference run (not by the agent), so a step the agent misses leaves the later steps
scored; and failure kinds told from evidence (exit codes, recorded steps, the reference's target boxes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_agent.evaluation.reference import ReferenceRecording, load_reference
from desktop_agent.evaluation.task_runner import (
    ABSTAINED,
    LOST_INPUT,
    NO_EFFECT,
    TIMEOUT,
    WRONG_ELEMENT,
    SuiteReport,
    classify_failure,
    run_task,
    run_task_stepwise,
)
from desktop_agent.evaluation.task_suite import TaskSpec
from desktop_agent.runs.store import StepRow

REFERENCE = 'click "4"\nclick "2"\nclick "7"\npress ctrl+c\n'


def _calculator(script: str, name: str = "calc-427") -> TaskSpec:
    return TaskSpec.model_validate({
        "name": name, "goal": "Enter 427 on the calculator and copy it", "script": script,
        "apps": [{"cmd": ["galculator"], "window": "galculator", "geometry": [100, 100, 340, 380]}],
        "max_steps": 6, "time_limit": 60, "check": [{"kind": "clipboard", "equals": "427"}]})


@pytest.mark.display
def test_a_missed_step_no_longer_counts_the_later_steps_as_missed(home: Path) -> None:
    """The reference run of a four-step task is recorded once (verified: its clipboard check passes). An
    agent that runs out of time on step 2 and clicks the wrong key on step 3 misses those two steps only:
    step 4 is reached by the reference's own input events and scored on its own. Replaying with the agent,
    as before, would have counted steps 3 and 4 as missed too (its replay of step 2 times out again)."""
    good = _calculator(REFERENCE)
    whole = run_task_stepwise(good, home)
    assert whole.success and whole.step_results == [True, True, True, True], whole.detail
    recording = load_reference(home, good)
    assert recording is not None and recording.run_id == whole.run_id == whole.reference_run
    assert [s.action for s in recording.steps] == ["click", "click", "click", "press"]
    assert all(len(s.targets) == 1 for s in recording.steps[:3]) and not recording.steps[3].targets
    assert ReferenceRecording.from_json(recording.to_json()) == recording

    broken = _calculator('click "4"\nwait 60\nclick "5"\npress ctrl+c\n', "calc-broken").model_copy(
        update={"time_limit": 30.0})
    r = run_task_stepwise(broken, home, reference=recording)
    assert r.step_results == [True, False, False, True], (r.step_notes, r.detail)
    assert r.step_notes[1] == TIMEOUT and r.step_notes[2] == WRONG_ELEMENT  # "5" is not the reference's "7"
    assert not r.success and r.failure == TIMEOUT  # the whole task, apart from the steps

    report = SuiteReport("direct", [whole, r], "step-controlled")
    s = report.summary()
    assert s["per_step_accuracy"] == 75.0 and s["steps_scored"] == 8 and s["steps_not_reached"] == 0
    assert s["success_rate"] == 50.0 and s["step_failures"] == {TIMEOUT: 1, WRONG_ELEMENT: 1}


@pytest.mark.display
def test_without_a_verified_reference_later_steps_are_not_reached_rather_than_missed(home: Path) -> None:
    broken = _calculator('click "4"\nclick "3"\nclick "7"\n', "calc-unverified")  # 437: checks fail
    r = run_task_stepwise(broken, home)
    assert not r.success and load_reference(home, broken) is None
    assert r.step_results == [True, None, None] and r.step_notes[0] == ""
    assert r.step_notes[1].startswith("not reached")
    s = SuiteReport("direct", [r], "step-controlled").summary()
    assert s["per_step_accuracy"] == 100.0 and s["steps_scored"] == 1 and s["steps_not_reached"] == 2


@pytest.mark.display
def test_a_whole_run_off_the_reference_element_is_a_wrong_element(home: Path) -> None:
    """With a stored reference of the same task, a whole run whose click lands on another key than the
    reference's reads "wrong element", not "no visible effect" or a guess from the message."""
    good = _calculator(REFERENCE)
    assert run_task_stepwise(good, home).success
    stored = load_reference(home, good)
    assert stored is not None
    wrong = _calculator('click "4"\nclick "3"\nclick "7"\npress ctrl+c\n', "calc-wrong")
    r = run_task(wrong, home, reference=stored)
    assert not r.success and r.failure == WRONG_ELEMENT, r.detail


def _row(status: str, target: dict | None, verify: dict | None = None) -> StepRow:  # type: ignore[type-arg]
    return StepRow("r", 0, {"action": "click"}, "click", "", status, target, verify, {}, {}, None, None, "", 0.0, None)


def test_failure_kinds_come_from_exit_codes_and_recorded_steps_not_messages() -> None:
    from desktop_agent.evaluation.reference import ReferenceStep, TargetBox

    ref = [ReferenceStep("click 'Save'", "click", (), (TargetBox(1, (100, 50, 160, 80)),))]
    on = {"monitor": 1, "point": [130, 65], "element_bbox": [100, 50, 160, 80]}
    off = {"monitor": 1, "point": [300, 65], "element_bbox": [280, 50, 320, 80]}
    unchanged = {"changed": False, "pixels": 0}
    assert classify_failure(None, [], ref) == TIMEOUT
    assert classify_failure(3, [_row("failed", None)], ref) == ABSTAINED
    assert classify_failure(5, [_row("failed", on, unchanged)], ref) == LOST_INPUT
    assert classify_failure(5, [_row("failed", off, unchanged)], ref) == WRONG_ELEMENT
    assert classify_failure(5, [_row("failed", on, unchanged)], []) == NO_EFFECT
    assert classify_failure(0, [_row("verified", off)], ref) == WRONG_ELEMENT
    assert classify_failure(0, [_row("verified", on)], ref) == LOST_INPUT
    assert classify_failure(0, [_row("verified", on)], [], "llama") == "wrong outcome"
