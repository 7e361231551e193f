"""Merging OCR lines with detector proposals into one list of elements in reading order."""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop_agent.geometry import Rect
from desktop_agent.perception.detector import Proposal
from desktop_agent.perception.elements import Element, ElementKind, TextLine

# Controls that show their own text (a button's caption, a tab's title, a drop-down's value).
_HOLDS_TEXT = (ElementKind.BUTTON, ElementKind.TAB, ElementKind.MENU_ITEM, ElementKind.LINK)
# Controls named by a label on their left (fields, drop-downs, sliders) or right (check boxes, switches).
LABEL_LEFT = (ElementKind.INPUT, ElementKind.DROPDOWN, ElementKind.SLIDER)
_LABEL_RIGHT = (ElementKind.CHECKBOX, ElementKind.RADIO, ElementKind.TOGGLE)
_FRAMED = _HOLDS_TEXT + LABEL_LEFT + _LABEL_RIGHT + (ElementKind.SCROLLBAR,)


def _reading_order(lines: list[TextLine]) -> tuple[TextLine, ...]:
    """Lines of one control in reading order: rows top to bottom (a line joins a row when its middle
    lies inside the row's first line), each row left to right; a two-line tab reads "Build advanced"."""
    rows: list[list[TextLine]] = []
    for ln in sorted(lines, key=lambda ln: ln.bbox.center.y):
        if rows and rows[-1][0].bbox.y1 <= ln.bbox.center.y <= rows[-1][0].bbox.y2:
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return tuple(ln for row in rows for ln in sorted(row, key=lambda ln: ln.bbox.x1))


def _overlap_fraction(inner: Rect, outer: Rect) -> float:
    """The share of `inner`'s area that lies inside `outer` (0 for an empty box)."""
    inter = inner.intersection(outer)
    return 0.0 if inter is None or inner.area == 0 else inter.area / inner.area


def label_near(box: Rect, lines: list[TextLine], used: set[int], side: str) -> int | None:
    """Index of the text line that labels `box` from the given side (same row), if any (not one in `used`)."""
    best, best_gap = None, 1e9
    for i, ln in enumerate(lines):
        if i in used:
            continue
        cy = ln.bbox.center.y
        if not box.y1 - 4 <= cy <= box.y2 + 4:
            continue
        gap = ln.bbox.x1 - box.x2 if side == "right" else box.x1 - ln.bbox.x2
        limit = max(3 * box.height, 24) if side == "right" else 200
        # OCR boxes carry a margin, so a label's box may overlap its control a little.
        if -0.6 * box.width <= gap <= limit and gap < best_gap:
            best, best_gap = i, gap
    return best


def _is_glyph(ch: str) -> bool:
    """A symbol character OCR may read from an icon (not a letter, digit, space or punctuation)."""
    return not ch.isalnum() and not ch.isspace() and ch not in ".,:;!?'\"()[]%-+/&"


def _strip_glyphs(text: str, box: Rect, icon: Rect) -> tuple[str, Rect]:
    """`text` and `box` without the symbol characters that `icon` at their end (or start) was read as."""
    if icon.x2 >= box.x2 - 6 and text and _is_glyph(text[-1]):
        text = text.rstrip()
        while text and _is_glyph(text[-1]):
            text = text[:-1].rstrip()
        return text, Rect(box.x1, box.y1, max(box.x1 + 1, icon.x1 - 1), box.y2)
    if icon.x1 <= box.x1 + 6 and text and _is_glyph(text[0]):
        text = text.lstrip()
        while text and _is_glyph(text[0]):
            text = text[1:].lstrip()
        return text, Rect(min(box.x2 - 1, icon.x2 + 1), box.y1, box.x2, box.y2)
    return text, box


