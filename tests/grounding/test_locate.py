"""Grounding logic on parse results built by hand (labelled fakes), then on real dev-set screens."""

import json
from pathlib import Path

import pytest

from desktop_agent.capture.frame import frame_from_file
from desktop_agent.errors import TargetNotFound
from desktop_agent.geometry import Rect
from desktop_agent.grounding.instruction import parse_instruction
from desktop_agent.grounding.locate import locate_target
from desktop_agent.perception.elements import Element, ElementKind, ParseResult, TextLine


def _text(i: int, box: Rect, text: str) -> Element:
    return Element(i, ElementKind.TEXT, box, text, 0.99, "ocr", (TextLine(box, text, 0.99),))


def _screen(*elements: Element) -> ParseResult:
    return ParseResult(list(elements), 1000, 800)


@pytest.mark.parametrize(
    ("instruction", "label", "kind"),
    [
        ("Save", "save", None),
        ('click the "Save As…" button', "save as", ElementKind.BUTTON),
        ("the search field", "search", ElementKind.INPUT),
        ("click on Settings", "settings", None),
        ("the Remember me checkbox", "remember me", ElementKind.CHECKBOX),
    ],
)
def test_instruction_reading(instruction: str, label: str, kind: ElementKind | None) -> None:
    ins = parse_instruction(instruction)
    assert (ins.label, ins.kind) == (label, kind)


def test_word_inside_a_menu_bar_line_gets_its_own_span() -> None:
    line = _text(1, Rect(0, 0, 300, 20), "File Edit View Help")
    res = locate_target(_screen(line), "View")
    assert 150 < res.point.x < 230  # inside "View", not the centre of the whole line
    assert res.bbox.width < 100


def test_label_beside_a_field_points_at_the_field_when_typing() -> None:
    label = _text(1, Rect(10, 10, 50, 30), "Name")
    field = Element(2, ElementKind.INPUT, Rect(60, 8, 360, 32), "Name", 0.9, "ocr+detector")
    res = locate_target(_screen(label, field), "Name", prefer=ElementKind.INPUT)
    assert res.element.id == 2
    assert field.bbox.contains(res.point)


def test_ocr_confusable_glyphs_still_match() -> None:
    line = _text(1, Rect(0, 0, 200, 20), "/1oans List open loans")
    res = locate_target(_screen(line), "/loans")
    assert res.point.x < 60


def test_a_label_on_two_lines_is_found_on_its_control() -> None:
    top = _text(1, Rect(100, 100, 140, 116), "Save")
    low = _text(2, Rect(96, 118, 146, 134), "export")
    elsewhere = _text(3, Rect(400, 100, 460, 116), "export")
    res = locate_target(_screen(top, low, elsewhere), "Save export")
    assert 96 <= res.point.x <= 146 and 100 <= res.point.y <= 134


def test_neighbouring_words_with_overlapping_boxes_and_a_badge_form_one_phrase() -> None:
    zoom = _text(1, Rect(55, 22, 90, 36), "zoom")
    trash = _text(2, Rect(86, 22, 126, 36), "trash")  # OCR boxes of neighbouring words overlap a little
    assert locate_target(_screen(zoom, trash), "zoom trash").bbox.x1 <= 60
    badge = Element(1, ElementKind.BUTTON, Rect(0, 0, 60, 28), "POST", 0.99, "ocr+detector",
                    (TextLine(Rect(12, 6, 48, 22), "POST", 0.99),))
    path = _text(2, Rect(68, 6, 260, 22), "/loans Lend a book")
    other = _text(3, Rect(68, 60, 260, 76), "/loans List loans")
    res = locate_target(_screen(badge, path, other), "POST /loans Lend a book")
    assert res.point.y < 28


def test_a_field_is_not_named_by_words_inside_a_longer_line_beside_it() -> None:
    field = Element(1, ElementKind.INPUT, Rect(600, 8, 900, 32), "3.11 Documentation » Library", 0.9, "ocr+detector")
    crumbs = _text(2, Rect(10, 10, 300, 30), "3.11 Documentation » Library")
    res = locate_target(_screen(field, crumbs), "3.11 Documentation")
    assert res.point.x < 300


def test_absent_target_abstains_with_the_closest_candidate_named() -> None:
    screen = _screen(_text(1, Rect(0, 0, 80, 20), "Format SQL"))
    with pytest.raises(TargetNotFound, match="closest: 'Format SQL'"):
        locate_target(screen, "Run SQL")


def test_empty_instruction_abstains() -> None:
    with pytest.raises(TargetNotFound, match="nothing to look for"):
        locate_target(_screen(), "click the")


def test_real_screens_of_the_dev_set(parser, dev_set: Path) -> None:  # type: ignore[no-untyped-def]
    """A few text targets and absent targets on real screenshots, with the real OCR."""
    samples = json.loads((dev_set / "annotations.json").read_text())
    absent = json.loads((dev_set / "absent" / "annotations.json").read_text())
    image = "images/datasette__query__1920x1080.png"
    parsed = parser.parse(frame_from_file(dev_set / image).image, incremental=False)
    text_samples = [s for s in samples if s["img_filename"] == image and s["data_type"] == "text"]
    assert text_samples
    hits = 0
    for s in text_samples:
        try:
            res = locate_target(parsed, s["instruction"])
        except TargetNotFound:
            continue
        hits += Rect(*s["bbox"]).contains(res.point)
    assert hits >= 0.8 * len(text_samples)
    for s in [a for a in absent if a["img_filename"].endswith(Path(image).name)]:
        with pytest.raises(TargetNotFound):
            locate_target(parsed, s["instruction"])
