"""Signs drawn alone on a key or a button: a calculator's "=", "×", "√".

The text detector finds no line in a glyph that small and that far from other text (a lone "=" white on a
blue key), yet the element detector finds the key, and the recognizer reads the glyph well once it is given
the key on its own. So each small button that no text line touches is read whole. A reading counts only if
it is one character of Unicode's symbol categories (math, currency, modifier and other symbols: "=", "+",
"±", "€", "°") with the confidence any OCR line needs: a letter or a digit read off a button with no text is
left alone (an icon is not a "Q"), and so are longer readings. Icons alone are not read: a sign is drawn on
a key, and reading every icon would cost a recognizer call each (about 15 ms on two cores).
"""

from __future__ import annotations

import unicodedata

import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.perception.detector import Proposal
from desktop_agent.perception.elements import ElementKind, TextLine
from desktop_agent.perception.ocr import MIN_TEXT_SCORE, OcrEngine

# Key-sized buttons only (frame pixels): a line's height at scale 2, four times as wide (a double-width key).
KEY_MAX_HEIGHT = 48
KEY_MAX_WIDTH = 4 * KEY_MAX_HEIGHT


def is_sign(text: str) -> bool:
    """Whether `text` is one character of Unicode's symbol categories (Sm, Sc, Sk, So)."""
    return len(text) == 1 and unicodedata.category(text).startswith("S")


def _touched(box: Rect, lines: list[TextLine]) -> bool:
    """Whether a text line touches the box (its text was read, or read with a neighbour's)."""
    return any(ln.bbox.intersection(box) is not None for ln in lines)


def glyph_lines(engine: OcrEngine, image: np.ndarray, lines: list[TextLine], proposals: list[Proposal]
                ) -> list[TextLine]:
    """A text line for each key-sized button that no line in `lines` touches and that reads as a sign."""
    keys = [p.bbox for p in proposals if p.kind == ElementKind.BUTTON and p.bbox.height <= KEY_MAX_HEIGHT
            and p.bbox.width <= KEY_MAX_WIDTH and not _touched(p.bbox, lines)]
    if not keys:
        return []
    readings = engine.recognize(image, keys)
    return [TextLine(b, text.strip(), score) for b, (text, score) in zip(keys, readings, strict=True)
            if score >= MIN_TEXT_SCORE and is_sign(text.strip())]


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
