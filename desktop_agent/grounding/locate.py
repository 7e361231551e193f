"""`locate_target`: from an instruction to one element and a click point, or an abstention.

Matching is on text: the exact label, the label as whole words inside a longer line (the point then goes
to that span), the label spread over neighbouring lines of one row, or a close fuzzy match that tolerates
OCR slips. Anything weaker abstains: clicking a guess on a real desktop does harm that a refusal does not.

The name is matched as a whole. An element whose whole text is the label (case, spacing, punctuation and
confusable glyphs folded) outranks one that merely starts with it or carries it inside a longer line
("Save" before "Save as..."). The label counts inside a line only as whole words. A verb that starts a
name ("Open Database...", "Select All") is read both ways: the whole name is looked for first, and only
matches as itself or a misreading of it, never as a different word that contains it or one with a word
more or less ("Select All" is not "Deselect All"); when nothing carries it, the words after the verb are
looked for (the menu title "Database"), but not on a different name close to the whole one ("Deselect All").
(The general fuzzy match that tolerates OCR slips is not held to that rule: held to it, it turned right
clicks on grounding-dev into abstentions.)
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any, NamedTuple

import numpy as np

from desktop_agent.errors import TargetNotFound
from desktop_agent.geometry import Point, Rect
from desktop_agent.grounding.calibration import Scored, shared, shared_calibration
from desktop_agent.grounding.instruction import (
    Instruction,
    normalize,
    normalize_with_map,
    parse_instruction,
    with_kind_word,
)
from desktop_agent.perception.elements import Element, ElementKind, ParseResult, TextLine
from desktop_agent.perception.icon_meaning import shared_meaning

# A text match below this hand-ordered score is too weak to be a candidate reading of the name.
CANDIDATE_MIN = 0.72
# The least calibrated probability that clicks (models/locate/calibration.json).
MIN_SCORE = shared_calibration().threshold
_INTERACTIVE = (ElementKind.BUTTON, ElementKind.INPUT, ElementKind.CHECKBOX, ElementKind.RADIO,
                ElementKind.MENU_ITEM, ElementKind.LINK, ElementKind.TOGGLE, ElementKind.DROPDOWN, ElementKind.TAB,
                ElementKind.SLIDER, ElementKind.SCROLLBAR)
# Controls named by the label beside them: the point goes to the control, not to the label.
_LABELLED = (ElementKind.INPUT, ElementKind.CHECKBOX, ElementKind.RADIO, ElementKind.TOGGLE, ElementKind.DROPDOWN,
             ElementKind.SLIDER)


@dataclass(frozen=True, slots=True)
class LocateResult:
    """Where to click for an instruction: the point, the element, the matched box and the score."""

    point: Point
    bbox: Rect  # the part of the element that carries the label (a span of a longer line, or all of it)
    score: float
    element: Element
    instruction: Instruction

    def to_dict(self) -> dict[str, Any]:
        """The result as `locate --json` prints it."""
        x, y = self.point.rounded()
        return {"x": x, "y": y, "bbox": self.bbox.as_list(), "score": round(self.score, 3),
                "element": self.element.to_dict()}


@dataclass(frozen=True, slots=True)
class _Candidate:
    element: Element
    lines: tuple[TextLine, ...]  # the text it carries, left to right
    phrase: bool = False  # pieced together from neighbouring elements


def _lines_box(lines: tuple[TextLine, ...]) -> Rect:
    box = lines[0].bbox
    for ln in lines[1:]:
        box = box.union(ln.bbox)
    return box


def _row_phrases(elements: list[Element]) -> list[_Candidate]:
    """Runs of 2-4 pieces of text side by side on one row, for labels that OCR split in pieces or that
    run over a badge and the text after it ("POST" on a button, then "/loans Lend a book"). Pieces are
    placed by their text, not by their element's box (a field's box may reach under its neighbour)."""
    pieces = sorted(((e, _lines_box(e.lines)) for e in elements if e.lines), key=lambda t: t[1].x1)
    out = []
    for i, (first, first_box) in enumerate(pieces):
        run = [(first, first_box)]
        for nxt, box in pieces[i + 1:]:
            last_box = run[-1][1]
            same_row = abs(box.center.y - last_box.center.y) <= 0.35 * last_box.height
            gap = box.x1 - last_box.x2
            if not same_row:
                continue
            # OCR boxes of neighbouring words may overlap by a few pixels.
            if gap < -0.4 * last_box.height or gap > 2.5 * last_box.height:
                break
            run.append((nxt, box))
            if len(run) >= 2:
                union = run[0][0].bbox
                for e, _ in run[1:]:
                    union = union.union(e.bbox)
                lines = tuple(ln for e, _ in run for ln in e.lines)
                el = replace(first, bbox=union, text=" ".join(" ".join(ln.text for ln in e.lines) for e, _ in run),
                             lines=lines, role="", states=(), origin="vision")  # pieced by us: no tree node
                out.append(_Candidate(el, lines, phrase=True))
            if len(run) == 4:
                break
    return out


def _stacked_phrases(elements: list[Element]) -> list[_Candidate]:
    """Two short pieces of text one above the other and sharing a column: a label written on two lines
    ("Save" over "export" on a tab) that OCR read as two."""
    pieces = sorted(((e, _lines_box(e.lines)) for e in elements if e.lines and len(e.text.split()) <= 3),
                    key=lambda t: t[1].y1)
    tops = [box.y1 for _, box in pieces]
    out = []
    for top, tbox in pieces:
        # Only pieces starting just below this one's bottom need a look (a dense screen has hundreds).
        first = bisect_left(tops, tbox.y2 - 0.2 * tbox.height)
        for low, lbox in pieces[first:bisect_right(tops, tbox.y2 + 0.8 * tbox.height)]:
            if low is top:
                continue
            gap = lbox.y1 - tbox.y2
            overlap = min(tbox.x2, lbox.x2) - max(tbox.x1, lbox.x1)
            if (-0.2 * tbox.height <= gap <= 0.8 * tbox.height and abs(lbox.height - tbox.height) <= 0.3 * tbox.height
                    and overlap >= 0.5 * min(tbox.width, lbox.width)):
                lines = (*top.lines, *low.lines)
                el = replace(top, bbox=top.bbox.union(low.bbox), text=f"{top.text} {low.text}", lines=lines,
                             role="", states=(), origin="vision")
                out.append(_Candidate(el, lines, phrase=True))
    return out


def _text_box(cand: _Candidate) -> Rect:
    return _lines_box(cand.lines) if cand.lines else cand.element.bbox


def _span_box(cand: _Candidate, start: int, end: int) -> Rect:
    """The box of raw characters [start, end) of the candidate's joined text, proportional per line."""
    pos = 0
    boxes = []
    for ln in cand.lines:
        n = max(1, len(ln.text))
        a, b = max(start - pos, 0), min(end - pos, n)
        if a < b:
            w = ln.bbox.width
            boxes.append(Rect(ln.bbox.x1 + w * a / n, ln.bbox.y1, ln.bbox.x1 + w * b / n, ln.bbox.y2))
        pos += n + 1  # the joining space
    if not boxes:
        return _text_box(cand)
    box = boxes[0]
    for b2 in boxes[1:]:
        box = box.union(b2)
    return box


