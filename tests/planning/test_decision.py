"""The model answer's schema and its validation: bad answers become one-line rejections."""

from __future__ import annotations

import json

import pytest

from desktop_agent.planning.decision import ClickMark, PlanRejected, TypeInto, decision_schema, parse_decision


def test_a_valid_answer_parses_even_inside_a_code_fence_with_nulls_for_unused_fields() -> None:
    raw = '```json\n{"reason": "open it", "action": {"action": "type", "text": "hi {x}", "element": null},' \
          ' "confidence": 0.8, "risky": false}\n```'
    d = parse_decision(raw)
    assert isinstance(d.action, TypeInto) and d.action.text == "hi {x}" and d.action.element is None
    assert parse_decision({"reason": "", "action": {"action": "click", "element": 3}}).action == \
        ClickMark(action="click", element=3)


@pytest.mark.parametrize("raw, words", [
    ("I think you should click Save", "not valid JSON"),
    ('{"reason": "x", "action": {"action": "click"', "not valid JSON"),
    ("[1, 2]", "not an object"),
    ('{"reason": "x", "action": {"action": "launch_missiles"}}', "does not fit the action schema"),
    ('{"reason": "x", "action": {"action": "click", "element": "Save"}}', "element"),
    ('{"reason": "x", "action": {"action": "scroll", "direction": "sideways"}}', "direction"),
])
def test_malformed_answers_are_rejected_with_one_line(raw: str, words: str) -> None:
    with pytest.raises(PlanRejected) as exc:
        parse_decision(raw, {"prompt_tokens": 10})
    msg = str(exc.value)
    assert words in msg and "\n" not in msg
    assert exc.value.usage == {"prompt_tokens": 10}  # the tokens spent on a bad answer are still counted


def test_schema_limits_element_numbers_to_those_on_screen_and_is_strict() -> None:
    schema = decision_schema([3, 1, 2], [1, 2])
    text = json.dumps(schema)
    assert '"enum": [1, 2, 3]' in text
    click = schema["properties"]["action"]["anyOf"][0]
    assert click["additionalProperties"] is False and set(click["required"]) == set(click["properties"])


def test_out_of_range_numbers_that_do_no_harm_are_clamped() -> None:
    d = parse_decision('{"reason": "", "action": {"action": "scroll", "direction": "down", "amount": 500,'
                       ' "element": null}, "confidence": 7}')
    assert d.confidence == 1.0 and d.action.amount == 50  # type: ignore[union-attr]
