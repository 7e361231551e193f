"""The OCR engine's reading of a line depends on that line's pixels alone."""

from __future__ import annotations

import cv2
import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.perception.ocr import RapidOcrEngine


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