# Glyphs OCR confuses on screen fonts: compared folded, a read of "/1oans" still finds "/loans". PP-OCR's
# alphabet is Chinese and Latin, and a lone plus or minus sign on a key comes back as the ideographs for ten
# and one ("十", "一"): folded too.
_FOLD = str.maketrans({"1": "l", "i": "l", "|": "l", "!": "l", "0": "o", "5": "s", "8": "b", "十": "+", "一": "-"})


_DIGITS = re.compile(r"\d+")


def _same_numbers(label: str, text: str) -> bool:
    """A label with numbers matches only text with the same numbers; one without is not held to it
    (OCR reads a letter as a digit now and then)."""
    wanted = _DIGITS.findall(label)
    return not wanted or wanted == _DIGITS.findall(text)


def _compact(text: str) -> tuple[str, list[int]]:
    keep = [i for i, c in enumerate(text) if c != " "]
    return "".join(text[i] for i in keep), keep


def _contains(label: str, text: str) -> tuple[int, int] | None:
    """Span of `label` as whole words of `text`; spacing and OCR-confusable glyphs forgiven. A name of signs
    alone ("-", "+/-") stands apart by spaces: "-" is not a piece of "<-"."""
    if not any(c.isalnum() for c in label):
        m = re.search(rf"(?<!\S){re.escape(label)}(?!\S)", text)
        return (m.start(), m.end()) if m else None
    m = re.search(rf"(?<!\w){re.escape(label)}(?!\w)", text)
    if m:
        return m.start(), m.end()
    ctext, where = _compact(text.translate(_FOLD))
    clabel = label.translate(_FOLD).replace(" ", "")
    if not clabel:
        return None
    for m in re.finditer(re.escape(clabel), ctext):
        a, b = where[m.start()], where[m.end() - 1] + 1
        if (a == 0 or not text[a - 1].isalnum()) and (b == len(text) or not text[b].isalnum()):
            return a, b
    return None


