"""Where a screen has content, and what changed between two frames.

Screens are mostly flat background. The OCR detector costs time per pixel, so it runs only on blocks
that hold content (long straight lines such as borders and separators removed, so a framed panel does
not make its whole area a block), packed together into one mosaic.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from desktop_agent.geometry import Rect

EDGE_THRESHOLD = 24
_LINE_LEN = 41
_THICK = 6  # a border's edge is at most a few pixels across; more is content


def edge_mask(gray: np.ndarray) -> np.ndarray:
    """Pixels on an edge (the morphological gradient above EDGE_THRESHOLD), as 0/1."""
    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    return (grad > EDGE_THRESHOLD).astype(np.uint8)


def remove_long_lines(mask: np.ndarray) -> np.ndarray:
    """The mask without borders and separators: runs of at least _LINE_LEN pixels where the edges are
    thin across. A word in a dense font also makes long runs, but its edges stand many rows deep, so it
    stays."""
    horiz = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, _LINE_LEN), np.uint8))
    horiz = np.bitwise_and(horiz, 1 - cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((_THICK, 1), np.uint8)))
    vert = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((_LINE_LEN, 1), np.uint8))
    vert = np.bitwise_and(vert, 1 - cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, _THICK), np.uint8)))
    return mask & (1 - np.bitwise_or(horiz, vert))


def content_blocks(gray: np.ndarray, pad: int = 8) -> list[Rect]:
    """Rectangles that cover every bit of text-like content, words of one line merged."""
    mask = remove_long_lines(edge_mask(gray))
    # Words of a line join; lines stay apart, so a change re-reads the lines it touches, not a paragraph.
    mask = cv2.dilate(mask, np.ones((3, 25), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    h, w = gray.shape[:2]
    out = []
    for x, y, bw, bh, _area in stats[1:n]:
        if bw < 6 or bh < 6:  # specks; a line of small text is only ~9 px tall
            continue
        out.append(Rect(float(x), float(y), float(x + bw), float(y + bh)).expanded(pad).clipped(w, h))
    return out


def difference_mask(prev: np.ndarray, cur: np.ndarray, threshold: int = 0) -> np.ndarray:
    """uint8 mask (0/1) of pixels where any channel differs by more than `threshold`."""
    b, g, r = cv2.split(cv2.absdiff(prev, cur))
    strongest = cv2.max(cv2.max(b, g), r)
    return (strongest > threshold).view(np.uint8)


def changed_regions(prev: np.ndarray, cur: np.ndarray, min_pixels: int = 1) -> list[Rect]:
    """Bounding boxes of the pixels that differ between two same-sized BGR frames."""
    mask = difference_mask(prev, cur)
    if cv2.countNonZero(mask) < min_pixels:
        return []
    mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return [Rect(float(x), float(y), float(x + w), float(y + h)) for x, y, w, h, _ in stats[1:n]]


@dataclass(frozen=True, slots=True)
class MosaicSlot:
    """Where a block of the frame was placed in the mosaic that is read at once."""

    source: Rect  # in the frame
    left: int  # in the mosaic
    top: int


GAP = 16


def mosaic_width(blocks: list[Rect], limit: int) -> int:
    """A width that packs the blocks into a roughly square-to-wide mosaic, at most `limit`."""
    widest = max(int(b.width) for b in blocks)
    area = sum((b.width + GAP) * (b.height + GAP) for b in blocks)
    return max(widest, min(limit, int(2 * area**0.5)))


def pack_mosaic(image: np.ndarray, blocks: list[Rect], width: int) -> tuple[np.ndarray, list[MosaicSlot]]:
    """Shelf-pack the blocks into one image (gaps filled with the screen's background colour, so the
    detector sees no seams), returning the mosaic and where each block went."""
    order = sorted(range(len(blocks)), key=lambda i: -blocks[i].height)
    slots: list[MosaicSlot | None] = [None] * len(blocks)
    x = y = shelf_h = 0
    for i in order:
        b = blocks[i]
        bw, bh = int(b.width), int(b.height)
        if x > 0 and x + bw > width:
            y += shelf_h + GAP
            x = shelf_h = 0
        slots[i] = MosaicSlot(b, x, y)
        x += bw + GAP
        shelf_h = max(shelf_h, bh)
    total_h = y + shelf_h
    used_w = max(s.left + int(s.source.width) for s in slots if s is not None)
    mosaic_h = (total_h + 31) // 32 * 32
    mosaic_w = (used_w + 31) // 32 * 32
    fill = np.median(image[::16, ::16].reshape(-1, 3), axis=0).astype(np.uint8)
    mosaic = np.empty((max(mosaic_h, 32), mosaic_w, 3), np.uint8)
    mosaic[:] = fill
    final = []
    pad = GAP // 2
    for s in slots:
        assert s is not None
        x1, y1, x2, y2 = (int(v) for v in (s.source.x1, s.source.y1, s.source.x2, s.source.y2))
        # Each block sits in a margin of its own edge colours, as if it were read alone: a dialog's grey
        # next to a black desktop must not look like a frame around its text.
        tile = cv2.copyMakeBorder(image[y1:y2, x1:x2], pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        top, left = s.top - pad, s.left - pad
        ty, tx = max(0, -top), max(0, -left)
        h = min(tile.shape[0] - ty, mosaic.shape[0] - max(top, 0))
        w = min(tile.shape[1] - tx, mosaic.shape[1] - max(left, 0))
        mosaic[max(top, 0):max(top, 0) + h, max(left, 0):max(left, 0) + w] = tile[ty:ty + h, tx:tx + w]
        final.append(s)
    return mosaic, final
