"""The approval floor: steps that always need a person's explicit yes, whatever the approval settings
(typing into a password field, sending or submitting, deleting, closing work that may be unsaved,
anything the planner marks risky)."""

from __future__ import annotations

import itertools
import re

import cv2
import numpy as np

from desktop_agent.agent.proposal import PASSWORD_RISK, Located
from desktop_agent.execution.verify import shows_highlight
from desktop_agent.geometry import DesktopPoint, DesktopRect
from desktop_agent.perception.accessibility.nodes import A11yNode
from desktop_agent.perception.elements import Element, ElementKind
from desktop_agent.perception.icon_meaning import DESCRIBE_MIN
from desktop_agent.planning.actions import Action, Click, Drag, Press, TypeText
from desktop_agent.planning.planner import PlannedStep
from desktop_agent.secret_fields import is_masked_text, is_secret_label, is_secret_role

_DELETE = re.compile(r"\b(delete|remove|erase|trash|discard|destroy|wipe|uninstall|empty bin|empty trash|"
                     r"move to (the )?(bin|trash))\b", re.IGNORECASE)
_SEND = re.compile(r"\b(send|submit|post|publish|pay|purchase|buy|place order|check ?out|transfer|reply all)\b",
                   re.IGNORECASE)
_CLOSE = re.compile(r"\b(don'?t save|do not save|close without saving|discard changes|quit|exit)\b", re.IGNORECASE)
# Icons named (icon_meaning's nearest names) for deleting or closing (an "x" on a tab or document can drop
# unsaved work), or for sending.
_ICON_DELETE = re.compile(r"\b(close|trash|delete|remove|erase|discard|bin|cross|x)\b")
_ICON_SEND = re.compile(r"\b(send|upload|share|submit|publish)\b")
_CLOSING_KEYS = ({"alt", "f4"}, {"ctrl", "w"}, {"ctrl", "q"}, {"shift", "delete"})


def _words(el: Element) -> str:
    return el.text


def _icon_names(el: Element) -> str:
    """The names an icon-only element's icon is close to (two nearest, when close enough to say)."""
    return " ".join(name for name, score in el.icon[:2] if score >= DESCRIBE_MIN)


def _disc_like(stat: np.ndarray) -> bool:
    """A connected blob 3 to 16 px a side, about square, filling at least 68% of its box (a mask dot)."""
    w, h, area = stat[2], stat[3], stat[4]
    return bool(3 <= w <= 16 and 3 <= h <= 16 and 0.7 <= w / h <= 1.4 and area >= 0.68 * w * h)


def _longest_even_run(blobs: list[tuple[np.ndarray, np.ndarray]]) -> int:
    """The longest run of same-size blobs on one row with even gaps (blobs sorted left to right)."""
    best, run = 1, 1
    for (sa, ca), (sb, cb) in itertools.pairwise(blobs):
        same = abs(int(sa[2]) - int(sb[2])) <= 2 and abs(int(sa[3]) - int(sb[3])) <= 2 and abs(ca[1] - cb[1]) <= 2
        gap = cb[0] - ca[0]
        if same and sa[2] <= gap <= 3 * sa[2] + 4:
            run += 1
            best = max(best, run)
        else:
            run = 1
    return best


