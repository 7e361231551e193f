"""Properties of the instruction parser: it never raises, whatever the text, and its output is bounded."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_agent.grounding.instruction import (
    MAX_INSTRUCTION_CHARS,
    MAX_LABEL_CHARS,
    normalize,
    parse_instruction,
)
from desktop_agent.perception.elements import ElementKind

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_PIECES = st.sampled_from([
    "click", "click on", "double-click", "the", "a", " ", "  ", '"', "“", "”", "'", "«", "»", "button", "icon",
    "field", "search box", "check box", "menu item", "Save", "Save As…", "ﷺ", "ﬃ", "İ", "ß", "\u0301", "\udcff",
    "\x00", "\n", "\t", ":", ".", "…", "東京", "\u2028", "\ufeff", "(", ")", "\\",
])
INSTRUCTION_LIKE = st.lists(_PIECES, max_size=40).map("".join)


def _check(text: str) -> None:
    ins = parse_instruction(text)
    assert isinstance(ins.label, str) and isinstance(ins.quoted, bool)
    assert ins.kind is None or isinstance(ins.kind, ElementKind)
    assert len(ins.raw) <= MAX_INSTRUCTION_CHARS
    assert len(ins.label) <= MAX_LABEL_CHARS
    assert ins.label == ins.label.strip(" .:")  # normalised: no padding, no trailing punctuation
    assert "  " not in ins.label


@FAST
@given(st.text(max_size=300))
def test_any_text_is_read_without_raising(text: str) -> None:
    _check(text)


@FAST
@given(INSTRUCTION_LIKE)
def test_instruction_like_text_is_read_without_raising(text: str) -> None:
    _check(text)


@FAST
@given(st.text(st.characters(), min_size=1, max_size=20), st.integers(1, 400))
def test_long_text_gives_a_bounded_label(chunk: str, times: int) -> None:
    _check(chunk * times)


def test_the_worst_expansion_stays_bounded() -> None:
    # U+FDFA is 18 characters after NFKC: the label is cut, not 18 000 characters long.
    ins = parse_instruction("\ufdfa" * 5000)
    assert len(normalize("\ufdfa")) > 10
    assert 0 < len(ins.label) <= MAX_LABEL_CHARS
    assert parse_instruction('click the "Save" button').label == "save"
