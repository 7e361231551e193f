"""Real OCR and detection on real rendered screens; incremental parses match full ones."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from desktop_agent.capture.frame import frame_from_file, load_image
from desktop_agent.errors import ImageReadError
from desktop_agent.perception.elements import ElementKind
from desktop_agent.perception.parser import ScreenParser


def _texts(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {e.text for e in result.elements if e.text}


def test_parse_reads_a_real_screen(parser: ScreenParser, dev_set: Path) -> None:
    frame = frame_from_file(dev_set / "images" / "datasette__query__1920x1080.png")
    result = parser.parse(frame.image, incremental=False)
    texts = _texts(result)
    assert "Run SQL" in texts and "Format SQL" in texts
    run_sql = next(e for e in result.elements if e.text == "Run SQL")
    assert run_sql.kind == ElementKind.BUTTON
    # Boxes are in image pixels and tight: the button is about 84x30 on this screen.
    assert 60 <= run_sql.bbox.width <= 110 and 20 <= run_sql.bbox.height <= 40
    assert [e.id for e in result.elements] == list(range(1, len(result.elements) + 1))
    for k in ("ocr_det", "ocr_rec", "detect", "merge", "total"):
        assert k in result.timings


def test_incremental_parse_rereads_only_what_changed(parser: ScreenParser, dev_set: Path) -> None:
    image = load_image(dev_set / "images" / "datasette__query__1920x1080.png")
    parser.reset()
    full = parser.parse(image)
    edited = image.copy()
    # Write a new word on the page, as an app would when a status line changes.
    cv2.rectangle(edited, (1300, 900), (1700, 960), (255, 255, 255), -1)
    cv2.putText(edited, "Saved draft", (1310, 945), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (20, 20, 20), 2, cv2.LINE_AA)
    inc = parser.parse(edited)
    assert inc.incremental
    fresh = ScreenParser(parser.ocr, parser.detector).parse(edited, incremental=False)
    # The same text at the same place (within a few pixels: the detector sees each block beside other
    # neighbours in its mosaic, so a box can move by a pixel and a space come or go).
    def placed(result) -> list[tuple[str, float, float]]:  # type: ignore[no-untyped-def]
        return sorted((e.text.replace(" ", ""), e.bbox.center.x, e.bbox.center.y) for e in result.elements if e.text)

    a, b = placed(inc), placed(fresh)
    assert len(a) == len(b)
    for (ta, xa, ya), (tb, xb, yb) in zip(a, b, strict=True):
        assert ta == tb and abs(xa - xb) <= 4 and abs(ya - yb) <= 4
    assert "Saved draft" in _texts(inc)
    assert _texts(full) <= _texts(inc)
    # Unchanged screen: nothing is read again.
    again = parser.parse(edited)
    assert again.timings["ocr_det"] == 0 and again.timings["ocr_rec"] == 0
    assert _texts(again) == _texts(inc)


def test_a_blank_screen_has_no_elements(parser: ScreenParser) -> None:
    result = parser.parse(np.full((600, 800, 3), 240, np.uint8), incremental=False)
    assert result.elements == []


@pytest.mark.parametrize(
    ("content", "why"),
    [(b"", "the file is empty"), (b"not an image at all", "not a PNG/JPEG"), (None, "no such file")],
)
def test_unreadable_images_raise_a_clear_error(tmp_path: Path, content: bytes | None, why: str) -> None:
    path = tmp_path / "shot.png"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImageReadError, match=why):
        load_image(path)


def test_content_blocks_keep_dense_words_and_drop_separators(dev_set: Path) -> None:
    """A bold word on a wide filled button makes edge runs as long as a border's; only the border goes."""
    from desktop_agent.perception.regions import content_blocks

    img = cv2.imread(str(dev_set / "images" / "swagger-ui__try-it-out__1280x800.png"))
    blocks = content_blocks(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    # "Execute", white on the 1200 px wide blue button at y 651-687.
    assert any(b.x1 <= 610 and b.x2 >= 671 and b.y1 <= 660 and b.y2 >= 679 for b in blocks), blocks
    # The button's own top and bottom edges are borders: no block spans them.
    assert not any(b.width > 600 and b.y1 <= 651 <= b.y2 for b in blocks), blocks


def test_mosaic_blocks_sit_in_their_own_edge_colour() -> None:
    """On a black desktop a grey dialog's block must not arrive framed in black: OCR's detector then
    loses words near its edge (a dialog's 'Yes' was missed so)."""
    from desktop_agent.geometry import Rect
    from desktop_agent.perception.regions import GAP, pack_mosaic

    screen = np.zeros((300, 400, 3), np.uint8)
    screen[100:160, 50:250] = 200  # the dialog's grey
    screen[50:70, 300:380] = 90  # another block, another grey
    blocks = [Rect(50, 100, 250, 160), Rect(300, 50, 380, 70)]
    mosaic, slots = pack_mosaic(screen, blocks, width=400)
    for s, grey in zip(slots, (200, 90), strict=True):
        w, h = int(s.source.width), int(s.source.height)
        margin = mosaic[s.top:s.top + h, s.left + w:s.left + w + GAP // 2]
        assert margin.size and (margin == grey).all()


def test_a_controls_lines_join_in_reading_order() -> None:
    from desktop_agent.geometry import Rect
    from desktop_agent.perception.detector import Proposal
    from desktop_agent.perception.elements import TextLine
    from desktop_agent.perception.merge import merge_elements

    lines = [TextLine(Rect(372, 484, 432, 501), "advanced", 0.99), TextLine(Rect(373, 470, 413, 488), "Build", 0.99)]
    tab = Proposal(ElementKind.TAB, Rect(369, 451, 442, 509), 0.9)
    (element,) = merge_elements(lines, [tab])
    assert element.kind == ElementKind.TAB and element.text == "Build advanced"
