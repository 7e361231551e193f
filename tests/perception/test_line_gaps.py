"""A line that is several items (a menu bar) is cut at its wide gaps; a sentence is not. Lines are rendered
with Qt's text engine in a real font; the last test reads a real menu bar end to end and grounds in it."""

from __future__ import annotations

import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.grounding.locate import locate_target
from desktop_agent.perception.elements import Element, ElementKind, ParseResult, TextLine
from desktop_agent.perception.line_gaps import split_at_wide_gaps
from desktop_agent.perception.ocr import RapidOcrEngine, read_lines


def _render(items: list[str], gap_px: int, px: int = 14) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The items on one row, `gap_px` apart, and each item's [x1, x2)."""
    from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QImage, QPainter

    _app = QGuiApplication.instance() or QGuiApplication([])
    font = QFont("DejaVu Sans")
    font.setPixelSize(px)
    fm = QFontMetrics(font)
    spans, x = [], 10
    for t in items:
        w = fm.horizontalAdvance(t)
        spans.append((x, x + w))
        x += w + gap_px
    img = QImage(x + 10, fm.height() + 12, QImage.Format.Format_RGB888)
    img.fill(QColor(240, 240, 240))
    p = QPainter(img)
    p.setFont(font)
    p.setPen(QColor(20, 20, 20))
    for t, (x1, _) in zip(items, spans, strict=True):
        p.drawText(x1, 6 + fm.ascent(), t)
    p.end()
    w, h = img.width(), img.height()
    arr = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(h, img.bytesPerLine())
    return arr[:, : w * 3].reshape(h, w, 3)[:, :, ::-1].copy(), spans


def test_a_menu_bar_read_as_one_line_is_cut_into_its_items() -> None:
    img, spans = _render(["Archive", "Action", "Help"], gap_px=18)
    line = TextLine(Rect(0, 0, img.shape[1], img.shape[0]), "Archive Action Help", 0.95)
    parts = split_at_wide_gaps(img, line)
    assert [p.text for p in parts] == ["Archive", "Action", "Help"]
    for p, (x1, x2) in zip(parts, spans, strict=True):
        assert p.bbox.x1 <= x1 + 1 and p.bbox.x2 >= x2 - 1 and p.bbox.x2 < x2 + 18


def test_a_sentence_stays_one_line() -> None:
    img, _ = _render(["Archive tree of the current folder"], gap_px=0)
    line = TextLine(Rect(0, 0, img.shape[1], img.shape[0]), "Archive tree of the current folder", 0.95)
    assert split_at_wide_gaps(img, line) == [line]


def test_the_menu_entry_wins_over_a_line_that_contains_the_word() -> None:
    """Read for real: the menu bar's "File" is found as itself, not inside "New file opened"."""
    bar, _ = _render(["File", "Edit", "View", "Help"], gap_px=20)
    status, _ = _render(["New file opened"], gap_px=0)
    screen = np.full((200, 400, 3), 240, np.uint8)
    screen[10:10 + bar.shape[0], :bar.shape[1]] = bar
    screen[150:150 + status.shape[0], :status.shape[1]] = status
    lines = read_lines(RapidOcrEngine(), screen, [Rect(0, 0, 400, 200)])
    assert "File" in [ln.text for ln in lines]
    els = [Element(i, ElementKind.TEXT, ln.bbox, ln.text, ln.score, "ocr", (ln,)) for i, ln in enumerate(lines)]
    res = locate_target(ParseResult(els, 400, 200), "File")
    assert res.point.y < 60


def test_a_border_the_line_box_reaches_into_does_not_join_the_items() -> None:
    """A menu bar's box often takes in a row of the window's edge above it (a title bar's border): that rule
    inks every column, and the items must still come apart."""
    img, _ = _render(["File", "Edit", "View", "Help"], gap_px=18)
    img[0] = (60, 90, 160)  # a coloured rule across the whole box
    line = TextLine(Rect(0, 0, img.shape[1], img.shape[0]), "File Edit View Help", 0.95)
    assert [p.text for p in split_at_wide_gaps(img, line)] == ["File", "Edit", "View", "Help"]


def test_the_highlighted_item_of_an_open_menu_does_not_join_the_items() -> None:
    """The menu bar of an open menu marks its item with a bar under it that reaches into the padding beside it
    (GTK 3's Adwaita): the bar is not taken for letters, and the items still come apart."""
    items = ["File", "Edit", "View", "Terminal", "Help"]
    img, spans = _render(items, gap_px=18)
    x1, x2 = spans[1][0] - 8, spans[1][1] + 8  # the item's box: its text and the padding each side
    underlined = img.copy()
    underlined[-3:, x1:x2] = (53, 132, 228)
    line = TextLine(Rect(0, 0, img.shape[1], img.shape[0]), " ".join(items), 0.95)
    assert [p.text for p in split_at_wide_gaps(underlined, line)] == items


def test_dashes_are_letters_not_bars() -> None:
    """A hyphen or a dash is flat too, but shorter than a bar under an item: it stays ink, and the text around it
    is not cut there."""
    img, _ = _render(["notes.txt", "-", "Mousepad"], gap_px=8)  # a monospace title's spaces
    line = TextLine(Rect(0, 0, img.shape[1], img.shape[0]), "notes.txt - Mousepad", 0.95)
    assert split_at_wide_gaps(img, line) == [line]
