"""PP-OCR's models run without the rapidocr package: the detector's post-processing on known maps, and the
whole engine never importing the package."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.perception.ppocr import UNCLIP_RATIO, boxes_from_probabilities


def test_a_confident_region_becomes_its_box_grown_by_the_unclip_distance() -> None:
    prob = np.zeros((96, 320), np.float32)
    prob[40:50, 100:200] = 0.9  # a shrunk text kernel, 100 x 10 pixels
    (box,) = boxes_from_probabilities(prob)
    # The kernel's rectangle as the contour sees it (one pixel wider from the dilation) grown on every side
    # by area * ratio / perimeter.
    w, h = 100, 10
    grow = w * h * UNCLIP_RATIO / (2 * (w + h))
    want = Rect(100 - grow, 40 - grow, 200 + grow, 50 + grow)
    assert max(abs(a - b) for a, b in zip(box.int_box(), want.int_box(), strict=True)) <= 1.5, (box, want)


def test_weak_tiny_and_absent_regions_give_no_boxes() -> None:
    prob = np.zeros((96, 320), np.float32)
    prob[10:30, 10:100] = 0.35  # above the binarisation threshold, below the box threshold
    prob[60:62, 200:202] = 0.95  # two pixels: below the smallest side
    assert boxes_from_probabilities(prob) == []
    assert boxes_from_probabilities(np.zeros((64, 64), np.float32)) == []


def test_reading_text_never_imports_the_rapidocr_package() -> None:
    code = ("import sys, numpy as np\n"
            "from desktop_agent.perception.ocr import RapidOcrEngine, read_lines\n"
            "from desktop_agent.geometry import Rect\n"
            "img = np.full((60, 300, 3), 250, np.uint8)\n"
            "read_lines(RapidOcrEngine(), img, [Rect(0, 0, 300, 60)])\n"
            "print(sorted(m for m in ('rapidocr', 'shapely', 'omegaconf', 'pyclipper') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
