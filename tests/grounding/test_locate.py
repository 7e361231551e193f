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
