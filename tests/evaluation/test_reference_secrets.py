"""A secret typed in a reference run is recorded as its mask; a step-controlled replay types the task script's
own text there instead (in memory, the recording sent to the replaying process on its stdin)."""

from __future__ import annotations

from desktop_agent.evaluation.reference import InputEvent, ReferenceRecording, ReferenceStep, with_typed_text
from desktop_agent.evaluation.task_runner import script_typed_text
from desktop_agent.evaluation.task_suite import TaskSpec
from desktop_agent.secret_fields import MASK


def _task(script: str) -> TaskSpec:
    return TaskSpec.model_validate({"name": "login", "goal": "g", "script": script,
                                    "apps": [{"cmd": ["true"], "window": "x"}],
                                    "check": [{"kind": "clipboard", "equals": "x"}]})


def test_each_script_step_says_what_it_types() -> None:
    task = _task('click "User"; type "ada" into "User"; wait 1; type "s3cret!" into "Password"; press enter')
    assert script_typed_text(task) == [None, "ada", None, "s3cret!", None]


def test_a_masked_typing_event_gets_the_scripts_text_and_nothing_else_changes() -> None:
    rec = ReferenceRecording("login", "f", "run", [
        ReferenceStep("click", "click", (InputEvent("click", (10.0, 20.0)),)),
        ReferenceStep("type", "type", (InputEvent("click", (30.0, 40.0)), InputEvent("type", text="ada"))),
        ReferenceStep("wait", "wait", (InputEvent("wait", seconds=1.0),)),
        ReferenceStep("type", "type", (InputEvent("click", (30.0, 60.0)), InputEvent("type", text=MASK))),
    ])
    filled = with_typed_text(rec, [None, "ada", None, "s3cret!", None])
    assert [e.text for e in filled.steps[3].events] == ["", "s3cret!"]
    assert filled.steps[:3] == rec.steps[:3] and filled.steps[3].events[0] == rec.steps[3].events[0]
    assert rec.steps[3].events[1].text == MASK  # the recording itself is left as it was
    assert MASK in rec.to_json() and "s3cret!" not in rec.to_json()
