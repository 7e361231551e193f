"""The OCR engine's reading of a line depends on that line's pixels alone."""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.perception.ocr import BAND_OVERLAP, RapidOcrEngine, bands, groups_by_area


def test_a_lines_reading_does_not_depend_on_the_lines_read_with_it() -> None:
    img = np.full((120, 1400, 3), 250, np.uint8)
    cv2.putText(img, "Save changes", (10, 35), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (30, 30, 30), 2, cv2.LINE_AA)
    long_line = "Every line of this paragraph is read by the same model, batched with its neighbours"
    cv2.putText(img, long_line, (10, 95), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (30, 30, 30), 2, cv2.LINE_AA)
    short, wide = Rect(4, 10, 190, 46), Rect(4, 70, 1395, 106)
    alone = RapidOcrEngine().recognize(img, [short])
    together = RapidOcrEngine().recognize(img, [short, wide])
    assert alone[0][0] == "Save changes"
    assert together[0] == alone[0]  # same text, same confidence, to the last bit
    assert together[1][0].startswith("Every line")


def test_a_tall_block_is_detected_in_bounded_bands_and_a_line_on_a_seam_is_found_once() -> None:
    # A column of lines 33 px apart, 1200 wide: with a budget of 120,000 pixels it runs as bands of 192
    # rows (the least a band has: three overlaps) that overlap by 64, so lines fall on band edges.
    img = np.full((700, 1200, 3), 250, np.uint8)
    words = [f"Item number {n:02d} ready" for n in range(20)]
    for n, word in enumerate(words):
        cv2.putText(img, word, (20, 30 + 33 * n), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (30, 30, 30), 2, cv2.LINE_AA)
    block = Rect(0, 0, 1200, 700)
    parts = bands(block, 120_000)
    assert parts[0].y1 == 0 and parts[-1].y2 == 700 and len(parts) == 5
    assert all(b.height <= 192 for b in parts)
    assert all(a.y2 - b.y1 == BAND_OVERLAP for a, b in itertools.pairwise(parts))
    engine = RapidOcrEngine()
    whole = sorted(engine.detect(img, [block]), key=lambda r: r.y1)
    import desktop_agent.perception.ocr as ocr

    budget = ocr.DET_MAX_PIXELS
    ocr.DET_MAX_PIXELS = 120_000
    try:
        banded = sorted(engine.detect(img, [block]), key=lambda r: r.y1)
    finally:
        ocr.DET_MAX_PIXELS = budget
    read = [t for t, _ in engine.recognize(img, banded)]
    assert read == words  # every line once, whole
    assert len(banded) == len(whole)


def test_short_blocks_are_grouped_by_area_in_order() -> None:
    blocks = [Rect(0, 0, 100, 20), Rect(0, 40, 300, 60), Rect(0, 80, 100, 100), Rect(0, 120, 2000, 140)]
    groups = groups_by_area(blocks, 16_000)
    assert [b for g in groups for b in g] == blocks
    assert [len(g) for g in groups] == [2, 1, 1]


def test_cjk_is_read_and_arabic_is_not_read_as_latin() -> None:
    """Lines of three scripts on one screen, through the parse's own OCR: the CJK line is read (the recognizer
    is multilingual); rapidocr's model has no Arabic, and the Arabic line must not come back as Latin letters
    that a `click` could match."""
    from PIL import Image, ImageDraw, ImageFont

    from desktop_agent.perception.ocr import read_lines
    from tests.fonts import required_font

    img = Image.new("RGB", (900, 200), (250, 250, 250))
    draw = ImageDraw.Draw(img)
    for y, text, face, size in ((20, "打开文件 保存设置", "truetype/wqy/wqy-microhei.ttc", 18),
                                (80, "فتح الملف الأخير", "truetype/noto/NotoSansArabic-Regular.ttf", 18),
                                (140, "Open Recent Files", "truetype/noto/NotoSans-Regular.ttf", 16)):
        draw.text((20, y), text, font=ImageFont.truetype(required_font(face), size), fill=(20, 20, 20))
    lines = read_lines(RapidOcrEngine(), np.asarray(img)[:, :, ::-1].copy(), [Rect(0, 0, 900, 200)])
    by_row = {int(line.bbox.center.y // 60): line.text for line in lines}
    assert by_row.get(0, "").replace(" ", "") == "打开文件保存设置"
    assert by_row.get(2) == "Open Recent Files"
    assert not any(c.isascii() and c.isalpha() for c in by_row.get(1, "")), by_row
