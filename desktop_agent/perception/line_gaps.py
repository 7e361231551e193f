"""A line of text read as one that is several items side by side: split it where the pixels show a wide gap.

The text detector often takes a menu bar ("File  Edit  View"), a toolbar's labels or a row of table headers
for one line. Read whole, "File" is then only a word inside a longer line, and a shorter line that merely
contains the word ("New file opened") looks like the better match. Between words of one phrase the blank is
about a third of the letters' height; between items it is about a letter's height or more. So a line is cut
at every blank at least GAP_RATIO times its letters' height, at the space of the text that lies there.
"""

from __future__ import annotations

import cv2
import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.perception.elements import TextLine
from desktop_agent.perception.mnemonics import ink_mask

GAP_RATIO = 0.9
RULE_SHARE = 0.9  # a row inked over this share of the line's width is a rule; a blob this share of its height, a box
GLYPH_ASPECT = 4.0  # a blob wider than this many times its height is a bar, not letters (a few touching glyphs pass)
BAR_MIN_WIDTH = 1.2  # ... if also this many times as long as the line's box is high (a hyphen or a dash is shorter)


def _blank_runs(cols: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of the runs of blank columns strictly between the first and the last inked one."""
    inked = np.flatnonzero(cols)
    if len(inked) < 2:
        return []
    lo, hi = int(inked[0]), int(inked[-1])
    padded = np.concatenate([[False], ~cols[lo:hi + 1], [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(lo + int(s), lo + int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def split_at_wide_gaps(image: np.ndarray, line: TextLine, ratio: float = GAP_RATIO) -> list[TextLine]:
    """`line` as the items it holds (itself when it holds one), each with its own box and text."""
    text = line.text
    if " " not in text:
        return [line]
    h_img, w_img = image.shape[:2]
    x1, y1, x2, y2 = line.bbox.clipped(w_img, h_img).int_box()
    crop = image[y1:y2, x1:x2]
    if crop.size == 0 or crop.shape[1] < 8:
        return [line]
    inked_rows, cols = _ink_profiles(crop)
    rows = np.flatnonzero(inked_rows)
    if len(rows) < 4:
        return [line]
    letters_h = int(rows[-1] - rows[0] + 1)
    gaps = [(a, b) for a, b in _blank_runs(cols) if b - a >= ratio * letters_h]
    if not gaps:
        return [line]
    width = crop.shape[1]
    cuts = _cuts(gaps, text, width)
    if not cuts:
        return [line]
    out = _pieces(line, cols, cuts, x1, width)
    return out if len(out) > 1 else [line]


def _ink_profiles(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which rows and which columns of the crop hold ink: pixels that differ clearly from its background (the
    median). A row inked across nearly the whole crop is a rule or a border the line's box reached into (a
    title bar's edge above a menu bar), not letters, which always leave blanks between them: it is left out.
    The rows are those of the letters only; the columns, of anything inked but bars."""
    ink = ink_mask(crop)  # rules the box reached into already left out
    # Blobs of ink: a flat one much wider than high and longer than a dash is a bar (the line under a menu
    # bar's highlighted item); one inked from top to bottom is a filled box (that item's highlight). Neither
    # is letters: counted, either would pass for taller letters and hide the gaps, and a bar would also
    # bridge the gaps beside its item.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    rows = np.zeros(ink.shape[0], bool)
    bars = np.zeros(n, bool)
    for k, (_x, y, w, h, _area) in enumerate(stats[1:n], 1):
        if w > GLYPH_ASPECT * h and w >= BAR_MIN_WIDTH * ink.shape[0]:  # longer than any dash
            bars[k] = True
        elif h < RULE_SHARE * ink.shape[0]:
            rows[y:y + h] = True
    return rows, (ink & ~bars[labels]).any(axis=0)


def _cuts(gaps: list[tuple[int, int]], text: str, width: int) -> list[tuple[int, int, int]]:
    """Where each gap falls in the text: the space nearest its proportional position, in order, as (space
    index, gap start, gap end) in crop pixels; a gap with no space near enough is no cut."""
    spaces = [i for i, c in enumerate(text) if c == " "]
    cuts: list[tuple[int, int, int]] = []
    for a, b in gaps:
        at = (a + b) / 2 / width * len(text)
        free = [s for s in spaces if not cuts or s > cuts[-1][0]]
        if not free:
            break
        s = min(free, key=lambda i: abs(i + 0.5 - at))
        if abs(s + 0.5 - at) <= max(3.0, 0.15 * len(text)):
            cuts.append((s, a, b))
    return cuts


def _pieces(line: TextLine, cols: np.ndarray, cuts: list[tuple[int, int, int]], x1: int, width: int
            ) -> list[TextLine]:
    """The line cut at `cuts`: each piece's text, with a box tight to its inked columns (`cols`, crop pixels
    from `x1`); pieces without text or ink are left out."""
    text = line.text
    out = []
    start_char, start_px = 0, 0
    for s, a, b in [*cuts, (len(text), width, width)]:
        piece = text[start_char:s].strip()
        inked = np.flatnonzero(cols[start_px:a])
        if piece and len(inked):
            left, right = start_px + int(inked[0]), start_px + int(inked[-1]) + 1  # tight to its letters
            out.append(TextLine(Rect(float(x1 + max(left - 1, 0)), line.bbox.y1, float(x1 + min(right + 1, width)),
                                     line.bbox.y2), piece, line.score))
        start_char, start_px = s + 1, b
    return out
