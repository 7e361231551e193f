"""Keyboard-mnemonic underlines, taken out of a text line before it is read.

GTK 2 and Qt menus and dialogs underline one letter of a label (the Alt+letter key): "File" with its F
underlined. The recognizer, trained on printed text, reads the stroke as part of the letter ("Eile",
"Iools", "Iabs"). An underline is told apart from letters by its shape alone: a horizontal stroke, one or
two pixels thick, in the lower part of the line, about one letter wide, with a clear row between it and the
letter above it, which must be there. Letters never have that shape (a descender's bowl joins its letter;
a frame or an underlined link runs far longer than one letter), so the stroke is painted over with the
background and the line read again.
"""

from __future__ import annotations

import numpy as np

RULE_SHARE = 0.9  # a row inked over this share of the crop's width is a rule, not text


def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of the runs of True in a 1-D boolean array."""
    padded = np.concatenate([[False], row, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _baseline(bottoms: np.ndarray, skip: tuple[int, int]) -> int | None:
    """The row most letters end on: the commonest lowest ink row (`bottoms`, -1 for a blank column) of the
    columns outside `skip` [a, b)."""
    outside = np.concatenate([bottoms[:skip[0]], bottoms[skip[1]:]])
    outside = outside[outside >= 0]
    return int(np.bincount(outside).argmax()) if len(outside) else None


def erase_mnemonic_underlines(crop: np.ndarray) -> np.ndarray:
    """The crop with every letter-wide underline painted in the background colour (a copy when any is
    found, else the crop itself)."""
    h, w = crop.shape[:2]
    if h < 10 or w < 8:
        return crop
    ink = ink_mask(crop)
    rows_with_ink = np.flatnonzero(ink.any(axis=1))
    if len(rows_with_ink) < 6:
        return crop
    top, bottom = int(rows_with_ink[0]), int(rows_with_ink[-1])
    inked = ink.any(axis=0)
    bottoms = np.where(inked, h - 1 - np.argmax(ink[::-1], axis=0), -1)
    # Only rows about the letters' baseline can hold the stroke (the commonest column bottom is the baseline,
    # or the stroke itself when the underlined letter is most of a short word).
    common = _baseline(bottoms, (0, 0)) or bottom
    out = None
    for y in range(max(top + 5, common - 2), bottom + 1):
        for a, b in _runs(ink[y]):
            thick = _underline(ink, bottoms, top, bottom - top + 1, y, (a, b))
            if thick:
                if out is None:
                    out = crop.copy()
                out[y:y + thick, a:b] = np.median(crop.reshape(-1, *crop.shape[2:]), axis=0)
    return crop if out is None else out


def ink_mask(crop: np.ndarray) -> np.ndarray:
    """The crop's pixels that differ clearly from its background (the median: a line of text is mostly
    background), but for rows inked across nearly the whole crop: a rule or a border the line's box reached
    into (the title bar's edge above a menu bar), not letters or an underline, which always leave blanks."""
    gray = crop.astype(np.float32) if crop.ndim == 2 else crop[:, :, :3].astype(np.float32).mean(axis=2)
    bg = float(np.median(gray))
    diff = np.abs(gray - bg)
    ink = diff > max(35.0, 0.3 * float(diff.max()))  # GTK draws the underline lighter than the letters
    ink[ink.mean(axis=1) >= RULE_SHARE] = False
    return ink


def _underline(ink: np.ndarray, bottoms: np.ndarray, top: int, height: int, y: int, run: tuple[int, int]) -> int:
    """How many rows thick (1 or 2) the run of ink [a, b) on row `y` is as a mnemonic underline; 0 when it is
    none. `top` and `height` are the rows of the line's ink, `bottoms` each column's lowest ink row."""
    h, w = ink.shape
    a, b = run
    if not 0.2 * height <= b - a <= 1.1 * height:  # no letter-wide stroke: nothing to look at
        return 0
    base = _baseline(bottoms, (max(a - 1, 0), b + 1))
    if base is None or not base < y <= base + 3:  # just under the line of the letters
        return 0
    text_h = base - top + 1
    if not 0.25 * text_h <= b - a <= 1.1 * text_h:  # about one letter wide
        return 0
    thick = 2 if y + 1 < h and ink[y + 1, a:b].mean() > 0.8 else 1
    lo, hi = max(a - 1, 0), min(b + 1, w)
    # Nothing else below the letters there (a descender's tail runs down to its bowl), nothing under
    # the stroke, and a letter above it (a lone "_" has none).
    gap_clear = not ink[base + 1:y, lo:hi].any()
    below_clear = y + thick >= h or not ink[y + thick:min(h, y + thick + 3), lo:hi].any()
    letter_above = ink[top:base + 1, a:b].any(axis=0).mean() > 0.3
    return thick if gap_clear and below_clear and letter_above else 0
