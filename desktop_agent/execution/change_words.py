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


def _read_in(lines: list[TextLine], change: Rect) -> list[TextLine]:
    """The lines with text that touch the changed area."""
    return [t for t in lines if _touches(t.bbox, change) and _norm(t.text)]


def _unmatched(lines: list[TextLine], other: list[TextLine]) -> list[TextLine]:
    """The lines of `lines`, in reading order, that `other` does not hold as well (texts counted: one of
    two equal lines on one side and one on the other leaves one)."""
    left = Counter(_key(t.text) for t in other)
    out = []
    for t in _reading_order(lines):
        key = _key(t.text)
        if left[key] > 0:
            left[key] -= 1
        else:
            out.append(t)
    return out


def _field_box(field: tuple[list[TextLine], list[TextLine]] | None, target: Rect | None) -> Rect | None:
    """The box typed into: the target, else the lines read in the field; None without a field."""
    if field is None:
        return None
    if target is not None:
        return target
    boxes = [t.bbox for t in field[0] + field[1]]
    if not boxes:
        return None
    box = boxes[0]
    for b in boxes[1:]:
        box = box.union(b)
    return box


@dataclass(frozen=True, slots=True)
class _Wording:
    """How a line read on the screen is written: the mask when it touches the secret field typed into
    (`secret_box`), else its text with the run's secrets masked."""

    secret_box: Rect | None
    secrets: tuple[str, ...]

    def __call__(self, line: TextLine) -> str:
        if self.secret_box is not None and _touches(line.bbox, self.secret_box):
            return MASK
        return _masked(_norm(line.text), self.secrets)


def _at_target(target: Rect | None, change: Rect) -> str:
    return " at the target" if target is not None and _touches(target, change) else ""


def _field_words(field: tuple[list[TextLine], list[TextLine]], secret_field: bool,
                 secrets: tuple[str, ...]) -> str | None:
    """What became of the field typed into, when its text tells the step's story."""
    was = _norm(" ".join(t.text for t in _reading_order(field[0])))
    now = _norm(" ".join(t.text for t in _reading_order(field[1])))
    if now and _key(now) != _key(was):
        now = MASK if secret_field else _masked(now, secrets)
        return f"the field now reads {quote(now)}"
    if secret_field:
        return "the field changed (its text is secret)"
    return None


def _pairs(new: list[TextLine], gone: list[TextLine]) -> list[tuple[TextLine, TextLine]]:
    """(gone, new) lines at one place: a text that now reads differently. Each gone line pairs once."""
    pairs: list[tuple[TextLine, TextLine]] = []
    for t in new:
        mate = next((g for g in gone if _same_place(g.bbox, t.bbox) and all(g is not p[0] for p in pairs)), None)
        if mate is not None:
            pairs.append((mate, t))
    return pairs


def _unpaired(lines: list[TextLine], paired: Iterable[TextLine]) -> list[TextLine]:
    ids = {id(t) for t in paired}
    return [t for t in lines if id(t) not in ids]


def _block_words(change: Rect, pairs: list[tuple[TextLine, TextLine]], only_new: list[TextLine],
                 only_gone: list[TextLine], shown: _Wording) -> tuple[str, str] | None:
    """(words, kind) when a large change is a window or menu that opened or closed."""
    if not (change.width >= _BLOCK_SIZE[0] and change.height >= _BLOCK_SIZE[1]):
        return None
    if len(only_new) >= _BLOCK_LINES and len(only_new) > 2 * len(pairs) and len(only_new) >= len(only_gone):
        return f"a window or menu opened, showing {_list([shown(t) for t in only_new])}", "opened"
    if len(only_gone) >= _BLOCK_LINES and not only_new and not pairs:
        return f"a window or menu closed ({_list([shown(t) for t in only_gone])} went away)", "closed"
    return None


def _text_words(pairs: list[tuple[TextLine, TextLine]], only_new: list[TextLine], only_gone: list[TextLine],
                shown: _Wording) -> str:
    """The texts that now read differently, appeared and went away, the first few of them."""
    phrases = [f"{quote(shown(old))} now reads {quote(shown(now))}" for old, now in pairs]
    for lines, verb in ((only_new, "appeared"), (only_gone, "went away")):
        if lines:
            phrases.append(f"{_list([shown(t) for t in lines], 2)} {verb}")
    more = len(phrases) - _MAX_PHRASES
    return "; ".join(phrases[:_MAX_PHRASES]) + (f"; and {more} more change{'s' if more > 1 else ''}"
                                                 if more > 0 else "")


def _text_change(change: Rect, new: list[TextLine], gone: list[TextLine], shown: _Wording) -> tuple[str, str]:
    """(words, kind) for a change of text: a window or menu that opened or closed, else the texts changed."""
    pairs = _pairs(new, gone)
    only_new = _unpaired(new, (p[1] for p in pairs))
    only_gone = _unpaired(gone, (p[0] for p in pairs))
    block = _block_words(change, pairs, only_new, only_gone, shown)
    if block is not None:
        return block
    return _text_words(pairs, only_new, only_gone, shown), "text"


def tell_change(before_lines: list[TextLine], after_lines: list[TextLine], change: Rect | None,
                field: tuple[list[TextLine], list[TextLine]] | None = None, secret_field: bool = False,
                secrets: Iterable[str] = (), target: Rect | None = None) -> ChangeStory:
    """Phrase a change from the lines read in its area before and after. `field`: the lines read inside
    the box typed into, before and after (its text is "the field"); `secret_field`: shown as the mask."""
    if change is None:
        return ChangeStory(NO_CHANGE, "none")
    secrets = tuple(secrets)
    shown = _Wording(_field_box(field, target) if secret_field else None, secrets)
    before, after = _read_in(before_lines, change), _read_in(after_lines, change)
    new, gone = _unmatched(after, before), _unmatched(before, after)
    _drop_splits(gone, new, after_lines)
    _drop_splits(new, gone, before_lines)
    appeared = tuple(shown(t) for t in new)
    went = tuple(shown(t) for t in gone)
    field_words = _field_words(field, secret_field, secrets) if field is not None else None
    if field_words is not None:
        return ChangeStory(field_words, "field", appeared, went)
    if not new and not gone:
        return ChangeStory(f"the look changed{_at_target(target, change)} (no text changed)", "look")
    return ChangeStory(*_text_change(change, new, gone, shown), appeared, went)


def describe_change(before: np.ndarray, after: np.ndarray, change: Rect | None, ocr: OcrEngine | None,
                    target: Rect | None = None, typed_into: bool = False, secret_field: bool = False,
                    secrets: Iterable[str] = ()) -> ChangeStory:
    """Read the changed area of `before` and `after` (frames of one monitor) and phrase what changed.
    `target`: the step's target box; `typed_into`: the step typed into it (a field)."""
    if change is None:
        return ChangeStory(NO_CHANGE, "none")
    if ocr is None or before.shape != after.shape:
        return ChangeStory(f"the screen changed{_at_target(target, change)}", "look")
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
