"""A name is matched as a whole: exact before "starts with", whole words only, no word added or dropped.

Parse results built by hand (pure logic, no display); the texts are the kinds of confusion seen on
desktop menus, not samples of any measuring set.
"""

from __future__ import annotations

import pytest

from desktop_agent.errors import TargetNotFound
from desktop_agent.geometry import Rect
from desktop_agent.grounding.locate import locate_target, rank_targets
from desktop_agent.perception.elements import Element, ElementKind, ParseResult, TextLine


def _el(i: int, box: Rect, text: str, kind: ElementKind = ElementKind.TEXT) -> Element:
    return Element(i, kind, box, text, 0.99, "ocr", (TextLine(box, text, 0.99),))


def _screen(*elements: Element) -> ParseResult:
    return ParseResult(list(elements), 1000, 800)


def _menu(*texts: str, kind: ElementKind = ElementKind.MENU_ITEM) -> list[Element]:
    """A vertical menu: one item per row, 30 px apart."""
    return [_el(i, Rect(100, 100 + 30 * i, 300, 120 + 30 * i), t, kind) for i, t in enumerate(texts)]


def _row_of(res_y: float) -> int:
    return int((res_y - 100) // 30)


@pytest.mark.parametrize("kind", [ElementKind.MENU_ITEM, ElementKind.TEXT])
def test_the_exact_item_beats_one_that_starts_with_the_label(kind: ElementKind) -> None:
    items = _menu("Save as...", "Save", "Save All", kind=kind)
    res = locate_target(_screen(*items), "Save")
    assert res.element.text == "Save"
    assert _row_of(res.point.y) == 1


def test_exact_beats_starts_with_even_when_the_longer_item_has_the_asked_kind() -> None:
    # "the Save menu item": the longer item is a menu item, the exact one was read as plain text by OCR.
    save_as = _el(1, Rect(100, 100, 300, 120), "Save as...", ElementKind.MENU_ITEM)
    save = _el(2, Rect(100, 130, 300, 150), "Save", ElementKind.TEXT)
    res = locate_target(_screen(save_as, save), "the Save menu item")
    assert res.element.id == 2


def test_exact_beats_starts_with_when_the_exact_one_is_a_glyph_folded_read() -> None:
    # OCR read "Save" as "5ave" (5 for S): still the item whose whole text is the label.
    save_as = _el(1, Rect(100, 100, 300, 120), "Save as", ElementKind.MENU_ITEM)
    save = _el(2, Rect(100, 130, 300, 150), "5ave", ElementKind.TEXT)
    res = locate_target(_screen(save_as, save), "the Save menu item")
    assert res.element.id == 2


def test_save_as_is_found_on_its_own_item_not_on_save() -> None:
    items = _menu("Save", "Save as...", "Save All")
    res = locate_target(_screen(*items), "Save As…")
    assert res.element.text == "Save as..."


@pytest.mark.parametrize("instruction", ["Select All", "select all", "click Select All"])
def test_a_label_inside_a_longer_word_is_not_that_word(instruction: str) -> None:
    items = _menu("Deselect All", "Select All", "Invert Selection")
    res = locate_target(_screen(*items), instruction)
    assert res.element.text == "Select All"


def test_only_the_longer_word_on_screen_abstains() -> None:
    # Neither the whole name (not a misreading of "Deselect All") nor "All" inside "Deselect All".
    screen = _screen(*_menu("Deselect All", "Invert Selection"))
    for instruction in ("Select All", "select all"):
        with pytest.raises(TargetNotFound):
            locate_target(screen, instruction)


def test_a_verb_that_begins_a_name_is_part_of_it() -> None:
    menubar = [_el(10 + i, Rect(10 + 90 * i, 5, 80 + 90 * i, 25), t, ElementKind.MENU_ITEM)
               for i, t in enumerate(("File", "Edit", "Database", "Help"))]
    items = _menu("New Database...", "Open Database...", "Close Database")
    res = locate_target(_screen(*menubar, *items), "Open Database...")
    assert res.element.text == "Open Database..."
    # With the phrase not on screen, the verb is a verb again: "Open Database" opens the menu title.
    res = locate_target(_screen(*menubar), "Open Database")
    assert res.element.text == "Database"
    # "open the ..." is always a verb.
    res = locate_target(_screen(*menubar, *items), "open the Database")
    assert res.element.text == "Database"


def test_a_multi_word_name_is_not_one_of_its_words() -> None:
    with pytest.raises(TargetNotFound):
        locate_target(_screen(_el(1, Rect(0, 0, 100, 20), "Folder")), "New Folder")
    with pytest.raises(TargetNotFound):
        locate_target(_screen(_el(1, Rect(0, 0, 100, 20), "Save")), "Save as...")
    # A name that begins with a verb, held to the strict rule: inside a longer word it is another name.
    with pytest.raises(TargetNotFound):
        locate_target(_screen(_el(1, Rect(0, 0, 300, 20), "Reopen Database Settings")), "Open Database Settings")


def test_an_ocr_slip_inside_a_word_is_a_candidate_less_sure_than_an_exact_read() -> None:
    # One character changed or dropped is a misreading, not another word: the element is the candidate, but
    # whether it is clicked is the calibrated probability's call (real screens say a slip is less sure).
    for read, name in (("Preferenoes", "Preferences"), ("Bokmarks", "Bookmarks")):
        (p_slip, el, _), *_ = rank_targets(_screen(_el(1, Rect(0, 0, 200, 20), read)), name)
        (p_exact, _, _), *_ = rank_targets(_screen(_el(1, Rect(0, 0, 200, 20), name)), name)
        assert el.id == 1 and p_slip < p_exact


def test_words_inside_a_longer_line_still_count_below_an_exact_item() -> None:
    line = _el(1, Rect(0, 0, 400, 20), "Save your work before you quit")
    res = locate_target(_screen(line), "Save")
    assert res.point.x < 60  # the span of "Save" in the line
    item = _el(2, Rect(0, 100, 80, 120), "Save", ElementKind.BUTTON)
    ranked = rank_targets(_screen(line, item), "Save")
    assert ranked[0][1].id == 2


@pytest.mark.parametrize("name", ["New Tab", "Copy Link", "Add Item"])
def test_a_name_ending_in_a_kind_word_is_a_whole_name_first(name: str) -> None:
    # "New Tab" is an item's name, not a tab named "New": the line with "new" in it is not it.
    sentence = _el(1, Rect(100, 300, 600, 320), f"Open a {name.split()[0].lower()} window for the task")
    item = _el(2, Rect(100, 100, 300, 120), name, ElementKind.MENU_ITEM)
    res = locate_target(_screen(sentence, item), name)
    assert res.element.id == 2


def test_a_kind_word_still_names_the_kind_when_no_name_carries_it() -> None:
    save = _el(1, Rect(100, 100, 160, 120), "Save", ElementKind.BUTTON)
    assert locate_target(_screen(save), "the Save button").element.id == 1
