"""What a model answers each step: one JSON object, its schema (the grammar for local models) and its
validation into our action types.

The model names elements by their mark number on the screenshot; marks become element ids and pixels
through our own grounding, so a model's coordinate guess is only a fallback (`click_point`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from desktop_agent.errors import PlanRejected


class _Choice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClickMark(_Choice):
    """The model's answer: click the element with this mark."""

    action: Literal["click", "double_click", "right_click"]
    element: int


class ClickPoint(_Choice):
    """The model's answer: click at a point of a monitor's screenshot."""

    action: Literal["click_point"]
    monitor: int
    x: int
    y: int


class TypeInto(_Choice):
    """The model's answer: type text, into a marked element when given."""

    action: Literal["type"]
    text: str
    element: int | None = None


class PressKeys(_Choice):
    """The model's answer: press keys."""

    action: Literal["press"]
    keys: list[str] = Field(min_length=1, max_length=5)


class ScrollOn(_Choice):
    """The model's answer: scroll, on a marked element when given."""

    action: Literal["scroll"]
    direction: Literal["up", "down"]
    amount: int = Field(default=3, ge=1, le=50)
    element: int | None = None


class DragMarks(_Choice):
    """The model's answer: drag one marked element onto another."""

    action: Literal["drag"]
    from_element: int
    to_element: int


class WaitSeconds(_Choice):
    """The model's answer: wait a number of seconds."""

    action: Literal["wait"]
    seconds: float = Field(ge=0, le=30)


class Finish(_Choice):
    """The model's answer: the task is done."""

    action: Literal["done"]
    summary: str


class Ask(_Choice):
    """The model's answer: ask the person a question."""

    action: Literal["ask_user"]
    question: str


Choice = Annotated[ClickMark | ClickPoint | TypeInto | PressKeys | ScrollOn | DragMarks | WaitSeconds | Finish | Ask,
                   Field(discriminator="action")]


class ModelDecision(BaseModel):
    """One model answer: why, what, how sure, and whether the model itself thinks the step is risky."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    reason: str = Field(max_length=2000)
    action: Choice
    confidence: float = Field(default=0.5, ge=0, le=1)
    risky: bool = False


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required if required is not None else list(props),
            "additionalProperties": False}


def decision_schema(marks: list[int] | None = None, monitors: list[int] | None = None) -> dict[str, Any]:
    """The JSON schema of `ModelDecision`. With `marks`, element numbers are limited to those on screen, so a
    grammar-constrained model cannot name an element that does not exist. Every property is required
    (nullable where optional) so that OpenAI's strict mode accepts the same schema."""
    el: dict[str, Any] = {"type": "integer", "enum": sorted(set(marks))} if marks else {"type": "integer"}
    el_or_null: dict[str, Any] = {"anyOf": [el, {"type": "null"}]}
    mon: dict[str, Any] = {"type": "integer", "enum": sorted(set(monitors))} if monitors else {"type": "integer"}
    text = {"type": "string"}
    choices = [
        _obj({"action": {"type": "string", "enum": ["click", "double_click", "right_click"]}, "element": el}),
        _obj({"action": {"const": "click_point"}, "monitor": mon, "x": {"type": "integer"}, "y": {"type": "integer"}}),
        _obj({"action": {"const": "type"}, "text": text, "element": el_or_null}),
        _obj({"action": {"const": "press"}, "keys": {"type": "array", "items": text, "minItems": 1, "maxItems": 5}}),
        _obj({"action": {"const": "scroll"}, "direction": {"type": "string", "enum": ["up", "down"]},
              "amount": {"type": "integer"}, "element": el_or_null}),
        _obj({"action": {"const": "drag"}, "from_element": el, "to_element": el}),
        _obj({"action": {"const": "wait"}, "seconds": {"type": "number"}}),
        _obj({"action": {"const": "done"}, "summary": text}),
        _obj({"action": {"const": "ask_user"}, "question": text}),
    ]
    return _obj({"reason": text, "action": {"anyOf": choices}, "confidence": {"type": "number"},
                 "risky": {"type": "boolean"}})


def _first_json_object(raw: str) -> str:
    """The JSON object in a reply, tolerating code fences and prose around it (remote models add them)."""
    text = raw.strip()
    start = text.find("{")
    if start < 0:
        return text
    depth, in_str, esc = 0, False, False
    for i in range(start, len(text)):
        c = text[i]
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
    return text[start:]


def _lenient(data: dict[str, Any]) -> dict[str, Any]:
    """The answer without what strict schemas force models to send (nulls for fields an action does not
    use), its harmless numbers clamped (grammars and strict schemas cannot bound numbers everywhere)."""
    act = data.get("action")
    if isinstance(act, dict):
        act = {k: v for k, v in act.items() if v is not None}
        for key, lo, hi in (("amount", 1, 50), ("seconds", 0, 30)):
            if isinstance(act.get(key), int | float) and not isinstance(act[key], bool):
                act[key] = min(max(act[key], lo), hi)
        data = {**data, "action": act}
    data = {k: v for k, v in data.items() if v is not None}
    if isinstance(data.get("confidence"), int | float) and not isinstance(data["confidence"], bool):
        data["confidence"] = min(max(float(data["confidence"]), 0.0), 1.0)
    return data


def parse_decision(raw: str | dict[str, Any], usage: dict[str, float] | None = None) -> ModelDecision:
    """Validate a model's answer; raises `PlanRejected` with a one-line reason the model can act on."""
    raw_text = raw if isinstance(raw, str) else json.dumps(raw)
    try:
        data = json.loads(_first_json_object(raw)) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        snippet = raw_text.strip().replace("\n", " ")[:80]
        raise PlanRejected(f"model output is not valid JSON ({exc.msg} at char {exc.pos}): {snippet!r}",
                           raw_text, usage) from None
    if not isinstance(data, dict):
        raise PlanRejected(f"model output is JSON but not an object: {raw_text[:80]!r}", raw_text, usage)
    try:
        return ModelDecision.model_validate(_lenient(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"] if not isinstance(p, int) or len(err["loc"]) < 4)
        raise PlanRejected(f"model output does not fit the action schema: {where}: {err['msg']}",
                           raw_text, usage) from None
