"""The trained UI-element detector (models/detector/ui_detector.onnx) behind the `ElementDetector` protocol.

It runs fully convolutionally on the whole frame at native resolution (never shrunk, so a 16 px icon keeps
its 16 px; a large frame in horizontal bands with context, see `bands`), reads centre points off the class
heat maps, and then snaps each box to the pixels: a frame's edges where the box's sides have one, or the ink
of a small glyph. OpenCV proposals can be added to it (`CombinedDetector`) where they still find something
it did not.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from desktop_agent.config import read_environment
from desktop_agent.geometry import Rect
from desktop_agent.perception.detector import ElementDetector, OpenCvDetector, Proposal
from desktop_agent.perception.elements import ElementKind
from desktop_agent.perception.heap import large_blocks_mapped
from desktop_agent.perception.onnx_session import cpu_session

STRIDE = 4
# The model's classes, in its output order, and the element kinds they become.
CLASS_KINDS: tuple[tuple[str, ElementKind], ...] = (
    ("button", ElementKind.BUTTON), ("icon", ElementKind.ICON), ("field", ElementKind.INPUT),
    ("checkbox", ElementKind.CHECKBOX), ("radio", ElementKind.RADIO), ("toggle", ElementKind.TOGGLE),
    ("dropdown", ElementKind.DROPDOWN), ("tab", ElementKind.TAB), ("menu_item", ElementKind.MENU_ITEM),
    ("link", ElementKind.LINK), ("slider", ElementKind.SLIDER), ("scrollbar", ElementKind.SCROLLBAR),
)


def default_detector_path() -> Path:
    """The element detector's ONNX file: DESKTOP_AGENT_DETECTOR_MODEL, else the one in models/detector."""
    return read_environment().path("detector_model",
                                   Path(__file__).resolve().parents[2] / "models" / "detector" / "ui_detector.onnx")


