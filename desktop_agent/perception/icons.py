"""Icon crops: which pixels of a control are its icon, and how they are normalised for the icon meaning
model (`icon_meaning`). Training (models/icon_embed) and the app use the same functions: the glyph's
difference from the background (so dark-on-light and light-on-dark look alike), cut tight, centred and
scaled into 32x32.
"""

from __future__ import annotations

import cv2
import numpy as np

from desktop_agent.geometry import Rect

SIZE = 32
GLYPH = 28


def preprocess_icon(crop: np.ndarray) -> np.ndarray | None:
    """BGR or gray crop -> float32 [SIZE, SIZE] in 0..1 (glyph bright on black), or None if blank."""
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    if gray.size == 0 or min(gray.shape) < 4:
        return None
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    bg = float(np.median(border))
    fg = np.abs(gray.astype(np.float32) - bg)
    peak = float(fg.max())
    if peak < 24:
        return None
    fg /= peak
    ys, xs = np.nonzero(fg > 0.25)
    y1, y2, x1, x2 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    glyph = fg[y1:y2, x1:x2]
    h, w = glyph.shape
    side = max(h, w)
    square = np.zeros((side, side), np.float32)
    oy, ox = (side - h) // 2, (side - w) // 2
    square[oy:oy + h, ox:ox + w] = glyph
    interp = cv2.INTER_AREA if side > GLYPH else cv2.INTER_LINEAR
    small = cv2.resize(square, (GLYPH, GLYPH), interpolation=interp)
    out = np.zeros((SIZE, SIZE), np.float32)
    m = (SIZE - GLYPH) // 2
    out[m:m + GLYPH, m:m + GLYPH] = small
    return out


def icon_crop(image: np.ndarray, box: Rect, margin: int = 3) -> np.ndarray:
    """The pixels to recognize: the glyph inside a framed or filled button (a hovered, pressed or checked
    tool button), else the box itself, with a margin."""
    h, w = image.shape[:2]
    glyph = framed_glyph(image, box)
    x1, y1, x2, y2 = (glyph or box).expanded(margin).clipped(w, h).int_box()
    return image[y1:y2, x1:x2]


def framed_glyph(image: np.ndarray, box: Rect) -> Rect | None:
    """The glyph's box when `box` is a frame or a filled plate around a smaller glyph: the box's outer
    band differs from its fill, and the ink on the fill keeps clear of the band on every side."""
    x1, y1, x2, y2 = box.clipped(image.shape[1], image.shape[0]).int_box()
    if min(x2 - x1, y2 - y1) < 12:
        return None
    region = image[y1:y2, x1:x2]
    gray = (region if region.ndim == 2 else region[:, :, :3].mean(axis=2)).astype(np.float32)
    inner = gray[2:-2, 2:-2]
    fill = float(np.median(inner))
    band = np.concatenate([gray[:2].ravel(), gray[-2:].ravel(), gray[2:-2, :2].ravel(), gray[2:-2, -2:].ravel()])
    if np.mean(np.abs(band - fill) > 12) < 0.5:
        return None
    ys, xs = np.nonzero(np.abs(inner - fill) > 40)
    if len(xs) < 6:
        return None
    gx1, gy1, gx2, gy2 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    ih, iw = inner.shape
    if gx1 < 1 or gy1 < 1 or gx2 > iw - 1 or gy2 > ih - 1 or max(gx2 - gx1, gy2 - gy1) < 5:
        return None
    return Rect(float(x1 + 2 + gx1), float(y1 + 2 + gy1), float(x1 + 2 + gx2), float(y1 + 2 + gy2))