def _detach_icons(lines: list[TextLine], icons: list[Proposal]) -> list[TextLine]:
    """OCR reads an icon beside a label as one more character of it ("Rust in production☆"): where a
    detected icon sits at a line's end and the line ends in symbol characters there, those characters
    leave the line and the line's box ends where the icon begins."""
    out = []
    for ln in lines:
        text, box = ln.text, ln.bbox
        for p in icons:
            ib = p.bbox
            inter = ib.intersection(box)
            if inter is None or inter.area < 0.5 * ib.area or ib.width > 0.5 * box.width:
                continue
            text, box = _strip_glyphs(text, box, ib)
        if text != ln.text:
            if text:
                out.append(TextLine(box, text, ln.score))
            continue
        out.append(ln)
    return out


def _text_of(lines: list[TextLine], inside: list[int]) -> tuple[tuple[TextLine, ...], str]:
    """The lines at `inside` in reading order, and their text joined."""
    members = _reading_order([lines[i] for i in inside])
    return members, " ".join(ln.text for ln in members)


@dataclass(frozen=True)
class _Draft:
    """An element before it has its id: what it is, where, its text, how sure, and the OCR lines it holds."""

    kind: ElementKind
    bbox: Rect
    text: str
    confidence: float
    source: str
    members: tuple[TextLine, ...] = ()


@dataclass
class _Merge:
    """The merge's state across its stages: the lines in play and what the stages have taken so far."""

    lines: list[TextLine]
    used: set[int] = field(default_factory=set)  # lines that became part of an element
    claimed: list[Rect] = field(default_factory=list)  # boxes of the controls (and icons) made so far
    drafts: list[_Draft] = field(default_factory=list)

    def lines_inside(self, p: Proposal) -> list[int]:
        """The free lines whose middle lies in the proposal and that it (nearly) covers."""
        # A tight box (a link, a menu entry) may be a little smaller than OCR's box around the same text.
        tight = p.kind in (ElementKind.TAB, ElementKind.MENU_ITEM, ElementKind.LINK)
        area = p.bbox.expanded(4) if tight else p.bbox
        return [i for i, ln in enumerate(self.lines) if i not in self.used and p.bbox.contains(ln.bbox.center)
                and _overlap_fraction(ln.bbox, area) > 0.8]

    def add(self, draft: _Draft) -> None:
        """Keep a drafted element; its box is claimed."""
        self.drafts.append(draft)
        self.claimed.append(draft.bbox)


def _text_holder(m: _Merge, p: Proposal, inside: list[int]) -> None:
    """A button, tab, menu item or link: the text inside it; a small empty framed box is an icon button."""
    if not inside:
        if p.kind != ElementKind.BUTTON:
            return  # its text is part of a longer OCR line, which stays a text element
        # A framed box with no text is an icon button when small, else nothing we can name.
        inside_text = any(_overlap_fraction(p.bbox, ln.bbox) > 0.3 for ln in m.lines)
        if p.bbox.width <= 64 and p.bbox.height <= 64 and not inside_text:
            m.add(_Draft(ElementKind.ICON, p.bbox, "", p.score, "detector"))
        return
    # A box holding several rows of text is a panel, not a button.
    if len({round(m.lines[i].bbox.center.y / 8) for i in inside}) > 2:
        return
    m.used.update(inside)
    members, text = _text_of(m.lines, inside)
    m.add(_Draft(p.kind, p.bbox, text, min(ln.score for ln in members), "ocr+detector", members))


def _labelled_left(m: _Merge, p: Proposal, inside: list[int]) -> None:
    """A field, drop-down or slider: the label on its left, then the text inside it."""
    m.used.update(inside)
    members, content = _text_of(m.lines, inside)
    label_i = label_near(p.bbox, m.lines, m.used, "left")
    label = m.lines[label_i].text if label_i is not None else ""
    text = " ".join(s for s in (label, content) if s)
    m.add(_Draft(p.kind, p.bbox, text, p.score, "ocr+detector" if text else "detector", members))