def _alnum(text: str) -> int:
    return sum(c.isalnum() for c in text)


def _inside_a_word(label: str, text: str) -> bool:
    """One of the two occurs in the other, but not as whole words: "select all" in "deselect all", "save"
    in "saved". A different word, never an OCR slip of it."""
    short, long_ = (label, text) if len(label) <= len(text) else (text, label)
    at = long_.find(short)
    while at >= 0:
        end = at + len(short)
        if (at > 0 and long_[at - 1].isalnum()) or (end < len(long_) and long_[end].isalnum()):
            return True
        at = long_.find(short, at + 1)
    return False


def _slip_only(label: str, text: str) -> bool:
    """Whether `text` can be `label` misread: the two differ by changed characters, not by letters or
    words added or dropped (two or more letters or digits in one place)."""
    if _inside_a_word(label, text):
        return False
    ops = SequenceMatcher(None, label, text, autojunk=False).get_opcodes()
    return all(abs(_alnum(label[i1:i2]) - _alnum(text[j1:j2])) < 2 for tag, i1, i2, j1, j2 in ops if tag != "equal")


class Match(NamedTuple):
    """How a text carries a label: `score` orders candidates (from 1.0, the exact text, down), `span` is where
    in the text when partial, `how` names the kind of match and `similarity` its closeness (1 unless fuzzy)."""

    score: float
    span: tuple[int, int] | None
    how: str  # "exact", "spacing", "folded", "contains", "fuzzy" or "" (none)
    similarity: float = 1.0


_NO_MATCH = Match(0.0, None, "", 0.0)


def _whole_match(label: str, text: str) -> Match | None:
    """The match when `text` as a whole is `label`: exactly, but for spacing, or but for confusable glyphs."""
    if text == label:
        return Match(1.0, None, "exact")
    if text.replace(" ", "") == label.replace(" ", ""):
        return Match(0.97, None, "spacing")
    if text.translate(_FOLD).replace(" ", "") == label.translate(_FOLD).replace(" ", ""):
        return Match(0.93, None, "folded")
    return None


def _may_be(label: str, text: str, strict: bool) -> bool:
    """Whether approximate `text` may be `label`: the same numbers, and (`strict`) only a misreading of it."""
    return _same_numbers(label, text) and (not strict or _slip_only(label, text))


def _word_windows(text: str, size: int) -> Iterator[tuple[int, int]]:
    """The spans of `size` characters of `text` that start and end at word boundaries."""
    for i in range(len(text) - size + 1):
        j = i + size
        if (i > 0 and text[i - 1].isalnum()) or (j < len(text) and text[j].isalnum()):
            continue
        yield i, j


