"""Merging OCR lines with detector proposals into one list of elements in reading order."""

from __future__ import annotations

from typing import cast

from desktop_agent.geometry import Rect
from desktop_agent.perception.detector import Proposal
from desktop_agent.perception.elements import Element, ElementKind, TextLine

# Controls that show their own text (a button's caption, a tab's title, a drop-down's value).
_HOLDS_TEXT = (ElementKind.BUTTON, ElementKind.TAB, ElementKind.MENU_ITEM, ElementKind.LINK)
# Controls named by a label on their left (fields, drop-downs, sliders) or right (check boxes, switches).
_LABEL_LEFT = (ElementKind.INPUT, ElementKind.DROPDOWN, ElementKind.SLIDER)
_LABEL_RIGHT = (ElementKind.CHECKBOX, ElementKind.RADIO, ElementKind.TOGGLE)
_FRAMED = _HOLDS_TEXT + _LABEL_LEFT + _LABEL_RIGHT + (ElementKind.SCROLLBAR,)


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
    inter = inner.intersection(outer)
    return 0.0 if inter is None or inner.area == 0 else inter.area / inner.area


def _label_near(box: Rect, lines: list[TextLine], used: set[int], side: str) -> int | None:
    """Index of the text line that labels `box` from the given side (same row), if any."""
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
    return not ch.isalnum() and not ch.isspace() and ch not in ".,:;!?'\"()[]%-+/&"


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
            if ib.x2 >= box.x2 - 6 and text and _is_glyph(text[-1]):
                text = text.rstrip()
                while text and _is_glyph(text[-1]):
                    text = text[:-1].rstrip()
                box = Rect(box.x1, box.y1, max(box.x1 + 1, ib.x1 - 1), box.y2)
            elif ib.x1 <= box.x1 + 6 and text and _is_glyph(text[0]):
                text = text.lstrip()
                while text and _is_glyph(text[0]):
                    text = text[1:].lstrip()
                box = Rect(min(box.x2 - 1, ib.x2 + 1), box.y1, box.x2, box.y2)
        if text != ln.text:
            if text:
                out.append(TextLine(box, text, ln.score))
            continue
        out.append(ln)
    return out


def merge_elements(lines: list[TextLine], proposals: list[Proposal]) -> list[Element]:
    lines = _detach_icons(lines, [p for p in proposals if p.kind == ElementKind.ICON])
    used: set[int] = set()
    drafts: list[tuple[ElementKind, Rect, str, float, str, tuple[TextLine, ...]]] = []

    framed = sorted((p for p in proposals if p.kind in _FRAMED), key=lambda p: p.bbox.area)
    claimed: list[Rect] = []
    for p in framed:
        if any(_overlap_fraction(p.bbox, c) > 0.9 and _overlap_fraction(c, p.bbox) > 0.9 for c in claimed):
            continue
        # A tight box (a link, a menu entry) may be a little smaller than OCR's box around the same text.
        tight = p.kind in (ElementKind.TAB, ElementKind.MENU_ITEM, ElementKind.LINK)
        area = p.bbox.expanded(4) if tight else p.bbox
        inside = [i for i, ln in enumerate(lines) if i not in used and p.bbox.contains(ln.bbox.center)
                  and _overlap_fraction(ln.bbox, area) > 0.8]
        if p.kind in _HOLDS_TEXT and p.kind != ElementKind.BUTTON and not inside:
            continue  # its text is part of a longer OCR line, which stays a text element
        if p.kind in _HOLDS_TEXT:
            if not inside:
                # A framed box with no text is an icon button when small, else nothing we can name.
                inside_text = any(_overlap_fraction(p.bbox, ln.bbox) > 0.3 for ln in lines)
                if p.bbox.width <= 64 and p.bbox.height <= 64 and not inside_text:
                    drafts.append((ElementKind.ICON, p.bbox, "", p.score, "detector", ()))
                    claimed.append(p.bbox)
                continue
            # A box holding several rows of text is a panel, not a button.
            rows = {round(lines[i].bbox.center.y / 8) for i in inside}
            if len(rows) > 2:
                continue
            used.update(inside)
            members = _reading_order([lines[i] for i in inside])
            text = " ".join(ln.text for ln in members)
            conf = min(ln.score for ln in members)
            drafts.append((p.kind, p.bbox, text, conf, "ocr+detector", members))
        elif p.kind == ElementKind.SCROLLBAR:
            drafts.append((p.kind, p.bbox, "", p.score, "detector", ()))
        elif p.kind in _LABEL_LEFT:
            used.update(inside)
            members = _reading_order([lines[i] for i in inside])
            label_i = _label_near(p.bbox, lines, used, "left")
            label = lines[label_i].text if label_i is not None else ""
            content = " ".join(ln.text for ln in members)
            text = " ".join(s for s in (label, content) if s)
            drafts.append((p.kind, p.bbox, text, p.score, "ocr+detector" if text else "detector", members))
        else:  # a check box, radio button or switch: its label is the text to its right
            label_i = _label_near(p.bbox, lines, used, "right")
            text, members2 = "", cast(tuple[TextLine, ...], ())
            if label_i is not None:
                used.add(label_i)
                text, members2 = lines[label_i].text, (lines[label_i],)
            drafts.append((p.kind, p.bbox, text, p.score, "ocr+detector" if text else "detector", members2))
        claimed.append(p.bbox)

    icons = [p for p in proposals if p.kind == ElementKind.ICON]
    # OCR reads a row of glyphs as a short "word" (a star and a gear become "★音"): a line with fewer
    # characters than one per icon inside it, plus one, is that row of icons, not text.
    icon_rows: set[int] = set()
    for i, ln in enumerate(lines):
        if i in used:
            continue
        icons_in = [p for p in icons
                    if max(_overlap_fraction(p.bbox, ln.bbox), _overlap_fraction(ln.bbox, p.bbox)) > 0.6]
        n = len(ln.text.replace(" ", ""))
        symbolic = n <= 2 and not any(c.isascii() and c.isalnum() for c in ln.text)
        if (len(icons_in) >= 2 and n <= len(icons_in) + 1) or (icons_in and symbolic):
            icon_rows.add(i)
    used |= icon_rows
    # A one- or two-glyph "word" may be an icon read as letters (pause as "II"): both stay, and the icon
    # recognizer and the instruction decide which is meant.
    text_boxes = [ln.bbox for i, ln in enumerate(lines) if i not in icon_rows and len(ln.text.replace(" ", "")) > 2]
    for p in icons:
        if any(_overlap_fraction(p.bbox, t) > 0.3 for t in text_boxes):
            continue
        # Inside a small control it is that control; inside a larger one (a menu row, a list item with a
        # star) it stays an element of its own.
        if any(_overlap_fraction(p.bbox, c) > 0.5 and c.width <= 64 and c.height <= 64 for c in claimed):
            continue
        claimed.append(p.bbox)
        drafts.append((ElementKind.ICON, p.bbox, "", p.score, "detector", ()))

    for i, ln in enumerate(lines):
        if i not in used:
            drafts.append((ElementKind.TEXT, ln.bbox, ln.text, ln.score, "ocr", (ln,)))

    drafts.sort(key=lambda d: (round(d[1].y1 / 10), d[1].x1))
    return [Element(i + 1, k, b, t, c, s, m) for i, (k, b, t, c, s, m) in enumerate(drafts)]