def _labelled_right(m: _Merge, p: Proposal) -> None:
    """A check box, radio button or switch: its label is the text to its right."""
    label_i = label_near(p.bbox, m.lines, m.used, "right")
    if label_i is None:
        m.add(_Draft(p.kind, p.bbox, "", p.score, "detector"))
        return
    m.used.add(label_i)
    label = m.lines[label_i]
    m.add(_Draft(p.kind, p.bbox, label.text, p.score, "ocr+detector" if label.text else "detector", (label,)))


def _framed_controls(m: _Merge, proposals: list[Proposal]) -> None:
    """Stage 1: each framed control, smallest first, takes its text (a box the same as one taken is skipped)."""
    for p in sorted((p for p in proposals if p.kind in _FRAMED), key=lambda p: p.bbox.area):
        if any(_overlap_fraction(p.bbox, c) > 0.9 and _overlap_fraction(c, p.bbox) > 0.9 for c in m.claimed):
            continue
        if p.kind in _HOLDS_TEXT:
            _text_holder(m, p, m.lines_inside(p))
        elif p.kind == ElementKind.SCROLLBAR:
            m.add(_Draft(p.kind, p.bbox, "", p.score, "detector"))
        elif p.kind in LABEL_LEFT:
            _labelled_left(m, p, m.lines_inside(p))
        else:
            _labelled_right(m, p)


def _icon_rows(m: _Merge, icons: list[Proposal]) -> set[int]:
    """Stage 2: the free lines that are a row of icons read as letters."""
    # OCR reads a row of glyphs as a short "word" (a star and a gear become "★音"): a line with fewer
    # characters than one per icon inside it, plus one, is that row of icons, not text.
    rows: set[int] = set()
    for i, ln in enumerate(m.lines):
        if i in m.used:
            continue
        icons_in = [p for p in icons
                    if max(_overlap_fraction(p.bbox, ln.bbox), _overlap_fraction(ln.bbox, p.bbox)) > 0.6]
        n = len(ln.text.replace(" ", ""))
        symbolic = n <= 2 and not any(c.isascii() and c.isalnum() for c in ln.text)
        if (len(icons_in) >= 2 and n <= len(icons_in) + 1) or (icons_in and symbolic):
            rows.add(i)
    return rows


def _free_icons(m: _Merge, icons: list[Proposal], icon_rows: set[int]) -> None:
    """Stage 3: the detected icons that are not text and not inside a small control become elements."""
    # A one- or two-glyph "word" may be an icon read as letters (pause as "II"): both stay, and the icon
    # recognizer and the instruction decide which is meant.
    text_boxes = [ln.bbox for i, ln in enumerate(m.lines)
                  if i not in icon_rows and len(ln.text.replace(" ", "")) > 2]
    for p in icons:
        if any(_overlap_fraction(p.bbox, t) > 0.3 for t in text_boxes):
            continue
        # Inside a small control it is that control; inside a larger one (a menu row, a list item with a
        # star) it stays an element of its own.
        if any(_overlap_fraction(p.bbox, c) > 0.5 and c.width <= 64 and c.height <= 64 for c in m.claimed):
            continue
        m.add(_Draft(ElementKind.ICON, p.bbox, "", p.score, "detector"))


def merge_elements(lines: list[TextLine], proposals: list[Proposal]) -> list[Element]:
    """OCR lines and detector proposals as one list of elements in reading order (rows of 10 px, left to right)."""
    icons = [p for p in proposals if p.kind == ElementKind.ICON]
    m = _Merge(_detach_icons(lines, icons))
    _framed_controls(m, proposals)
    icon_rows = _icon_rows(m, icons)
    m.used |= icon_rows
    _free_icons(m, icons, icon_rows)
    m.drafts += [_Draft(ElementKind.TEXT, ln.bbox, ln.text, ln.score, "ocr", (ln,))
                 for i, ln in enumerate(m.lines) if i not in m.used]
    m.drafts.sort(key=lambda d: (round(d.bbox.y1 / 10), d.bbox.x1))
    return [Element(i + 1, d.kind, d.bbox, d.text, d.confidence, d.source, d.members) for i, d in enumerate(m.drafts)]
