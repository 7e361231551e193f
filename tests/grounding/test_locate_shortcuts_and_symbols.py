"""Names written with their keyboard shortcut, and names that are a mathematical sign.

Parse results built by hand (pure logic, no display).
"""

from __future__ import annotations

import pytest

from desktop_agent.errors import TargetNotFound
from desktop_agent.geometry import Rect
from desktop_agent.grounding.instruction import normalize, parse_instruction
from desktop_agent.grounding.locate import locate_target
from desktop_agent.perception.elements import Element, ElementKind, ParseResult, TextLine


def _el(i: int, box: Rect, text: str, kind: ElementKind = ElementKind.MENU_ITEM) -> Element:
    return Element(i, kind, box, text, 0.99, "ocr", (TextLine(box, text, 0.99),))


def _menu_with_shortcuts() -> ParseResult:
    """A menu whose shortcuts sit at the row's right end, far from the names (as GTK and Qt draw them)."""
    rows = [("New Tab", "Ctrl+T"), ("Close Tab", "Alt+W"), ("Close Window", "Ctrl+Shift+W"), ("Reload", "F5")]
    els = []
    for i, (name, keys) in enumerate(rows):
        y = 100 + 30 * i
        els.append(_el(2 * i, Rect(100, y, 180, y + 20), name))
        els.append(_el(2 * i + 1, Rect(420, y, 480, y + 20), keys, ElementKind.TEXT))
    return ParseResult(els, 1000, 800)


@pytest.mark.parametrize(("instruction", "row"), [("Close Tab Alt+W", 1), ("Close Window Ctrl+Shift+W", 2),
                                                  ("Reload F5", 3), ("New Tab Ctrl + T", 0)])
def test_a_name_written_with_its_shortcut_finds_the_item(instruction: str, row: int) -> None:
    res = locate_target(_menu_with_shortcuts(), instruction)
    assert 100 + 30 * row <= res.point.y < 120 + 30 * row
    assert res.point.x < 200  # on the name, not on the shortcut


def test_a_shortcut_does_not_make_an_absent_name_present() -> None:
    with pytest.raises(TargetNotFound):
        locate_target(_menu_with_shortcuts(), "Print Preview Ctrl+P")


@pytest.mark.parametrize("sign", ["√", "±", "≠", "∑", "€"])
def test_a_mathematical_sign_is_a_name(sign: str) -> None:
    assert parse_instruction(f'click "{sign}"').label == sign
    keys = [_el(i, Rect(100 + 40 * i, 100, 130 + 40 * i, 130), t, ElementKind.BUTTON)
            for i, t in enumerate(["7", "√", "±", "≠", "∑", "€", "="])]
    res = locate_target(ParseResult(keys, 1000, 800), f'click "{sign}"')
    assert res.element.text == sign


def test_a_sign_is_not_a_piece_of_another_sign() -> None:
    # A calculator's backspace "<-" is not its minus "-": signs stand apart by spaces, not word boundaries.
    back = Element(1, ElementKind.BUTTON, Rect(100, 100, 130, 120), "<-", 0.99, "ocr",
                   (TextLine(Rect(100, 100, 130, 120), "<-", 0.99),))
    with pytest.raises(TargetNotFound):
        locate_target(ParseResult([back], 800, 600), "-")
    minus = Element(2, ElementKind.BUTTON, Rect(200, 100, 230, 120), "-", 0.99, "ocr",
                    (TextLine(Rect(200, 100, 230, 120), "-", 0.99),))
    assert locate_target(ParseResult([back, minus], 800, 600), "-").element.id == 2


def _rows_with_shortcuts_in_one_element() -> ParseResult:
    """A menu whose rows the detector took whole: each element holds the name's line and the shortcut's."""
    rows = [("Find...", "Ctrl+F"), ("Find Next", "Ctrl+G"), ("Find Previous", "Shift+Ctrl+G"), ("Replace...", "Ctrl+H")]
    els = []
    for i, (name, keys) in enumerate(rows):
        y = 100 + 30 * i
        name_ln = TextLine(Rect(110, y, 190, y + 20), name, 0.98)
        keys_ln = TextLine(Rect(400, y, 470, y + 20), keys, 0.98)
        els.append(Element(i, ElementKind.MENU_ITEM, Rect(100, y - 4, 480, y + 24), f"{name} {keys}", 0.9, "vision",
                           (name_ln, keys_ln)))
    return ParseResult(els, 1000, 800)


@pytest.mark.parametrize(("name", "row"), [("Find…", 0), ("Find Next", 1), ("Find Previous", 2), ("Replace...", 3)])
def test_a_row_of_name_and_shortcut_is_the_name_as_a_whole(name: str, row: int) -> None:
    """The key combination after an item's name is not part of the name: "Find..." is the whole of the row
    "Find...  Ctrl+F", clicked on the name, not weighed as a word inside a longer text."""
    res = locate_target(_rows_with_shortcuts_in_one_element(), f'click "{name}"')
    assert res.element.id == row
    assert res.point.x < 200


def test_a_name_that_only_begins_a_row_is_still_partial() -> None:
    # "Find" is not the row "Find Next  Ctrl+G" (nor "Find...  Ctrl+F" read as "Find..."): abstain or pick
    # the row whose name is "Find..." (the dots are punctuation), never "Find Next".
    try:
        res = locate_target(_rows_with_shortcuts_in_one_element(), 'click "Find"')
    except TargetNotFound:
        return
    assert res.element.id == 0


def test_the_minus_sign_and_the_hyphen_are_one_sign() -> None:
    keys = [_el(i, Rect(100 + 40 * i, 100, 130 + 40 * i, 130), t, ElementKind.BUTTON)
            for i, t in enumerate(["7", "+/-", "×", "÷"])]
    assert locate_target(ParseResult(keys, 1000, 800), 'click "+/−"').element.text == "+/-"


def test_a_sign_read_as_a_lookalike_ideograph_is_found() -> None:
    """PP-OCR reads a lone "+" key as "十" (ten) and "-" as "一" (one): they are found folded, as "1" for "l"."""
    keys = [_el(i, Rect(100 + 40 * i, 100, 130 + 40 * i, 130), t, ElementKind.BUTTON)
            for i, t in enumerate(["7", "十", "一", "×"])]
    parse = ParseResult(keys, 1000, 800)
    assert locate_target(parse, 'click "+"').element.text == "十"
    assert locate_target(parse, 'click "-"').element.text == "一"


def test_a_title_the_text_detector_cut_at_its_dash_is_found() -> None:
    """A window title "…/target.txt - Mousepad" that the text detector read as two lines, the lone dash lost
    between them, is still the title asked for: a hyphen standing alone between words is a separator."""
    assert normalize("target.txt - Mousepad") == normalize("target.txt  Mousepad") == "target.txt mousepad"
    assert normalize("+/-") == "+/-" and normalize("-") == "-" and normalize("x -y") == "x -y"
    left = Rect(660, 62, 937, 85)
    right = Rect(991, 63, 1068, 83)
    other = Rect(20, 61, 429, 84)
    els = [_el(0, left, "/tmp/home/Documents/target.txt", ElementKind.TEXT),
           _el(1, right, "Mousepad", ElementKind.TEXT),
           _el(2, other, "/tmp/home/Documents/source.txt - Mousepad", ElementKind.TEXT)]
    res = locate_target(ParseResult(els, 1280, 800), 'click "target.txt - Mousepad"')
    assert left.x1 <= res.point.x <= right.x2 and res.point.y < 90
