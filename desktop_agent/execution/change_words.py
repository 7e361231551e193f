"""A step's effect in words, from evidence: the text read (OCR) in the changed area before and after the step.

Only the changed area is read (with a band around it, so a line the change touched is read whole), with the
OCR engine the agent already has; its cache makes unchanged lines free. The words are general: what text
appeared, went away or now reads differently; a block of new lines is a window or menu that opened; a change
with no text in it is a change of look. Nothing changed: "the screen did not change". Text typed into a
secret field, and any secret of the run, is never written: it reads as the mask."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.perception.elements import TextLine
from desktop_agent.perception.ocr import OcrEngine, read_lines
from desktop_agent.secret_fields import MASK

NO_CHANGE = "the screen did not change"
# A change at most this tall is a line or two: it is read across a wider band (a field's whole text).
_LINE_BAND = 80
_SIDE_BAND = 240
_PAD = 10
# A window or menu: at least this many new lines in an area at least this large.
_BLOCK_LINES = 2
_BLOCK_SIZE = (100, 50)
_QUOTE_MAX = 60
_MAX_PHRASES = 3


@dataclass(frozen=True, slots=True)
class ChangeStory:
    """What a step changed, in words, with the text lines that tell it (frame pixels)."""

    words: str
    kind: str  # "none", "opened", "closed", "field", "text", "look"
    appeared: tuple[str, ...] = ()
    gone: tuple[str, ...] = ()


def _norm(text: str) -> str:
    """One space between words, and no text caret read at either end ('report|')."""
    return " ".join(text.split()).strip("|¦ ")


def _key(text: str) -> str:
    """What two readings must share to be the same text: letters and digits (a mark drawn beside a word, read
    as '■', or punctuation read one way and then another, is no change of text)."""
    return re.sub(r"[\W_]+", "", text) or _norm(text)


def quote(text: str) -> str:
    """Text from the screen in quotes, cut at a readable length."""
    t = _norm(text)
    return f"'{t[:_QUOTE_MAX - 1]}…'" if len(t) > _QUOTE_MAX else f"'{t}'"


def _masked(text: str, secrets: Iterable[str]) -> str:
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(s, MASK)
    return text


def reading_region(change: Rect, width: int, height: int, target: Rect | None = None) -> Rect:
    """The area to read for a change: the change (and a typing target) padded; a short change also a band
    to each side, so the line it touched is read whole."""
    box = change if target is None else change.union(target)
    dx = _SIDE_BAND if box.height <= _LINE_BAND else _PAD
    return box.expanded(dx, _PAD).clipped(width, height)


def _touches(line: Rect, box: Rect) -> bool:
    return line.intersection(box.expanded(4, 4)) is not None


def _same_place(a: Rect, b: Rect) -> bool:
    """Two lines at one place: most of the shorter one's height shared, and side by side or overlapping."""
    inter = min(a.y2, b.y2) - max(a.y1, b.y1)
    if inter < 0.5 * min(a.height, b.height):
        return False
    return min(a.x2, b.x2) - max(a.x1, b.x1) > -40 or abs(a.x1 - b.x1) < 40


def _drop_splits(wholes: list[TextLine], pieces: list[TextLine], read: list[TextLine]) -> None:
    """Take out of `wholes` a line read whole on one side that the other side (all of `read` there) read in
    pieces, and those pieces out of `pieces` (a focus frame or a highlight drawn between two words splits the
    reading): the same text, no change of words."""
    for whole in list(wholes):
        parts = sorted((t for t in read
                        if _same_place(t.bbox, whole.bbox) and t.bbox.overlaps(whole.bbox.expanded(8))),
                       key=lambda t: t.bbox.x1)
        if len(parts) >= 2 and "".join(_key(t.text) for t in parts) == _key(whole.text):
            wholes.remove(whole)
            for t in parts:
                if t in pieces:
                    pieces.remove(t)


def _reading_order(lines: list[TextLine]) -> list[TextLine]:
    return sorted(lines, key=lambda t: (round(t.bbox.y1 / 8), t.bbox.x1))


def _list(texts: list[str], limit: int = 3) -> str:
    shown = ", ".join(quote(t) for t in texts[:limit])
    return shown + (f" and {len(texts) - limit} more" if len(texts) > limit else "")


