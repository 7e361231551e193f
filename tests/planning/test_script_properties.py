"""Properties of the script language: any text parses into actions or raises ScriptError (never another
exception), and every script written from actions parses back into the same actions."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_agent.errors import ScriptError
from desktop_agent.planning.actions import (
    ACTION_ADAPTER,
    MAX_SCROLL,
    MAX_WAIT_SECONDS,
    Action,
    Click,
    Drag,
    Press,
    Scroll,
    Target,
    TypeText,
    Wait,
    WaitFor,
)
from desktop_agent.planning.script import (
    MAX_SCRIPT_STEPS,
    MAX_TASK_CHARS,
    VERBS,
    format_step,
    parse_script,
    parse_step,
)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text made of the language's own pieces, so the search reaches deep into the parser rather than
# stopping at "unknown step".
_PIECES = st.sampled_from([
    *VERBS, "double click", "right click", "for", "into", "in", "on", "to", "up", "down", "ctrl", "+", "shift",
    "enter", '"', '\\"', "\\", ";", "\n", " ", "  ", "#", "0", "1", "3600", "3601", "100", "101", "1.5", ".", "s",
    "seconds", "Save", "Zürich", "東京", "\udcff", "\x00", "\t", "-1", "9" * 30, "e5", "‐",
])
SCRIPTISH = st.lists(_PIECES, max_size=30).map("".join)


def _parses_or_refuses(text: str) -> None:
    try:
        actions = parse_script(text)
    except ScriptError as exc:
        message = str(exc)
        assert "\n" not in message
        assert len(message) < 400, message
        return
    assert 1 <= len(actions) <= MAX_SCRIPT_STEPS
    for a in actions:  # whatever parsed is a valid action of the schema
        assert ACTION_ADAPTER.validate_python(a.model_dump()) == a


@FAST
@given(st.text(max_size=200))
def test_any_text_parses_or_raises_script_error(text: str) -> None:
    _parses_or_refuses(text)


@FAST
@given(SCRIPTISH)
def test_any_script_like_text_parses_or_raises_script_error(text: str) -> None:
    _parses_or_refuses(text)


@FAST
@given(st.sampled_from(["scroll up", "scroll down", "wait"]), st.text("0123456789.", min_size=1, max_size=40))
def test_numbers_out_of_range_are_script_errors(verb: str, number: str) -> None:
    _parses_or_refuses(f"{verb} {number}")


def test_the_bounds_are_script_errors_naming_the_step_and_the_range() -> None:
    with pytest.raises(ScriptError, match="step 2: `wait` takes 0 to 3600 seconds, not '3601'"):
        parse_script('click "A"; wait 3601')
    with pytest.raises(ScriptError, match="step 1: `scroll` takes 1 to 100 notches, not '101'"):
        parse_script("scroll down 101")
    with pytest.raises(ScriptError, match="at most 10000"):
        parse_script("wait 1;" * (MAX_TASK_CHARS // 7 + 1))
    with pytest.raises(ScriptError, match="at most 200"):
        parse_script("wait 1\n" * (MAX_SCRIPT_STEPS + 1))
    with pytest.raises(ScriptError, match="not valid UTF-8"):
        parse_script('click "\udcff"')
    assert parse_script(f"wait {MAX_WAIT_SECONDS}; scroll up {MAX_SCROLL}") == [
        Wait(seconds=MAX_WAIT_SECONDS), Scroll(direction="up", amount=MAX_SCROLL)]


def test_long_user_text_is_quoted_short_in_errors() -> None:
    with pytest.raises(ScriptError) as info:
        parse_script("frobnicate " + "z" * 50_000)
    assert len(str(info.value)) < 200
    with pytest.raises(ScriptError) as info:
        parse_step("wait " + "soon " * 10_000)
    assert len(str(info.value)) < 200 and "…" in str(info.value)


# -- round trips -------------------------------------------------------------------------------------

_LABEL = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\'),
                 min_size=1, max_size=20).filter(lambda s: s.strip() == s and s)
_WORD = st.text("abcdefghijklmnopqrstuvwxyzÄÖÜäöüß東京0123456789-_.'", min_size=1, max_size=8)
# A target as a person writes it: a quoted label, maybe with words around it, or plain words.
_TARGET_TEXT = st.one_of(
    _LABEL.map(lambda s: f'"{s}"'),
    st.tuples(st.sampled_from(["the", "click the", ""]), _LABEL, st.sampled_from(["button", "field", ""])).map(
        lambda t: " ".join(p for p in (t[0], f'"{t[1]}"', t[2]) if p)),
    st.lists(_WORD, min_size=1, max_size=4).map(" ".join).filter(
        lambda s: not {"to", "on", "in", "into", "for"} & set(s.split()) and not s.startswith("#")),
)
TARGETS = _TARGET_TEXT.map(lambda s: Target(text=s))
_KEY = st.sampled_from(["ctrl", "alt", "shift", "enter", "tab", "esc", "f5", "pagedown", "delete", "a", "z", "1",
                        "/", "win", "space", "home"])
_TYPED = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_SECONDS = st.one_of(st.integers(0, MAX_WAIT_SECONDS).map(float),
                     st.floats(0, MAX_WAIT_SECONDS, allow_nan=False, allow_infinity=False))

ACTIONS: st.SearchStrategy[Action] = st.one_of(
    st.builds(Click, action=st.sampled_from(["click", "double_click", "right_click"]), target=TARGETS),
    st.builds(TypeText, text=_TYPED, into=st.none() | TARGETS),
    st.builds(Press, keys=st.lists(_KEY, min_size=1, max_size=4)),
    st.builds(Scroll, direction=st.sampled_from(["up", "down"]), amount=st.integers(1, MAX_SCROLL),
              on=st.none() | TARGETS),
    st.builds(Wait, seconds=_SECONDS),
    st.builds(WaitFor, target=TARGETS),
    st.builds(Drag, source=TARGETS, dest=TARGETS),
)


@FAST
@given(ACTIONS)
def test_a_step_written_from_an_action_parses_back_into_it(action: Action) -> None:
    assert parse_step(format_step(action)) == action


@FAST
@given(st.lists(ACTIONS, min_size=1, max_size=12), st.sampled_from(["; ", "\n", " ;\n  "]))
def test_a_script_written_from_actions_parses_back_into_them(actions: list[Action], sep: str) -> None:
    assert parse_script(sep.join(format_step(a) for a in actions)) == actions