def _window_match(label: str, text: str, strict: bool) -> Match | None:
    """A fuzzy match against a word-aligned window of a longer line, for an OCR slip in it; None if too weak."""
    best, best_span = 0.0, None
    for i, j in _word_windows(text, len(label)):
        r = SequenceMatcher(None, label, text[i:j], autojunk=False).ratio()
        if r > best and _may_be(label, text[i:j], strict):
            best, best_span = r, (i, j)
    if best >= 0.88:
        return Match(0.7 + 0.2 * best, best_span, "fuzzy", best)
    return None


def _match(label: str, text: str, strict: bool = False) -> Match:
    """How well normalised `text` carries normalised `label`, and the span (in `text`) when partial.
    `strict`: a fuzzy match must be a misreading, not another word (`_slip_only`)."""
    if not label or not text:
        return _NO_MATCH
    whole = _whole_match(label, text)
    if whole is not None:
        return whole
    span = _contains(label, text)
    if span:
        # The label as whole words of a longer line: a menu bar, a toolbar row, a sentence with a link.
        return Match(0.86 + 0.1 * len(label) / len(text), span, "contains")
    ratio = SequenceMatcher(None, label, text, autojunk=False).ratio()
    # Numbers are never approximate: "line 150" is not "line 130", "Item 40" not "Item 10".
    if len(label) >= 4 and ratio >= 0.85 and _may_be(label, text, strict):
        return Match(0.7 + 0.22 * ratio, None, "fuzzy", ratio)  # below any exact or glyph-folded match
    if len(text) > len(label) >= 5:
        window = _window_match(label, text, strict)
        if window is not None:
            return window
    return Match(ratio * 0.7, None, "fuzzy" if ratio > 0 else "", ratio)


WHOLE = 0.93  # _match's scores from here up: the text as a whole is the label (folded)


def _coverage(label: str, text: str, span: tuple[int, int] | None) -> float:
    """The share of `text` that the label covers: its span's, or (whole and approximate) the lengths'."""
    if span:
        return (span[1] - span[0]) / max(len(text), 1)
    return min(len(label), len(text)) / max(len(label), len(text), 1)


@dataclass(frozen=True, slots=True)
class _Evidence:
    """How a candidate carries the name: the match, the box to click, whether the label beside a control
    names it, the share of the text the name covers and the text beside the name."""

    match: Match
    box: Rect
    via_label: bool = False
    coverage: float = 0.0
    rest: str = ""


def _shown_evidence(ins: Instruction, cand: _Candidate, strict: bool) -> _Evidence:
    """The match on the text the element shows: the point goes to that text (or the matching span of it)."""
    el = cand.element
    if not cand.lines:
        return _Evidence(_NO_MATCH, el.bbox)
    shown = " ".join(ln.text for ln in cand.lines)
    norm, where = normalize_with_map(shown)
    head = _name_before_shortcut(norm)
    if head and head != norm and not _SHORTCUT.search(ins.label):
        # A menu row: the name, then its key combination ("Find...  Ctrl+F"). The combination is not part of
        # the name, so the text before it is matched as the whole text.
        whole = _whole_match(ins.label, head)
        if whole is not None:
            return _Evidence(whole, _span_box(cand, where[0], where[len(head) - 1] + 1), False, 1.0, "")
    m = _match(ins.label, norm, strict)
    if m.how == "fuzzy" and _inside_a_word(ins.label, norm):
        m = _NO_MATCH  # a word that holds the name inside it is another word: "Preferences", not "References"
    if m.score <= 0:
        return _Evidence(m, el.bbox)
    box = _span_box(cand, where[m.span[0]], where[m.span[1] - 1] + 1) if m.span else _text_box(cand)
    rest = f"{norm[:m.span[0]]} {norm[m.span[1]:]}".strip() if m.span else ""
    return _Evidence(m, box, False, _coverage(ins.label, norm, m.span), rest)


def _name_before_shortcut(norm: str) -> str:
    """Normalised text without the key combination it ends with, as a menu row draws it after the item's
    name ("save  ctrl+s", "close window  shift+ctrl+w", "refresh  f5"); the text itself when it ends
    with none. Its end is trimmed as `normalize` trims a text's ("find...  ctrl+f" -> "find")."""
    return _SHORTCUT.sub("", norm).rstrip(" .:")