def tell_change(before_lines: list[TextLine], after_lines: list[TextLine], change: Rect | None,
                field: tuple[list[TextLine], list[TextLine]] | None = None, secret_field: bool = False,
                secrets: Iterable[str] = (), target: Rect | None = None) -> ChangeStory:
    """Phrase a change from the lines read in its area before and after. `field`: the lines read inside
    the box typed into, before and after (its text is "the field"); `secret_field`: shown as the mask."""
    if change is None:
        return ChangeStory(NO_CHANGE, "none")
    secrets = tuple(secrets)

    field_box = target if field is not None else None
    if field_box is None and field is not None and field[0] + field[1]:
        boxes = [t.bbox for t in field[0] + field[1]]
        field_box = boxes[0]
        for b in boxes[1:]:
            field_box = field_box.union(b)

    def shown(line: TextLine) -> str:
        if secret_field and field_box is not None and _touches(line.bbox, field_box):
            return MASK
        return _masked(_norm(line.text), secrets)

    before = [t for t in before_lines if _touches(t.bbox, change) and _norm(t.text)]
    after = [t for t in after_lines if _touches(t.bbox, change) and _norm(t.text)]
    before_count = Counter(_key(t.text) for t in before)
    after_count = Counter(_key(t.text) for t in after)
    new, gone = [], []
    left = Counter(before_count)
    for t in _reading_order(after):
        key = _key(t.text)
        if left[key] > 0:
            left[key] -= 1
        else:
            new.append(t)
    left = Counter(after_count)
    for t in _reading_order(before):
        key = _key(t.text)
        if left[key] > 0:
            left[key] -= 1
        else:
            gone.append(t)
    _drop_splits(gone, new, after_lines)
    _drop_splits(new, gone, before_lines)
    appeared = tuple(shown(t) for t in new)
    went = tuple(shown(t) for t in gone)
    if field is not None:
        was = _norm(" ".join(t.text for t in _reading_order(field[0])))
        now = _norm(" ".join(t.text for t in _reading_order(field[1])))
        if now and _key(now) != _key(was):
            now = MASK if secret_field else _masked(now, secrets)
            return ChangeStory(f"the field now reads {quote(now)}", "field", appeared, went)
        if secret_field:
            return ChangeStory("the field changed (its text is secret)", "field", appeared, went)
    if not new and not gone:
        where = " at the target" if target is not None and _touches(target, change) else ""
        return ChangeStory(f"the look changed{where} (no text changed)", "look")
    big = change.width >= _BLOCK_SIZE[0] and change.height >= _BLOCK_SIZE[1]
    pairs: list[tuple[TextLine, TextLine]] = []
    for t in new:
        mate = next((g for g in gone if _same_place(g.bbox, t.bbox) and all(g is not p[0] for p in pairs)), None)
        if mate is not None:
            pairs.append((mate, t))
    paired_new = {id(p[1]) for p in pairs}
    paired_gone = {id(p[0]) for p in pairs}
    only_new = [t for t in new if id(t) not in paired_new]
    only_gone = [t for t in gone if id(t) not in paired_gone]
    if big and len(only_new) >= _BLOCK_LINES and len(only_new) > 2 * len(pairs) and len(only_new) >= len(only_gone):
        return ChangeStory(f"a window or menu opened, showing {_list([shown(t) for t in only_new])}",
                           "opened", appeared, went)
    if big and len(only_gone) >= _BLOCK_LINES and not only_new and not pairs:
        return ChangeStory(f"a window or menu closed ({_list([shown(t) for t in only_gone])} went away)",
                           "closed", appeared, went)
    phrases = [f"{quote(shown(old))} now reads {quote(shown(now))}" for old, now in pairs]
    if only_new:
        phrases.append(f"{_list([shown(t) for t in only_new], 2)} appeared")
    if only_gone:
        phrases.append(f"{_list([shown(t) for t in only_gone], 2)} went away")
    more = len(phrases) - _MAX_PHRASES
    words = "; ".join(phrases[:_MAX_PHRASES]) + (f"; and {more} more change{'s' if more > 1 else ''}"
                                                  if more > 0 else "")
    return ChangeStory(words, "text", appeared, went)


def describe_change(before: np.ndarray, after: np.ndarray, change: Rect | None, ocr: OcrEngine | None,
                    target: Rect | None = None, typed_into: bool = False, secret_field: bool = False,
                    secrets: Iterable[str] = ()) -> ChangeStory:
    """Read the changed area of `before` and `after` (frames of one monitor) and phrase what changed.
    `target`: the step's target box; `typed_into`: the step typed into it (a field)."""
    if change is None:
        return ChangeStory(NO_CHANGE, "none")
    if ocr is None or before.shape != after.shape:
        where = " at the target" if target is not None and _touches(target, change) else ""
        return ChangeStory(f"the screen changed{where}", "look")
    if secret_field and not (typed_into and target is not None):
        # A secret typed where the focus was: the field is not known, so no text of the change is read at all.
        return ChangeStory("the field changed (its text is secret)", "field")
    h, w = after.shape[:2]
    field = None
    if typed_into and target is not None:
        # The field alone first (a label beside it is read as part of its line when a band is read); what it
        # reads now is usually the whole story.
        box = target.expanded(2).clipped(w, h)
        field = (read_lines(ocr, before, [box]), read_lines(ocr, after, [box]))
        story = tell_change([], [], change, field, secret_field, secrets, target)
        if story.kind == "field":
            return story
    region = reading_region(change, w, h, target if typed_into else None)
    if region.width < 4 or region.height < 4:
        return ChangeStory("the screen changed", "look")
    before_lines = read_lines(ocr, before, [region])
    after_lines = read_lines(ocr, after, [region])
    return tell_change(before_lines, after_lines, change, field, secret_field, secrets, target)
