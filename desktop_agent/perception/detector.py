"""A first, non-learned detector of non-text UI elements: OpenCV region proposals.

It finds framed rectangles (buttons, fields, checkboxes), filled controls (a button whose fill differs
from its surroundings) and compact glyph clusters that are not text (icons). The learned ONNX detector
of a later issue replaces most of this; this one keeps the interfaces honest meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.perception.elements import ElementKind
from desktop_agent.perception.regions import edge_mask, remove_long_lines


@dataclass(frozen=True, slots=True)
class Proposal:
    """A detected element before merging: its kind, box and score."""

    kind: ElementKind
    bbox: Rect
    score: float


class ElementDetector(Protocol):
    """Proposes elements on a frame (the learned model, OpenCV, or both)."""

    def propose(self, image: np.ndarray, gray: np.ndarray) -> list[Proposal]:
        """Element proposals (framed controls, icons, ...) in the frame's pixels."""


def _rect_outline_score(edges: np.ndarray, x: int, y: int, w: int, h: int) -> float:
    """Fraction of a rectangle's perimeter that lies on edge pixels (1 = a closed frame)."""
    top = edges[y, x:x + w]
    bottom = edges[y + h - 1, x:x + w]
    left = edges[y:y + h, x]
    right = edges[y:y + h, x + w - 1]
    on = int(top.sum() + bottom.sum() + left.sum() + right.sum())
    return on / float(2 * (w + h))


def _is_hollow(gray: np.ndarray, x: int, y: int, w: int, h: int) -> bool:
    """A frame whose inside differs from its border (an empty or ticked box), not a filled square."""
    inner = gray[y + 3:y + h - 3, x + 3:x + w - 3]
    if inner.size == 0:
        return False
    ring = np.concatenate([gray[y + 1, x + 1:x + w - 1], gray[y + h - 2, x + 1:x + w - 1],
                           gray[y + 1:y + h - 1, x + 1], gray[y + 1:y + h - 1, x + w - 2]])
    return abs(float(np.median(inner)) - float(np.median(ring))) > 40


def _frame_kind(gray: np.ndarray, x: int, y: int, bw: int, bh: int) -> ElementKind | None:
    """What a closed frame of this size and shape is (None: a solid square, not a control)."""
    aspect = bw / bh
    if bw <= 26 and bh <= 26 and 0.75 <= aspect <= 1.33:
        if not _is_hollow(gray, x, y, bw, bh):
            return None  # a solid square is a bullet or a glyph, not a box to tick
        return ElementKind.CHECKBOX
    if bh <= 64 and aspect >= 5:
        return ElementKind.INPUT
    if bh <= 64 and bw <= 480:
        return ElementKind.BUTTON
    return ElementKind.CONTAINER


class OpenCvDetector:
    """Framed boxes from contours, icons from compact non-text glyph clusters."""

    def propose(self, image: np.ndarray, gray: np.ndarray) -> list[Proposal]:
        """Framed boxes and small glyphs found by edges and contours (extra recall beside the learned model)."""
        h, w = gray.shape[:2]
        edges = edge_mask(gray)
        out: list[Proposal] = []
        out.extend(self._framed(edges, gray, w, h))
        out.extend(self._glyph_clusters(edges, w, h))
        return out

    def _framed(self, edges: np.ndarray, gray: np.ndarray, w: int, h: int) -> list[Proposal]:
        contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        seen: list[Rect] = []
        out = []
        for c in contours:
            x, y, bw, bh = cv2.boundingRect(c)
            if bw < 9 or bh < 9 or bw > 0.9 * w or bh > 0.5 * h:
                continue
            # The gradient mask draws a frame two pixels thick; its outer contour's box is the control.
            score = _rect_outline_score(edges, x, y, bw, bh)
            if score < 0.85:
                continue
            r = Rect(float(x), float(y), float(x + bw), float(y + bh))
            if any(r.iou(s) > 0.8 for s in seen):
                continue
            seen.append(r)
            kind = _frame_kind(gray, x, y, bw, bh)
            if kind is not None:
                out.append(Proposal(kind, r, round(score, 3)))
        return out

    def _glyph_clusters(self, edges: np.ndarray, w: int, h: int) -> list[Proposal]:
        mask = remove_long_lines(edges)
        # Join the parts of one glyph (the bars of "pause", the dots of "more"): gaps up to 4 px.
        mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        out = []
        for x, y, bw, bh, area in stats[1:n]:
            if not (10 <= bw <= 68 and 10 <= bh <= 68):
                continue
            aspect = bw / bh
            if not 0.5 <= aspect <= 2.0:
                continue
            fill = area / float(bw * bh)
            if fill < 0.15:
                continue
            # Report the glyph without the dilation margin.
            r = Rect(float(x + 2), float(y + 2), float(x + bw - 2), float(y + bh - 2))
            out.append(Proposal(ElementKind.ICON, r, round(min(1.0, 0.5 + fill / 2), 3)))
        return out
