"""Signs drawn alone on a key or a button: a calculator's "=", "×", "√", "(", "%".

The text detector finds no line in a glyph that small and that far from other text (a lone "=" white on a
blue key), yet the element detector finds the key, and the recognizer reads the glyph well once it is given
the glyph on its own. So each key-sized button (or small framed box) that no text line touches is looked at:
if it holds a glyph-sized patch of ink, that patch is read alone, with a margin, and a key of a line's height
is also read whole: a thin sign is read as itself only tight ("-" at 0.91 where the whole key gave 0.18), a
white "=" on blue only whole (0.73 against 0.18 tight); two confident readings that disagree leave it unread.
A reading counts only if it is one character of Unicode's symbol or punctuation categories ("=", "+", "±",
"€", "°", "(", "%", ".") with the confidence any OCR line needs: a letter or a digit read off a button with
no text is left alone (an icon is not a "Q"), and so are longer readings. PP-OCR's alphabet is Chinese and
Latin, and a lone sign may come back as the ideograph it looks like ("十" for "+", "一" for "-", "二" for "="):
such a reading is taken as that sign. Icons alone are not read: a sign is drawn on a key, and reading every
icon would cost a recognizer call each (about 15 ms on two cores).
"""

from __future__ import annotations

import unicodedata

import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.perception.detector import Proposal
from desktop_agent.perception.elements import ElementKind, TextLine
from desktop_agent.perception.ocr import MIN_TEXT_SCORE, OcrEngine

# Keys (frame pixels): up to four lines of scale 2 high or wide (a double-height "=" key at scale 2 is about 150
# pixels high), holding a glyph no taller than a line at scale 2.
KEY_MAX_HEIGHT = 48
KEY_MAX_SIDE = 4 * KEY_MAX_HEIGHT
_KEY_KINDS = (ElementKind.BUTTON, ElementKind.CONTAINER)  # a tall key may be taken for a small framed box
# Ideographs PP-OCR reads for a sign drawn alone (its alphabet is Chinese and Latin).
_LOOKALIKES = {"十": "+", "一": "-", "二": "="}


def is_sign(text: str) -> bool:
    """Whether `text` is one character of Unicode's symbol (Sm, Sc, Sk, So) or punctuation (P*) categories."""
    return len(text) == 1 and unicodedata.category(text)[0] in "SP"


def _glyph_box(image: np.ndarray, key: Rect) -> Rect | None:
    """The glyph inside `key` with a margin: the box of what differs clearly from the key's own colour, inside
    its frame (the key's outer eighth on each side is left out: border, bevel, shadow); None when nothing is
    drawn there or it is no glyph (taller than a line at scale 2)."""
    h_img, w_img = image.shape[:2]
    x1, y1, x2, y2 = key.clipped(w_img, h_img).int_box()
    inset = max(2, round(0.12 * min(x2 - x1, y2 - y1)))
    inner = image[y1 + inset:y2 - inset, x1 + inset:x2 - inset]
    if inner.shape[0] < 4 or inner.shape[1] < 4:
        return None
    gray = inner[:, :, :3].astype(np.float32).mean(axis=2) if inner.ndim == 3 else inner.astype(np.float32)
    diff = np.abs(gray - float(np.median(gray)))
    ys, xs = np.nonzero(diff > max(35.0, 0.3 * float(diff.max())))
    if not len(ys) or ys.max() - ys.min() + 1 > KEY_MAX_HEIGHT:
        return None
    pad = max(4, round(0.3 * (ys.max() - ys.min() + 1)))
    gx1, gy1 = x1 + inset + int(xs.min()) - pad, y1 + inset + int(ys.min()) - pad
    gx2, gy2 = x1 + inset + int(xs.max()) + 1 + pad, y1 + inset + int(ys.max()) + 1 + pad
    return Rect(float(max(gx1, x1)), float(max(gy1, y1)), float(min(gx2, x2)), float(min(gy2, y2)))


def _touched(box: Rect, lines: list[TextLine]) -> bool:
    """Whether a text line touches the box (its text was read, or read with a neighbour's)."""
    return any(ln.bbox.intersection(box) is not None for ln in lines)


def glyph_lines(engine: OcrEngine, image: np.ndarray, lines: list[TextLine], proposals: list[Proposal]
                ) -> list[TextLine]:
    """A text line (the key's box, the sign) for each key that no line in `lines` touches and whose glyph
    reads as a sign."""
    keys = [p.bbox for p in proposals if p.kind in _KEY_KINDS and p.bbox.height <= KEY_MAX_SIDE
            and p.bbox.width <= KEY_MAX_SIDE and not _touched(p.bbox, lines)]
    glyphs = [(k, g) for k in keys if (g := _glyph_box(image, k)) is not None]
    if not glyphs:
        return []
    # Two confident readings that disagree ("-" and "=") leave the key unread: a wrong sign is a wrong click.
    return [TextLine(key, *next(iter(signs.items())))
            for (key, _), signs in zip(glyphs, _signs_read(engine, image, glyphs), strict=True) if len(signs) == 1]


def _signs_read(engine: OcrEngine, image: np.ndarray, glyphs: list[tuple[Rect, Rect]]) -> list[dict[str, float]]:
    """For each (key, glyph box), the signs its readings give with their best confidence. The glyph is read
    tight, and a key of a line's height also whole: neither crop reads every sign best (a thin "-" only
    tight, a white "=" on blue only whole); a taller key read whole is squeezed ("=" comes back "-")."""
    crops = [(n, box) for n, (key, glyph) in enumerate(glyphs)
             for box in ((key, glyph) if key.height <= KEY_MAX_HEIGHT else (glyph,))]
    readings = engine.recognize(image, [box for _, box in crops])
    found: list[dict[str, float]] = [{} for _ in glyphs]
    for (n, _), (text, score) in zip(crops, readings, strict=True):
        sign = _sign_of(text)
        if score >= MIN_TEXT_SCORE and is_sign(sign):
            found[n][sign] = max(score, found[n].get(sign, 0.0))
    return found


def _sign_of(text: str) -> str:
    """A reading as the sign it stands for: full-width forms folded ("（" is "("), lookalike ideographs taken
    as their signs."""
    sign = unicodedata.normalize("NFKC", text.strip())
    return _LOOKALIKES.get(sign, sign)


def carried_glyphs(before: list[TextLine], old: np.ndarray, new: np.ndarray, lines: list[TextLine]
                   ) -> list[TextLine]:
    """Signs read on the previous frame whose keys' pixels are the same in this one and that no line now
    touches: an incremental parse re-detects the band around a change, and a key inside that band but not
    changed itself (a hover beside it) stays read, whether or not the band's detection finds it again."""
    out = []
    for g in before:
        x1, y1, x2, y2 = g.bbox.int_box()
        if not _touched(g.bbox, lines) and np.array_equal(old[y1:y2, x1:x2], new[y1:y2, x1:x2]):
            out.append(g)
    return out


def keys_of(signs: list[TextLine], proposals: list[Proposal]) -> list[Proposal]:
    """Button proposals for carried signs whose keys the band's detection did not find again (a sign's line
    without its key would merge into the icon drawn inside it)."""
    return [Proposal(ElementKind.BUTTON, s.bbox, s.score) for s in signs
            if not any(p.kind == ElementKind.BUTTON and p.bbox.iou(s.bbox) > 0.5 for p in proposals)]