def _label_evidence(ins: Instruction, cand: _Candidate, strict: bool, shown: _Evidence) -> _Evidence:
    """`shown`, or better: a control named by the label beside it (a field, a checkbox), the point then on
    the control. The whole label names it; a few words inside a longer line beside a field do not."""
    el = cand.element
    if not el.text or not (shown.match.score < 0.9 or el.kind in _LABELLED):
        return shown
    named = normalize_with_map(el.text)[0]
    by_label = _match(ins.label, named, strict)
    if by_label.score > shown.match.score and by_label.span is None:
        return _Evidence(by_label, el.bbox, bool(cand.lines) or el.kind in _LABELLED,
                         _coverage(ins.label, named, None), "")
    return shown


def _kind_bonus(ins: Instruction, kind: ElementKind) -> float:
    """What the element's kind adds to the score: most when it is the kind asked for."""
    if ins.kind is not None:
        if kind == ins.kind:
            return 0.04
        if ins.kind in _INTERACTIVE and kind in _INTERACTIVE:
            return 0.01
        return 0.0
    return 0.02 if kind in _INTERACTIVE else 0.0


def _score(ins: Instruction, cand: _Candidate, strict: bool = False) -> Scored | None:
    """The candidate's evidence: its ordering score, the box to click, whether its text as a whole is the
    label, and how the text carries it."""
    el = cand.element
    ev = _label_evidence(ins, cand, strict, _shown_evidence(ins, cand, strict))
    m = ev.match
    if m.score <= 0:
        return None
    score = m.score + _kind_bonus(ins, el.kind)
    phrase = cand.phrase or (len(cand.lines) > 1 and el.kind == ElementKind.TEXT)
    case_exact = bool(cand.lines) and m.score >= WHOLE and " ".join(ln.text for ln in cand.lines) in ins.raw
    if phrase:
        score -= 0.03  # a phrase pieced from several lines is weaker evidence than one line
    elif case_exact:
        score += 0.005  # written exactly so, case included: breaks a tie with "bOOK" for "Book"
    conf = min((ln.score for ln in cand.lines), default=el.confidence)
    # The score may exceed 1 by the kind bonus: ties between a label and its control break here.
    return Scored(score, m.span is None and m.score >= WHOLE, el, ev.box, m.how, ev.coverage, m.similarity,
                  ev.via_label, phrase, case_exact, conf, rest=ev.rest)


def icon_evidence(parse: ParseResult, label: str, top: int = 3) -> list[tuple[Element, float, float]]:
    """The icons nearest in meaning to `label`: (element, cosine, lead over the screen's next best icon; 0
    when it is the only one), best first. What the calibration of models/icon_embed is fitted on."""
    icons = [el for el in parse.elements if el.icon_vector]
    meaning = shared_meaning() if icons else None
    wanted = meaning.embed_text(label) if meaning is not None else None
    if wanted is None:
        return []
    sims = np.asarray([el.icon_vector for el in icons], np.float32) @ wanted
    order = np.argsort(-sims)
    out = []
    for rank, k in enumerate(order[:top]):
        rival = (sims[order[1]] if rank == 0 else sims[order[0]]) if len(order) > 1 else sims[k]
        out.append((icons[k], float(sims[k]), float(sims[k] - rival)))
    return out


ICONS_WEIGHED = 2  # the icons nearest in meaning that are weighed against the texts


def _icon_candidates(parse: ParseResult, ins: Instruction) -> list[Scored]:
    """The icons nearest in meaning to the whole name whose calibrated probability that a click on them is
    right (models/icon_embed: from the cosine of the name's and the icon's vectors and the icon's lead over
    the screen's next best icon) reaches the icon model's threshold, chosen for at most 2% wrong clicks."""
    meaning = shared_meaning()
    if meaning is None:
        return []
    cal = meaning.calibration
    out = []
    for el, cos, lead in icon_evidence(parse, ins.label, top=ICONS_WEIGHED):
        if cal.probability(cos, lead) < cal.threshold:
            continue
        logit = cal.a * cos + cal.b * lead + cal.c
        out.append(Scored(0.5 + 0.2 * cal.probability(cos, lead), False, el, el.bbox, "icon", 0.0, cos, False,
                          False, False, el.confidence, icon_logit=logit))
    return out


