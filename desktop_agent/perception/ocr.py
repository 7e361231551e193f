"""Text recognition with rapidocr's ONNX models (shipped inside its wheel) on onnxruntime (`ppocr`).

PP-OCR's detector and recognizer are used as they are; what this module adds is how they are fed:
the detector runs once on a mosaic of the screen's content blocks instead of the whole screen, and
recognition results are cached by the exact pixels of each line crop, so an unchanged line is never
recognized twice.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.perception.elements import TextLine
from desktop_agent.perception.heap import large_blocks_mapped, release_freed_memory
from desktop_agent.perception.line_gaps import split_at_wide_gaps
from desktop_agent.perception.mnemonics import erase_mnemonic_underlines
from desktop_agent.perception.ppocr import DET_FILE, REC_FILE, REC_HEIGHT, LineRecognizer, TextDetector
from desktop_agent.perception.regions import GAP, MosaicSlot, mosaic_width, pack_mosaic

MIN_TEXT_SCORE = 0.5
TALL_BLOCK = 160
DET_MAX_PIXELS = 1_000_000  # one detection call's input at most (its buffers take about 200 bytes a pixel)
BAND_OVERLAP = 64  # rows two bands of a tall block share: more than a line of UI text is high
REC_MAPPED_BLOCK = 16 << 20  # a batch's output of 2560 px is 24 MB
REC_BATCH_WIDTH = 2560  # pixels of 48 px high crops per recognizer call


class OcrEngine(Protocol):
    """Finds and reads text lines (detection, then recognition)."""

    def detect(self, image: np.ndarray, blocks: list[Rect]) -> list[Rect]:
        """Boxes of text lines inside `blocks` (frame pixels)."""
        ...

    def recognize(self, image: np.ndarray, boxes: list[Rect]) -> list[tuple[str, float]]:
        """Text and confidence of each box, in order."""
        ...


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class RapidOcrEngine:
    """PP-OCR's detector and recognizer (rapidocr's model files, run by `ppocr`), loaded once, fed blocks and
    crops."""

    def __init__(self, cache_size: int = 4096, models: Path | None = None) -> None:
        """`models`: a folder with PP-OCR's two files, if not rapidocr's own (`ppocr.model_dir`)."""
        self._det = TextDetector(_threads(), models / DET_FILE if models else None)
        self._rec = LineRecognizer(_threads(), models / REC_FILE if models else None)
        self._cache: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.last_timings: dict[str, float] = {}

    # -- detection ---------------------------------------------------------------------------------
    def _det_raw(self, image: np.ndarray) -> list[Rect]:
        h, w = image.shape[:2]
        ph, pw = (h + 31) // 32 * 32, (w + 31) // 32 * 32
        if (ph, pw) != (h, w):
            image = cv2.copyMakeBorder(image, 0, ph - h, 0, pw - w, cv2.BORDER_REPLICATE)
        found = self._det.boxes(image)
        return [Rect(r.x1, r.y1, min(r.x2, w), min(r.y2, h)) for r in found]

    def detect(self, image: np.ndarray, blocks: list[Rect]) -> list[Rect]:
        """Boxes of text lines inside `blocks` (frame pixels)."""
        if not blocks:
            return []
        # Tall blocks (a column of paragraphs) run on their own: in a shelf-packed mosaic they would
        # make a whole shelf as tall as themselves. Short ones share mosaics. Each model call's input is
        # bounded (DET_MAX_PIXELS): a tall block runs in overlapping bands, the short ones in as many
        # mosaics as their area needs. (The overlap is taller than a line: a line cut
        # by one band's edge is whole in the next, and dedupe_boxes keeps that one.)
        tall = [band for b in blocks if b.height > TALL_BLOCK for band in bands(b, DET_MAX_PIXELS)]
        short = [b for b in blocks if b.height <= TALL_BLOCK]
        boxes: list[Rect] = []
        for b in tall:
            x1, y1, x2, y2 = b.int_box()
            boxes.extend(r.translated(x1, y1) for r in self._det_raw(image[y1:y2, x1:x2]))
        for group in groups_by_area(short, DET_MAX_PIXELS // 2):  # shelf packing leaves room unused
            mosaic, slots = pack_mosaic(image, group, width=mosaic_width(group, image.shape[1]))
            boxes.extend(_unpack(self._det_raw(mosaic), slots))
        return dedupe_boxes(boxes)

    # -- recognition -------------------------------------------------------------------------------
    def recognize(self, image: np.ndarray, boxes: list[Rect]) -> list[tuple[str, float]]:
        """The text and confidence of each box."""
        h, w = image.shape[:2]
        results: list[tuple[str, float] | None] = [None] * len(boxes)
        todo_keys: list[bytes] = []
        todo_idx: list[int] = []
        todo_crops: list[np.ndarray] = []
        for i, b in enumerate(boxes):
            x1, y1, x2, y2 = b.clipped(w, h).int_box()
            crop = image[y1:y2, x1:x2]
            if crop.size == 0:
                results[i] = ("", 0.0)
                continue
            key = hashlib.blake2b(crop.tobytes(), digest_size=16, person=b"%dx%d" % crop.shape[:2]).digest()
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
            if hit is not None:
                results[i] = hit
            else:
                todo_keys.append(key)
                todo_idx.append(i)
                todo_crops.append(np.ascontiguousarray(crop))
        # The recognizer pads every crop of a batch to the widest one's shape, so a line's reading would depend
        # on which lines share its batch (and the cache would keep whichever came first). Each crop is
        # instead brought to a canonical width of its own and batched only with crops of that width.
        by_width: dict[int, list[int]] = {}
        for n, crop in enumerate(todo_crops):
            todo_crops[n] = _canonical_line(erase_mnemonic_underlines(crop))
            by_width.setdefault(todo_crops[n].shape[1], []).append(n)
        # A batch's output is a distribution over about 18,000 characters for each 8 px of its width, so
        # batches are bounded by their total width: memory stays bounded however long the lines are.
        # Its largest outputs (REC_MAPPED_BLOCK) are mapped apart from the heap (heap.py).
        with large_blocks_mapped(REC_MAPPED_BLOCK):
            for width, group in by_width.items():
                per_batch = max(1, REC_BATCH_WIDTH // width)
                for start in range(0, len(group), per_batch):
                    chunk = group[start:start + per_batch]
                    read = self._rec.read([todo_crops[n] for n in chunk])
                    with self._lock:
                        for n, (text, score) in zip(chunk, read, strict=True):
                            results[todo_idx[n]] = (str(text), float(score))
                            self._cache[todo_keys[n]] = (str(text), float(score))
        with self._lock:
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return [r if r is not None else ("", 0.0) for r in results]

    def clear_cache(self) -> None:
        """Forget the recognitions cached from earlier frames."""
        with self._lock:
            self._cache.clear()


_REC_MIN_RATIO = 320 / REC_HEIGHT  # the recognizer's input is at least 320 wide


def _canonical_line(crop: np.ndarray) -> np.ndarray:
    """The crop as the recognizer will see it: 48 px high, padded on the right (with the grey that the
    recognizer's normalisation maps to zero, as its own padding) to the next width of a fixed ladder."""
    h, w = crop.shape[:2]
    ratio = w / h
    canon = _REC_MIN_RATIO
    while canon < ratio:
        canon *= 1.25
    width = int(REC_HEIGHT * canon)
    resized = cv2.resize(crop, (min(math.ceil(REC_HEIGHT * ratio), width), REC_HEIGHT))
    out = np.full((REC_HEIGHT, width, 3), 128, np.uint8)
    out[:, : resized.shape[1]] = resized if resized.ndim == 3 else resized[:, :, None]
    return out


def bands(block: Rect, max_pixels: int) -> list[Rect]:
    """`block` as horizontal bands of at most about `max_pixels` each, overlapping by BAND_OVERLAP rows."""
    rows = max(3 * BAND_OVERLAP, max_pixels // max(1, int(block.width)))
    out = [block]
    while out[-1].height > rows:
        last = out.pop()
        out += [Rect(last.x1, last.y1, last.x2, last.y1 + rows), Rect(last.x1, last.y1 + rows - BAND_OVERLAP,
                                                                     last.x2, last.y2)]
    return out


def groups_by_area(blocks: list[Rect], max_pixels: int) -> list[list[Rect]]:
    """The blocks in order, in groups of at most `max_pixels` (with their gaps; a larger block alone)."""
    groups: list[list[Rect]] = []
    area = 0.0
    for b in blocks:
        a = (b.width + GAP) * (b.height + GAP)
        if not groups or area + a > max_pixels:
            groups.append([])
            area = 0.0
        groups[-1].append(b)
        area += a
    return groups


def _unpack(boxes: list[Rect], slots: list[MosaicSlot]) -> list[Rect]:
    """Map boxes found in the mosaic back to frame pixels, each through the slot holding its centre."""
    out = []
    for b in boxes:
        c = b.center
        for s in slots:
            sw, sh = s.source.width, s.source.height
            if s.left <= c.x < s.left + sw and s.top <= c.y < s.top + sh:
                local = Rect(max(b.x1, s.left), max(b.y1, s.top), min(b.x2, s.left + sw), min(b.y2, s.top + sh))
                out.append(local.translated(s.source.x1 - s.left, s.source.y1 - s.top))
                break
    return out


def dedupe_boxes(boxes: list[Rect]) -> list[Rect]:
    """Drop boxes that repeat one already kept (overlapping content blocks see the same line twice)."""
    kept: list[Rect] = []
    for b in sorted(boxes, key=lambda r: -r.area):
        if any(_covered(b, k) for k in kept):
            continue
        kept.append(b)
    return kept


def _covered(small: Rect, big: Rect) -> bool:
    inter = small.intersection(big)
    return inter is not None and inter.area >= 0.7 * small.area


def read_lines(engine: OcrEngine, image: np.ndarray, blocks: list[Rect],
               timings: dict[str, float] | None = None) -> list[TextLine]:
    """Detect then recognize the text lines inside `blocks`, dropping low-confidence reads; a line that is
    several items side by side comes back as those items."""
    t0 = time.perf_counter()
    boxes = engine.detect(image, blocks)
    release_freed_memory()  # the recognizer's buffers start from a trimmed heap, not on top of detection's
    t1 = time.perf_counter()
    texts = engine.recognize(image, boxes)
    t2 = time.perf_counter()
    if timings is not None:
        timings["ocr_det"] = timings.get("ocr_det", 0.0) + (t1 - t0) * 1000
        timings["ocr_rec"] = timings.get("ocr_rec", 0.0) + (t2 - t1) * 1000
    lines = [TextLine(b, t.strip(), s) for b, (t, s) in zip(boxes, texts, strict=True)
             if t.strip() and s >= MIN_TEXT_SCORE]
    # A menu bar or a row of headers read as one line is several items: cut it at its wide gaps.
    return [piece for line in lines for piece in split_at_wide_gaps(image, line)]