class LearnedDetector:
    """Proposals from the trained detector: every class above `threshold`, boxes snapped to pixels."""

    def __init__(self, model_path: Path | None = None, threshold: float = 0.3, threads: int | None = None) -> None:
        path = model_path or default_detector_path()
        if not path.exists():
            raise FileNotFoundError(f"UI-element detector model not found: {path}")
        self.session = cpu_session(path, threads or min(4, os.cpu_count() or 1))
        self.threshold = threshold
        self._lock = threading.Lock()

    def maps(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The model's class probabilities, their 3x3 peaks and the box maps for a whole frame, at STRIDE.

        A frame of more than BAND_PIXELS runs in horizontal bands (`bands`), each with MARGIN rows of the
        frame above and below it, and each band's own rows of the maps are kept: the model's buffers (most
        of a parse's peak memory) grow with the band, not the screen. They are mapped apart from the heap
        (heap.large_blocks_mapped), so that they are given back when the run ends."""
        h, w = image.shape[:2]
        ph, pw = -h % 32, -w % 32
        img = image[:, :, :3]
        if ph or pw:
            img = cv2.copyMakeBorder(img, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
        parts = []
        with self._lock, large_blocks_mapped(MAPPED_BLOCK):
            for top, bottom, keep_top, keep_bottom in bands(img.shape[0], img.shape[1]):
                x = np.ascontiguousarray(img[top:bottom].transpose(2, 0, 1)[None], dtype=np.float32)
                outs = self.session.run(None, {"image": x})
                del x
                a, b = (keep_top - top) // STRIDE, (keep_bottom - top) // STRIDE
                parts.append([o[0][:, a:b].copy() for o in outs])
                del outs
        if len(parts) == 1:
            prob, peak, box = parts[0]
        else:
            prob, peak, box = (np.concatenate([p[i] for p in parts], axis=1) for i in range(3))
        return prob, peak, box

    def raw(self, image: np.ndarray) -> list[tuple[int, float, Rect]]:
        """(class index, score, box) before snapping, in image pixels."""
        h, w = image.shape[:2]
        prob, peak, box = self.maps(image)
        cls, ys, xs = np.nonzero((prob >= self.threshold) & (prob >= peak))
        out = []
        for c, iy, ix in zip(cls.tolist(), ys.tolist(), xs.tolist(), strict=True):
            bw, bh = float(np.exp(box[0, iy, ix])) * STRIDE, float(np.exp(box[1, iy, ix])) * STRIDE
            cx, cy = (ix + float(box[2, iy, ix])) * STRIDE, (iy + float(box[3, iy, ix])) * STRIDE
            r = Rect(max(0.0, cx - bw / 2), max(0.0, cy - bh / 2), min(w, cx + bw / 2), min(h, cy + bh / 2))
            if r.width >= 4 and r.height >= 4:
                out.append((c, float(prob[c, iy, ix]), r))
        return _suppress(out)

    def propose(self, image: np.ndarray, gray: np.ndarray) -> list[Proposal]:
        """The trained detector's elements, boxes snapped to the pixels' edges."""
        out = []
        for c, score, r in self.raw(image):
            kind = CLASS_KINDS[c][1]
            out.append(Proposal(kind, snap_box(gray, r, kind), score))
        return out


# A frame up to this many pixels (1920x1152) runs in one call; a larger one in bands of at most this many
# (2560x1440: three calls of 672, 864 and 672 rows, 1.5 times the pixels of one call, about half its memory).
BAND_PIXELS = 2560 * 864
# Rows of the frame above and below a band that the model sees but whose maps come from the next band: with
# 192 a 2560x1440 screen's maps agree with one call's to 1e-3 (tests/perception/test_detector.py); with 128
# they differed by up to 0.05.
MARGIN = 192
# The model's buffers from this size up are mapped apart from the heap (heap.large_blocks_mapped): 4 MB kept
# a parse's peak as low as 1 MB did, without its cost in time (bench/memory.py).
MAPPED_BLOCK = 4 << 20


def bands(height: int, width: int) -> list[tuple[int, int, int, int]]:
    """(top, bottom) rows of each call and (keep_top, keep_bottom) rows of the maps it gives, for a frame of
    `height` x `width` (multiples of 32): one call for a frame of BAND_PIXELS or fewer, else bands whose
    kept rows tile the frame, every boundary on the model's 32-pixel grid."""
    if height * width <= BAND_PIXELS:
        return [(0, height, 0, height)]
    rows = max(4 * MARGIN, BAND_PIXELS // width // 32 * 32)  # rows per call at most, margins included
    n = 2
    while True:  # the fewest bands whose calls fit: a middle band's call has a margin on both sides
        step = -(-height // n // 32) * 32  # kept rows per band, evened out over the bands
        if step + (2 if n > 2 else 1) * MARGIN <= rows or step <= 32:
            break
        n += 1
    out = []
    for i in range(n):
        keep_top, keep_bottom = i * step, min(height, (i + 1) * step)
        if keep_top >= height:
            break
        out.append((max(0, keep_top - MARGIN), min(height, keep_bottom + MARGIN), keep_top, keep_bottom))
    return out


def _suppress(found: list[tuple[int, float, Rect]], iou: float = 0.6) -> list[tuple[int, float, Rect]]:
    """One box per object: of boxes overlapping more than `iou` (any classes), the most confident stays."""
    kept: list[tuple[int, float, Rect]] = []
    for item in sorted(found, key=lambda t: -t[1]):
        if all(item[2].iou(k[2]) <= iou for k in kept):
            kept.append(item)
    return kept


_GLYPH_KINDS = (ElementKind.ICON, ElementKind.CHECKBOX, ElementKind.RADIO, ElementKind.TOGGLE)


def snap_box(gray: np.ndarray, r: Rect, kind: ElementKind) -> Rect:
    """The box tight to the pixels: a small control's ink, or the frame lines near a larger box's sides.
    A slider keeps the model's box (its track is thinner than its knob: no side has a full edge)."""
    if kind == ElementKind.SLIDER:
        return r
    if kind in _GLYPH_KINDS and max(r.width, r.height) <= 64:
        tight = _ink_box(gray, r)
        if tight is not None and tight.iou(r) >= 0.45:
            return tight
    return _snap_edges(gray, r)


def _ink_box(gray: np.ndarray, r: Rect) -> Rect | None:
    h, w = gray.shape[:2]
    m = max(2, int(0.3 * max(r.width, r.height)))
    x1, y1 = max(0, int(r.x1) - m), max(0, int(r.y1) - m)
    x2, y2 = min(w, int(np.ceil(r.x2)) + m), min(h, int(np.ceil(r.y2)) + m)
    win = gray[y1:y2, x1:x2].astype(np.int16)
    if win.size == 0:
        return None
    ring = np.concatenate([win[0], win[-1], win[:, 0], win[:, -1]])
    ink = (np.abs(win - int(np.median(ring))) > 28).astype(np.uint8)
    _, labels = cv2.connectedComponents(cv2.dilate(ink, np.ones((3, 3), np.uint8)), connectivity=8)
    # The parts of the ink that reach into the middle of the predicted box.
    cx1, cy1 = int(r.x1 + 0.25 * r.width) - x1, int(r.y1 + 0.25 * r.height) - y1
    cx2, cy2 = int(np.ceil(r.x2 - 0.25 * r.width)) - x1, int(np.ceil(r.y2 - 0.25 * r.height)) - y1
    core = labels[max(0, cy1):max(cy1 + 1, cy2), max(0, cx1):max(cx1 + 1, cx2)]
    ids = [i for i in np.unique(core) if i != 0]
    if not ids:
        return None
    sel = np.isin(labels, ids) & (ink > 0)
    ys, xs = np.nonzero(sel)
    if len(xs) == 0:
        return None
    return Rect(float(x1 + xs.min()), float(y1 + ys.min()), float(x1 + xs.max() + 1), float(y1 + ys.max() + 1))


def _snap_edges(gray: np.ndarray, r: Rect) -> Rect:
    """Move each side to the nearest line of strong contrast along most of that side, if one is close."""
    h, w = gray.shape[:2]
    snap = _EdgeSnap(gray, r)
    x1, y1, x2, y2, dx, dy = snap.x1, snap.y1, snap.x2, snap.y2, snap.dx, snap.dy
    nx1 = snap.best(range(max(1, x1 - dx), min(w, x1 + dx + 1)), x1, snap.col_step, -1, True)
    nx2 = snap.best(range(max(1, x2 - dx), min(w - 1, x2 + dx + 1)), x2, snap.col_step, 1, True)
    ny1 = snap.best(range(max(1, y1 - dy), min(h, y1 + dy + 1)), y1, snap.row_step, -1, False)
    ny2 = snap.best(range(max(1, y2 - dy), min(h - 1, y2 + dy + 1)), y2, snap.row_step, 1, False)
    out = Rect(float(nx1 if nx1 is not None else x1), float(ny1 if ny1 is not None else y1),
               float(nx2 if nx2 is not None else x2), float(ny2 if ny2 is not None else y2))
    return out if out.width >= 4 and out.height >= 4 and out.iou(r) >= 0.5 else r


class _EdgeSnap:
    """The pixels about a predicted box, and the steps of contrast its sides may move to: the box rounded
    (x1..y2), how far a side may move (dx, dy), the middle of each side (ya..yb, xa..xb) and the background
    just outside the box (bg)."""

    def __init__(self, gray: np.ndarray, r: Rect) -> None:
        self.h, self.w = h, w = gray.shape[:2]
        self.g = g = gray.astype(np.int16)
        self.x1, self.y1, self.x2, self.y2 = x1, y1, x2, y2 = round(r.x1), round(r.y1), round(r.x2), round(r.y2)
        self.dx, self.dy = dx, dy = max(2, int(0.12 * r.width)), max(2, int(0.25 * r.height))
        self.ya, self.yb = y1 + (y2 - y1) // 5, y2 - (y2 - y1) // 5
        self.xa, self.xb = x1 + (x2 - x1) // 5, x2 - (x2 - x1) // 5
        ring = np.concatenate([g[max(0, y1 - dy), x1:x2], g[min(h - 1, y2 + dy - 1), x1:x2],
                               g[y1:y2, max(0, x1 - dx)], g[y1:y2, min(w - 1, x2 + dx - 1)]])
        self.bg = float(np.median(ring)) if ring.size else 0.0

    def outside_is_background(self, p: int, outward: int, vertical: bool) -> bool:
        """Whether the pixels just beyond the step at `p`, away from the box, are the background."""
        q = p if outward > 0 else p - 1  # the first pixel beyond the step, away from the box
        line = self.g[self.ya:self.yb, q] if vertical else self.g[q, self.xa:self.xb]
        return line.size > 0 and abs(float(np.median(line)) - self.bg) < 25

    def runs_past(self, p: int, vertical: bool) -> bool:
        """Whether the step at `p` goes on past both ends of the box's side: a separator or a panel's edge
        that the box sits on, not the box's own edge."""
        g, h, w, dx, dy = self.g, self.h, self.w, self.dx, self.dy
        x1, y1, x2, y2 = self.x1, self.y1, self.x2, self.y2
        if vertical:
            if p <= 0 or p >= w:
                return False
            above, below = g[max(0, y1 - dy - 3):max(0, y1 - 3), p], g[min(h, y2 + 3):min(h, y2 + dy + 3), p]
            left = g[max(0, y1 - dy - 3):max(0, y1 - 3), p - 1]
            right = g[min(h, y2 + 3):min(h, y2 + dy + 3), p - 1]
            ends = (above, left), (below, right)
        else:
            if p <= 0 or p >= h:
                return False
            ends = ((g[p, max(0, x1 - dx - 3):max(0, x1 - 3)], g[p - 1, max(0, x1 - dx - 3):max(0, x1 - 3)]),
                    (g[p, min(w, x2 + 3):min(w, x2 + dx + 3)], g[p - 1, min(w, x2 + 3):min(w, x2 + dx + 3)]))
        return all(a.size > 1 and float(np.mean(np.abs(a - b) > 18)) >= 0.8 for a, b in ends)

    def best(self, positions: range, side: int, profile: Callable[[int], float], outward: int, vertical: bool
             ) -> int | None:
        """The strong step nearest the predicted side with the background beyond it (else the nearest), not
        one that runs on past the box (else any), then outward across the frame line it belongs to (a line
        has a step on each of its sides: the outer one is the box's edge), never across a gap."""
        picks = {p for p in positions if profile(p) >= 0.8}
        if not picks:
            return None
        p = min(picks, key=lambda q: (not self.outside_is_background(q, outward, vertical),
                                      self.runs_past(q, vertical), abs(q - side), -q * outward))
        while p + outward in picks or p + 2 * outward in picks:
            p += outward if p + outward in picks else 2 * outward
        return p

    def col_step(self, x: int) -> float:
        """The share of rows along the side's middle where column x-1 and x differ strongly."""
        if x <= 0 or x >= self.w or self.yb <= self.ya:
            return 0.0
        return float(np.mean(np.abs(self.g[self.ya:self.yb, x] - self.g[self.ya:self.yb, x - 1]) > 18))

    def row_step(self, y: int) -> float:
        """The share of columns along the side's middle where row y-1 and y differ strongly."""
        if y <= 0 or y >= self.h or self.xb <= self.xa:
            return 0.0
        return float(np.mean(np.abs(self.g[y, self.xa:self.xb] - self.g[y - 1, self.xa:self.xb]) > 18))


class CombinedDetector:
    """The learned detector first; OpenCV proposals only where the learned detector found nothing: none
    that overlaps a learned box, lies in one, or holds one (a frame around detected controls is a tool
    bar or a panel, which OpenCV would call a field)."""

    def __init__(self, learned: LearnedDetector, extra: ElementDetector | None = None) -> None:
        self.learned = learned
        self.extra = extra or OpenCvDetector()

    def propose(self, image: np.ndarray, gray: np.ndarray) -> list[Proposal]:
        """The learned detector's elements, with the OpenCV proposals it missed."""
        learned = self.learned.propose(image, gray)
        extra = [p for p in self.extra.propose(image, gray) if not any(p.bbox.overlaps(q.bbox) for q in learned)]
        return learned + extra


def default_detector() -> ElementDetector:
    """The trained detector (plus OpenCV's extra recall) when its model is there, else OpenCV alone."""
    path = default_detector_path()
    if path.exists():
        return CombinedDetector(LearnedDetector(path))
    return OpenCvDetector()