# Verbs that also begin the names of menu items and buttons ("Open Database...", "Select All", "Go to Line");
# "click" and the like only ever point.
_NAME_VERBS = ("open", "select", "choose", "toggle", "check", "uncheck", "go to", "focus", "press")


def _whole_reading(ins: Instruction) -> Instruction | None:
    """The instruction read with its leading verb as part of the name, when it may be one: the verb is
    one that names begin with and no article follows it ("Open Database...", not "open the database")."""
    if ins.quoted:
        return None
    raw = " ".join(ins.raw.split()).casefold()
    for verb in _NAME_VERBS:
        if raw.startswith(verb + " "):
            rest = raw[len(verb) + 1:].split()
            if not rest or rest[0] in ("the", "a", "an", "this", "that"):
                return None
            whole = parse_instruction("the " + ins.raw)  # an article first keeps the verb in the label
            if whole.label and whole.label != ins.label and whole.label.startswith(normalize(verb)):
                return replace(whole, raw=ins.raw, kind=ins.kind or whole.kind)
            return None
    return None


def _rank(parse: ParseResult, ins: Instruction, strict: bool = False) -> list[Scored]:
    """Texts that carry the label, in the hand-written order of match strength."""
    cands = ([_Candidate(e, e.lines) for e in parse.elements if e.text] + _row_phrases(parse.elements)
             + _stacked_phrases(parse.elements))
    scored = [s for c in cands if (s := _score(ins, c, strict)) is not None]
    # An element whose whole text is the label comes before any that carries it inside longer text or
    # approximately, whatever their kinds: "Save" before "Save as...".
    scored.sort(key=lambda t: (not t.whole, -t.score, t.box.area))
    return scored


# A keyboard shortcut written after a name, as menus show it and accessibility names carry it
# ("Close Tab Alt+W", "Save Ctrl+S", "Refresh F5"): menus draw it apart from the name, at the row's end.
_SHORTCUT = re.compile(r"\s+(?:(?:ctrl|control|alt|shift|super|meta|cmd|⌘)\s*\+\s*)+\S{1,9}$"
                       r"|\s+f(?:[1-9]|1[0-9]|2[0-4])$")
TEXTS_WEIGHED = 6  # the strongest text candidates (in the hand-written order) the calibrated model weighs


def _reading(parse: ParseResult, ins: Instruction) -> tuple[Instruction, list[Scored]]:
    """The reading of the instruction that explains the most of it, and its text candidates: "Open
    Database..." as a whole name when something on screen carries it, else as "open" + "Database..."; a name
    written with its shortcut ("Close Tab Alt+W") as written, else as the name alone; a name ending in a
    kind word ("New Tab") as a whole name first."""
    named = with_kind_word(ins)
    if named is not None:
        # "New Tab" is a name before it is a tab named "New": taken so when something shows it whole.
        read, ranked = _ranked_reading(parse, named)
        if ranked and ranked[0].whole:
            return read, ranked
    read, ranked = _ranked_reading(parse, ins)
    bare = _SHORTCUT.sub("", ins.label)
    if (not ranked or ranked[0].score < CANDIDATE_MIN) and bare and bare != ins.label:
        return _ranked_reading(parse, replace(ins, label=bare))
    return read, ranked


