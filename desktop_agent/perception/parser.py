"""`ScreenParser`: a frame in, elements out; repeated parses redo only what changed."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.perception.detector import ElementDetector, OpenCvDetector
from desktop_agent.perception.elements import ParseResult, TextLine
from desktop_agent.perception.merge import merge_elements
from desktop_agent.perception.ocr import OcrEngine, RapidOcrEngine, read_lines
from desktop_agent.perception.regions import changed_regions, content_blocks

# Above this fraction of changed pixels a full parse is cheaper than bookkeeping.
INCREMENTAL_LIMIT = 0.35


@dataclass
class _Memory:
    image: np.ndarray
    lines: list[TextLine]


class ScreenParser:
    """Runs OCR and the element detector on a frame and merges them. Keeps the last frame's text so that
    the next parse re-reads only the content blocks that changed."""

    def __init__(self, ocr: OcrEngine | None = None, detector: ElementDetector | None = None) -> None:
        self.ocr = ocr or RapidOcrEngine()
        self.detector = detector or OpenCvDetector()
        self._memory: _Memory | None = None
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._memory = None

    def parse(self, image: np.ndarray, incremental: bool = True) -> ParseResult:
        with self._lock:
            return self._parse(image, incremental)

    def _parse(self, image: np.ndarray, incremental: bool) -> ParseResult:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        h, w = image.shape[:2]
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        blocks = content_blocks(gray)
        timings["regions"] = (time.perf_counter() - t0) * 1000

        mem = self._memory
        reuse = incremental and mem is not None and mem.image.shape == image.shape
        kept: list[TextLine] = []
        if reuse and mem is not None:
            changed = changed_regions(mem.image, image)
            changed_area = sum(r.area for r in changed)
            if changed_area > INCREMENTAL_LIMIT * w * h:
                reuse = False
            else:
                blocks, kept = _dirty_blocks(blocks, changed, mem.lines)
        lines = kept + read_lines(self.ocr, image, blocks, timings)
        t1 = time.perf_counter()
        proposals = self.detector.propose(image, gray)
        t2 = time.perf_counter()
        elements = merge_elements(lines, proposals)
        t3 = time.perf_counter()
        timings.setdefault("ocr_det", 0.0)
        timings.setdefault("ocr_rec", 0.0)
        timings["detect"] = (t2 - t1) * 1000
        timings["merge"] = (t3 - t2) * 1000
        timings["total"] = (t3 - t0) * 1000
        self._memory = _Memory(image.copy(), lines)
        return ParseResult(elements, w, h, timings, incremental=bool(reuse))


def _dirty_blocks(blocks: list[Rect], changed: list[Rect], lines: list[TextLine]
                  ) -> tuple[list[Rect], list[TextLine]]:
    """The blocks to read again and the old lines to keep. A line is dropped when it touches a changed
    region or a block read again; a block is read again when it holds a dropped line, so that every
    dropped line is read anew (until nothing more changes)."""
    dirty = {i for i, b in enumerate(blocks) if any(b.intersection(c) for c in changed)}
    kept = list(lines)
    while True:
        areas = changed + [blocks[i] for i in dirty]
        dropped = [ln for ln in kept if any(ln.bbox.intersection(a) for a in areas)]
        if not dropped:
            return [blocks[i] for i in sorted(dirty)], kept
        kept = [ln for ln in kept if ln not in dropped]
        dirty |= {i for i, b in enumerate(blocks) if any(b.intersection(ln.bbox) for ln in dropped)}
