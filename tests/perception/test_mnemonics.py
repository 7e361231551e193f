"""Mnemonic underlines are taken out before a line is read; letters, descenders, underscores and long
underlines stay. Lines are rendered here with Qt's own text engine (a real font, as menus draw them)."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_agent.geometry import Rect
from desktop_agent.perception.mnemonics import erase_mnemonic_underlines
from desktop_agent.perception.ocr import RapidOcrEngine


def _line(text: str, underline: tuple[int, int] | None = None, gap: int = 1, shade: int = 40,
          px: int = 14) -> np.ndarray:
    """`text` in black on menu grey; `underline` = (first, last) character index to underline, drawn `gap`
    rows under the baseline (0: touching it, as GTK 2 draws it) in grey `shade`."""
    from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QImage, QPainter

    _app = QGuiApplication.instance() or QGuiApplication([])
    font = QFont("DejaVu Sans")
    font.setPixelSize(px)
    fm = QFontMetrics(font)
    w, h = fm.horizontalAdvance(text) + 16, fm.height() + 10
    img = QImage(w, h, QImage.Format.Format_RGB888)
    img.fill(QColor(237, 237, 237))
    p = QPainter(img)
    p.setFont(font)
    p.setPen(QColor(0, 0, 0))
    base = 5 + fm.ascent()
    p.drawText(8, base, text)
    if underline is not None:
        x1 = 8 + fm.horizontalAdvance(text[:underline[0]])
        x2 = 8 + fm.horizontalAdvance(text[:underline[1] + 1])
        p.fillRect(x1, base + gap, x2 - x1, 1, QColor(shade, shade, shade))
    p.end()
    arr = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(h, img.bytesPerLine())
    return arr[:, : w * 3].reshape(h, w, 3)[:, :, ::-1].copy()


@pytest.mark.parametrize("gap", [0, 1])
def test_a_mnemonic_underline_is_erased(gap: int) -> None:
    plain = _line("File")
    marked = _line("File", (0, 0), gap=gap)
    assert not np.array_equal(plain, marked)
    cleaned = erase_mnemonic_underlines(marked)
    assert int(np.abs(cleaned.astype(int) - plain.astype(int)).max()) <= 40  # the stroke is gone, letters untouched
    assert np.array_equal(erase_mnemonic_underlines(plain), plain)


@pytest.mark.parametrize("text", ["Typography", "jumping quickly", "my_file_name.txt", "Eggs, Bookmarks"])
def test_letters_descenders_and_underscores_stay(text: str) -> None:
    line = _line(text)
    assert erase_mnemonic_underlines(line) is line


def test_an_underlined_link_stays_underlined() -> None:
    line = _line("Read the documentation", (0, 21))
    assert erase_mnemonic_underlines(line) is line


def test_the_recognizer_reads_the_letter_not_the_stroke() -> None:
    engine = RapidOcrEngine()
    for text, idx in (("File", 0), ("Tools", 0), ("Tabs", 0)):
        img = _line(text, (idx, idx), gap=1, px=13)
        (read, _), = engine.recognize(img, [Rect(0, 0, img.shape[1], img.shape[0])])
        assert read == text


def test_a_border_above_the_line_does_not_hide_the_underline() -> None:
    """A menu bar's box often takes in a row of the title bar's edge above it: that rule is no letter (where
    the gaps between items are wide, most columns hold only it), and the underlines under "File" and "Tools"
    are still found and taken out (PCManFM-Qt's menu bar, whose "File" was read "Eile")."""
    text = "File          Edit          Tools"
    plain = _line(text, None, px=13)
    marked = plain.copy()
    for first in (0, text.index("T")):
        marked = np.minimum(marked, _line(text, (first, first), gap=1, px=13))
    plain[0] = marked[0] = (160, 120, 60)  # the border: inked across the whole box
    cleaned = erase_mnemonic_underlines(marked)
    assert int(np.abs(cleaned.astype(int) - plain.astype(int)).max()) <= 40