def _ranked_reading(parse: ParseResult, ins: Instruction) -> tuple[Instruction, list[Scored]]:
    whole = _whole_reading(ins)
    if whole is None:
        return ins, _rank(parse, ins)
    ranked = _rank(parse, whole, strict=True)  # the whole name, or a misreading of it: not "Deselect All"
    if ranked and ranked[0].score >= CANDIDATE_MIN:
        return whole, ranked
    # Read as a verb and its object, but not onto an element whose text is a different name close to the
    # whole one (what a lenient match would take for it), nor a phrase with such a line in it: "Deselect All"
    # is not where "Select All" asks to select "All". A longer line that merely runs into the name
    # ("widthselect month ...", two words OCR read as one) stays.
    return ins, [t for t in _rank(parse, ins) if not _reads_as(t.element, whole.label)]


def _reads_as(el: Element, label: str) -> bool:
    """Whether the element's text, or a line of it, is a candidate reading of `label`."""
    return any(_match(label, normalize(text)).score >= CANDIDATE_MIN
               for text in (el.text, *(ln.text for ln in el.lines)))


def candidates(parse: ParseResult, ins: Instruction) -> tuple[Instruction, list[Scored]]:
    """The reading of `ins` and the candidates the calibrated model weighs: the strongest texts and the
    icons nearest in meaning. What models/locate/fit.py learns from."""
    ins, texts = _reading(parse, ins)
    return ins, texts[:TEXTS_WEIGHED] + _icon_candidates(parse, ins)


def weighed_candidates(parse: ParseResult, ins: Instruction) -> tuple[Instruction, list[Scored], np.ndarray]:
    """The reading of `ins`, the candidates the calibrated model weighs (the strongest texts, the nearest
    icons) and the probability of each that a click on it is right, best first."""
    ins, cands = candidates(parse, ins)
    if not cands:
        return ins, [], np.zeros(0)
    p = shared(cands, shared_calibration().probabilities(ins, cands, parse.focus))
    return ins, *choice_order(cands, p)


def choice_order(cands: list[Scored], p: np.ndarray) -> tuple[list[Scored], np.ndarray]:
    """The candidates in the order `locate` takes them, with their probabilities: an element whose whole text
    is the name before any that carries it only in part or approximately ("Save" before "Save as...", also
    when the model likes the longer one better: then it abstains rather than click another item), and the
    likeliest first among those; between views of one target (a label and its field), the hand-written
    order (`cands` comes in it, and the sort is stable)."""
    order = sorted(range(len(cands)), key=lambda i: (not cands[i].whole, -p[i]))
    return [cands[i] for i in order], p[order]


def rank_targets(parse: ParseResult, instruction: str | Instruction) -> list[tuple[float, Element, Rect]]:
    """(probability that a click there is right, element, box to click) for the candidates, best first."""
    ins = parse_instruction(instruction) if isinstance(instruction, str) else instruction
    _, cands, p = weighed_candidates(parse, ins)
    return [(float(pi), c.element, c.box) for pi, c in zip(p, cands, strict=True)]


def locate_target(parse: ParseResult, instruction: str, min_score: float | None = None,
                  prefer: ElementKind | None = None) -> LocateResult:
    """The best element for `instruction`, or raise TargetNotFound (abstain) when none is likely enough to
    be right: the score is the calibrated probability that the click is right (models/locate), and below
    `min_score` (default: the calibration's threshold, chosen for at most 2% wrong clicks) it abstains.
    `prefer` is the kind the action implies (a field to type into) when the instruction names none."""
    ins = parse_instruction(instruction)
    if prefer is not None and ins.kind is None:
        ins = replace(ins, kind=prefer)
    if not ins.label:
        raise TargetNotFound(f"nothing to look for in {instruction!r}: name the target's text")
    threshold = MIN_SCORE if min_score is None else min_score
    ins, cands, p = weighed_candidates(parse, ins)
    if not cands or p[0] < threshold:
        best = (f" (closest: {cands[0].element.text or cands[0].element.kind.value!r}, "
                f"p {p[0]:.2f} < {threshold:.2f})" if cands else "")
        raise TargetNotFound(f"no element matching {ins.label!r} on screen{best}; not clicking a guess")
    best_c = cands[0]
    return LocateResult(best_c.box.center, best_c.box, float(p[0]), best_c.element, ins)