def shows_mask_glyphs(image: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """Whether a field's box shows a run of mask dots (••••): at least three solid round blobs of one size
    on one baseline, evenly spaced (a disc fills about 79% of its box; letters with counters, strokes and
    ascenders fill far less). Read from the pixels, so it holds whatever OCR makes of the dots."""
    x1, y1, x2, y2 = box
    crop = image[max(y1, 0):max(y2, 0), max(x1, 0):max(x2, 0)]
    if crop.size == 0 or crop.shape[0] < 6 or crop.shape[1] < 20:
        return False
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if np.count_nonzero(ink) > ink.size / 2:  # ink is the minority colour
        ink = 255 - ink
    n, _, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    blobs = [(stats[i], centroids[i]) for i in range(1, n) if _disc_like(stats[i])]
    if len(blobs) < 3:
        return False
    blobs.sort(key=lambda b: b[1][0])
    return _longest_even_run(blobs) >= 3


def is_secret_field(loc: Located) -> bool:
    """Whether a located field holds a secret: named so (its words, the target's words, a label left of
    it or just above it), showing mask glyphs, or a password field by its platform role."""
    el = loc.result.element
    if is_secret_label(el.text) or is_masked_text(el.text) or is_secret_label(loc.target.text or loc.target.label):
        return True
    if el.kind in (ElementKind.INPUT, ElementKind.CONTAINER) and shows_mask_glyphs(
            loc.frame.image, el.bbox.int_box()):
        return True
    return loc.parsed is not None and _secret_label_near(el, loc.parsed.elements)


def _secret_label_near(el: Element, elements: list[Element]) -> bool:
    """Whether a text naming a secret sits left of `el` on its row (up to 320 px) or just above it (40 px)."""
    b = el.bbox
    for other in elements:
        if other.kind != ElementKind.TEXT or other is el or not is_secret_label(other.text):
            continue
        o = other.bbox
        same_row_left = abs(o.center.y - b.center.y) < max(b.height, 12) and b.x1 - 320 <= o.x2 <= b.x1 + 8
        just_above = 0 <= b.y1 - o.y2 <= 40 and o.x1 < b.x2 and o.x2 > b.x1
        if same_row_left or just_above:
            return True
    return False


def _tree_secret(node: A11yNode) -> bool:
    return node.states.secret or is_secret_role(node.role)


def tree_secret_at(nodes: tuple[A11yNode, ...] | list[A11yNode], p: DesktopPoint) -> bool:
    """Whether the accessibility tree puts a password field at desktop point `p`: the smallest node there
    is one, or it is not an editable control (a label, static text) and a password field sits beside it
    (same row, up to 320 px to its right) or just below it (within 40 px): the same reach as a secret
    label's in `is_secret_field`, so typing aimed at a field's caption is masked like typing into it."""
    hits = [n for n in nodes if n.box is not None and n.box.contains(p)]
    if not hits:
        return False
    smallest = min(hits, key=lambda n: n.box.area if n.box is not None else 0)
    if _tree_secret(smallest):
        return True
    if smallest.states.editable or smallest.box is None:
        return False
    return _secret_field_near(smallest.box, nodes)


def _secret_field_near(b: DesktopRect, nodes: tuple[A11yNode, ...] | list[A11yNode]) -> bool:
    """Whether a password field sits right of box `b` on its row (up to 320 px) or just below it (40 px)."""
    for n in nodes:
        if n.box is None or not _tree_secret(n):
            continue
        o = n.box
        same_row_right = abs((o.top + o.bottom) / 2 - (b.top + b.bottom) / 2) < max(b.height, 12) \
            and b.right - 8 <= o.left <= b.right + 320
        just_below = 0 <= o.top - b.bottom <= 40 and o.left < b.right and o.right > b.left
        if same_row_right or just_below:
            return True
    return False

def looks_selected(loc: Located) -> bool:
    """Whether a clicked item (a list row, tab, menu entry; not a button) was already selected: its text
    is drawn on a highlight, so a click with no visible change did what it was asked."""
    el = loc.result.element
    if el.kind in (ElementKind.BUTTON, ElementKind.ICON, ElementKind.CHECKBOX, ElementKind.RADIO,
                   ElementKind.TOGGLE, ElementKind.SLIDER, ElementKind.SCROLLBAR):
        return False
    boxes = [line.bbox for line in el.lines] or [el.bbox]
    return any(shows_highlight(loc.frame.image, b) for b in boxes)


def _pointing_risk(target: Located) -> str | None:
    """Why a click or drag on this target needs a person: its words (or its icon's names) delete, send or close."""
    el = target.result.element
    words = f"{_words(el)} {target.target.text or ''} {target.target.label or ''}"
    icons = _icon_names(el) if not el.text else ""
    if _DELETE.search(words) or _ICON_DELETE.search(icons):
        return "deleting or closing something"
    if _SEND.search(words) or _ICON_SEND.search(icons):
        return "sending or submitting"
    if _CLOSE.search(words):
        return "closing work that may be unsaved"
    return None


def step_risk(planned: PlannedStep, targets: list[Located], secret_focus: bool = False,
              platform_secret: bool = False) -> str | None:
    """Why this step must be approved by a person explicitly, or None. `secret_focus`: the last click
    went into a secret field, so typing with no target types there; `platform_secret`: the accessibility
    tree says the field typed into (the target, or the focused one) is a password field."""
    action: Action = planned.action
    if isinstance(action, TypeText) and (
            platform_secret or (targets and is_secret_field(targets[0])) or (not targets and secret_focus)):
        return PASSWORD_RISK
    risk = _pointing_risk(targets[0]) if isinstance(action, Click | Drag) and targets else None
    if risk is not None:
        return risk
    if isinstance(action, Press) and {k.lower() for k in action.keys} in _CLOSING_KEYS:
        return "closing work that may be unsaved" if "delete" not in action.keys else "deleting"
    if planned.risky:
        return "the planner marked it risky"
    return None
