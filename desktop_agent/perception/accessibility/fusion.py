"""Fusing the accessibility tree with the vision parse into one element list.

A tree node is matched to detected elements by box overlap in the frame's image pixels. Where they meet,
the tree's role and states are kept and its name becomes the element's text when it agrees with what OCR
read there (or OCR read nothing, as on an icon-only button); where they disagree the pixels win. A node
nothing was detected at becomes an element of its own when it is a control, it is seen (not covered by
another window, on this monitor, not zero-size) and the pixels under it are not blank (a stale box after
an animation). Detected elements no node matches stay as they are: vision fills in what the tree lacks.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any

import cv2
import numpy as np

from desktop_agent.geometry import FrameGeometry, Rect
from desktop_agent.perception.accessibility.nodes import A11yNode, A11ySnapshot, DesktopRect
from desktop_agent.perception.accessibility.visibility import ScreenWindow, visible_nodes
from desktop_agent.perception.elements import Element, ElementKind, TextLine
from desktop_agent.perception.merge import LABEL_LEFT, label_near

# The element kind of each role fusion uses. Roles not here (panels, fillers, tool bars, the window) are
# structure, not targets.
ROLE_KIND: dict[str, ElementKind] = {
    "push button": ElementKind.BUTTON, "button": ElementKind.BUTTON, "toggle button": ElementKind.BUTTON,
    "check box": ElementKind.CHECKBOX, "radio button": ElementKind.RADIO, "switch": ElementKind.TOGGLE,
    "menu item": ElementKind.MENU_ITEM, "menu": ElementKind.MENU_ITEM, "check menu item": ElementKind.MENU_ITEM,
    "radio menu item": ElementKind.MENU_ITEM, "tear off menu item": ElementKind.MENU_ITEM,
    "page tab": ElementKind.TAB, "combo box": ElementKind.DROPDOWN, "link": ElementKind.LINK,
    "text": ElementKind.INPUT, "entry": ElementKind.INPUT, "password text": ElementKind.INPUT,
    "spin button": ElementKind.INPUT, "editbar": ElementKind.INPUT, "slider": ElementKind.SLIDER,
    "scroll bar": ElementKind.SCROLLBAR, "list item": ElementKind.TEXT, "tree item": ElementKind.TEXT,
    "icon": ElementKind.TEXT, "table cell": ElementKind.TEXT, "label": ElementKind.TEXT,
    "heading": ElementKind.TEXT, "static": ElementKind.TEXT,
}
_FUSED_ROLES = frozenset(ROLE_KIND)
# Roles whose node holds what is drawn inside it (a button's caption and glyph, a check box's indicator
# and label, a list row's icon and name): detected elements inside the node are that node.
_HOLDS_CONTENT = frozenset({"push button", "button", "toggle button", "check box", "radio button", "switch",
                            "menu item", "menu", "check menu item", "radio menu item", "page tab", "link",
                            "list item", "tree item", "icon", "combo box"})
# Roles that only name what vision found (a label's exact text): never an element of their own.
_NAMING_ONLY = frozenset({"label", "heading", "static", "table cell"})
_FIELD_ROLES = frozenset({"text", "entry", "password text", "spin button", "editbar"})
# A node whose box covers more than this part of the frame is a region (a document, a list), not a control
# whose detected contents merge into it.
_LARGE = 0.2


@dataclass(frozen=True, slots=True)
class FrameNode:
    """A tree node as one frame sees it: its box in the frame's image pixels, clipped to what is visible."""

    node: A11yNode
    box: Rect


@dataclass(frozen=True, slots=True)
class TreeView:
    """The visible part of a tree on one frame, with the read it came from."""

    nodes: tuple[FrameNode, ...]
    snapshot: A11ySnapshot
    hidden: int  # nodes of mapped roles left out: covered, off this frame or too small


def _fallback_windows(snapshot: A11ySnapshot) -> list[ScreenWindow]:
    """Without the display server's stacking order: the tree's own windows, the active one on top."""
    wins = sorted((w for w in snapshot.windows if w.box is not None), key=lambda w: w.active)
    return [ScreenWindow(w.box, w.pid) for w in wins if w.box is not None]


def _window_scale(frame: DesktopRect, pid: int, windows: list[ScreenWindow]) -> float:
    """How many device pixels one unit of an app's reported boxes is: GTK 3 under GDK_SCALE (and Qt under
    QT_SCALE_FACTOR) report logical units where X stacks device pixels. 1 unless an X window of the app is
    that many times the frame, in size and in place (a quarter step from 1.25 up)."""
    for w in windows:
        if w.pid != pid or w.popup or frame.width <= 0:
            continue
        ratio = w.box.width / frame.width
        k = round(ratio * 4) / 4
        if k >= 1.25 and abs(ratio - k) < 0.08 * k and abs(frame.left * k - w.box.left) < 0.1 * w.box.width \
                and abs(frame.bottom * k - w.box.bottom) < 0.1 * w.box.height:
            return k
    return 1.0


def _in_device_pixels(snapshot: A11ySnapshot, windows: list[ScreenWindow]) -> A11ySnapshot:
    """The snapshot with each window's boxes in device pixels (see `_window_scale`)."""
    factors = {w: _window_scale(w.box, w.pid, windows) for w in snapshot.windows
               if w.box is not None and w.pid is not None}
    if all(k == 1 for k in factors.values()):
        return snapshot

    def scaled(b: DesktopRect | None, k: float) -> DesktopRect | None:
        return b if b is None or k == 1 else DesktopRect(*(round(v * k) for v in b.as_list()))

    wins = {w: replace(w, box=scaled(w.box, k)) for w, k in factors.items() if k != 1}
    nodes = tuple(replace(n, box=scaled(n.box, factors[n.window]), window=wins[n.window])
                  if n.window in wins else n for n in snapshot.nodes)
    return replace(snapshot, nodes=nodes, windows=tuple(wins.get(w, w) for w in snapshot.windows))


def tree_view(snapshot: A11ySnapshot, windows: list[ScreenWindow] | None, geometry: FrameGeometry,
              min_size: float = 3.0) -> TreeView:
    """The snapshot's nodes that are seen on the frame of `geometry`, boxes in its image pixels. `windows`
    are the display's windows bottom to top (None: unknown, the tree's own frames stand in)."""
    m = geometry.monitor
    screen = DesktopRect.from_xywh(m.left, m.top, m.width, m.height)
    if windows is not None:
        snapshot = _in_device_pixels(snapshot, windows)
    stack = windows if windows is not None else _fallback_windows(snapshot)
    out = []
    wanted = [n for n in snapshot.nodes if n.role in ROLE_KIND]
    for v in visible_nodes(snapshot, stack, screen, roles=_FUSED_ROLES):
        box = v.box.to_image(geometry)
        if box.width >= min_size and box.height >= min_size:
            out.append(FrameNode(v.node, box))
    return TreeView(tuple(out), snapshot, len(wanted) - len(out))


def _inside(inner: Rect, outer: Rect) -> float:
    inter = inner.intersection(outer)
    return 0.0 if inter is None or inner.area <= 0 else inter.area / inner.area


def _folded(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def name_agrees(name: str, seen: str) -> bool:
    """Whether the tree's name is what OCR read (slips allowed), or OCR read no word there (a glyph read
    as one or two characters): then the name may stand for the element's text."""
    a, b = _folded(name), _folded(seen)
    if not a:
        return False
    if len(b) <= 2:
        # One or two characters are often a glyph read as letters ("II" for pause): a longer name may stand
        # for them; a name as short must be what was read ("5" is not "6").
        return not b or len(a) > 2 or a == b
    if len(a) == len(b) >= 4 and sum(x != y for x, y in zip(a, b, strict=True)) <= 1:
        return True  # one letter misread ("Sove"): short names fall under the ratio below
    return SequenceMatcher(None, a, b).ratio() >= 0.8


def shows_something(image: np.ndarray, box: Rect, min_range: int = 24) -> bool:
    """Whether the pixels under a box are not blank: a control is drawn (text, an edge, a glyph); a stale
    box (a control moved or gone after an animation) usually lies on empty background."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box.clipped(w, h).int_box()
    crop = image[y1:y2, x1:x2]
    if crop.size == 0:
        return False
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    return int(gray.max()) - int(gray.min()) >= min_range


def _match(el: Element, fn: FrameNode, frame_area: float) -> bool:
    """Whether a detected element is (part of) the node's control."""
    role, nb, eb = fn.node.role, fn.box, el.bbox
    if eb.iou(nb) >= 0.5:
        return True
    # Inside it; an OCR box carries a margin, so a text line's may stick out of a tight row by a little.
    inside = _inside(eb, nb)
    if nb.area > _LARGE * frame_area or inside < 0.5 or (inside < 0.8 and not nb.contains(eb.center)):
        return False
    if role in _HOLDS_CONTENT or role in _NAMING_ONLY:
        return True
    return role in _FIELD_ROLES and el.kind == ElementKind.INPUT


def _states(node: A11yNode) -> tuple[str, ...]:
    return tuple(s for s in node.states.names() if s != "showing")


def _fused(fn: FrameNode, group: list[Element]) -> Element:
    """The one element a node and the detected elements it holds make."""
    node = fn.node
    group = sorted(group, key=lambda e: (round(e.bbox.y1 / 10), e.bbox.x1))
    seen = " ".join(dict.fromkeys(e.text for e in group if e.text))  # a text twice (a field named by its label) once
    named = _names_group(node.name, seen, group)
    kind, box = _kind_and_box(fn, group)
    icon = next((e for e in group if e.icon_vector), None)
    sources = "+".join(dict.fromkeys(p for e in group for p in e.source.split("+")))
    return Element(0, kind, box, node.name if named else seen, 1.0 if named else max(e.confidence for e in group),
                   sources, tuple(ln for e in group for ln in e.lines), icon.icon if icon else (),
                   icon.icon_vector if icon else (), "both", node.role, _states(node), node.value)


def _names_group(name: str, seen: str, group: list[Element]) -> bool:
    """Whether the node's name agrees with what was read in its group, in whole or in one piece of it: a menu
    row's name without the shortcut drawn at its end ("Go to Line..." beside "Ctrl+L")."""
    return name_agrees(name, seen) or any(len(_folded(e.text)) >= 3 and name_agrees(name, e.text) for e in group)


def _kind_and_box(fn: FrameNode, group: list[Element]) -> tuple[ElementKind, Rect]:
    """The fused element's kind and box: the role's kind and the node's box, except for a text-like role."""
    kind = ROLE_KIND[fn.node.role]
    if kind != ElementKind.TEXT:
        return kind, fn.box
    # A label's or a row's box is its allocation, often wider than its text: keep the pixels' box.
    kind = group[0].kind if len(group) == 1 else ElementKind.TEXT
    box = group[0].bbox
    for e in group[1:]:
        box = box.union(e.bbox)
    return kind, box


def _touching(elements: list[Element], nodes: list[FrameNode]) -> np.ndarray:
    """Which elements' boxes overlap which nodes' (elements x nodes): the only pairs worth a closer look
    (a spreadsheet's screen has hundreds of each)."""
    e = np.asarray([[el.bbox.x1, el.bbox.y1, el.bbox.x2, el.bbox.y2] for el in elements], np.float64).reshape(-1, 4)
    n = np.asarray([[fn.box.x1, fn.box.y1, fn.box.x2, fn.box.y2] for fn in nodes], np.float64).reshape(-1, 4)
    return ((e[:, None, 0] < n[None, :, 2]) & (n[None, :, 0] < e[:, None, 2])
            & (e[:, None, 1] < n[None, :, 3]) & (n[None, :, 1] < e[:, None, 3]))


def fuse_elements(elements: list[Element], view: TreeView, image: np.ndarray) -> tuple[list[Element], dict[str, Any]]:
    """One element list from the vision parse and the visible tree of the same frame, renumbered in
    reading order, and a summary of what the tree contributed."""
    t0 = time.perf_counter()
    h, w = image.shape[:2]
    frame_area = float(w * h)
    nodes = list(view.nodes)
    touching = _touching(elements, nodes)
    groups = _groups(elements, nodes, touching, frame_area)
    out, used = _fused_groups(elements, nodes, groups)
    added, blank = _tree_only(elements, nodes, _Claims(groups, used, touching), image, frame_area)
    out.extend(added)
    out.extend(el for i, el in enumerate(elements) if i not in used)
    out = _label_unnamed_fields(out)
    out.sort(key=lambda e: (round(e.bbox.y1 / 10), e.bbox.x1))
    out = [replace(e, id=k + 1) for k, e in enumerate(out)]
    snap = view.snapshot
    summary: dict[str, Any] = {
        "source": snap.source, "complete": snap.complete, "read_ms": round(snap.elapsed_ms, 1),
        "unanswered": list(snap.unanswered), "visible_nodes": len(nodes), "matched": len(groups),
        "added": len(added), "hidden": view.hidden, "blank": blank,
        "fuse_ms": round((time.perf_counter() - t0) * 1000, 1),
    }
    return out, summary


def _label_unnamed_fields(elements: list[Element]) -> list[Element]:
    """A field the tree alone found, without a name of its own (a Qt line edit with no buddy label), is named
    by the text on its left, as the vision parse names the fields it detects (`merge.label_near`): typing
    "into" the label then reaches the field (the label stays a text of its own, as in the vision parse)."""
    texts = [e for e in elements if e.kind == ElementKind.TEXT and e.text]
    lines = [TextLine(e.bbox, e.text, e.confidence) for e in texts]
    used: set[int] = set()
    out = []
    for e in elements:
        k = (label_near(e.bbox, lines, used, "left")
             if e.origin == "accessibility" and not e.text and e.kind in LABEL_LEFT else None)
        if k is not None:
            used.add(k)
            e = replace(e, text=texts[k].text)
        out.append(e)
    return out


@dataclass(frozen=True, slots=True)
class _Claims:
    """What matching settled: the nodes' groups of elements, the elements fused, which elements touch which
    nodes."""

    groups: dict[int, list[int]]
    used: set[int]
    touching: np.ndarray


def _groups(elements: list[Element], nodes: list[FrameNode], touching: np.ndarray, frame_area: float
            ) -> dict[int, list[int]]:
    """The detected elements each node holds (node index -> element indexes)."""
    # Each detected element goes to the smallest control it matches, the most specific one; to a label
    # only where no control holds it (a button's caption is often a label node inside the button).
    owner: dict[int, int] = {}
    for i, el in enumerate(elements):
        found = [int(j) for j in np.flatnonzero(touching[i]) if _match(el, nodes[j], frame_area)]
        if found:
            owner[i] = min(found, key=lambda j: (nodes[j].node.role in _NAMING_ONLY, nodes[j].box.area))
    groups: dict[int, list[int]] = {}
    for i, j in owner.items():
        groups.setdefault(j, []).append(i)
    return groups


def _fused_groups(elements: list[Element], nodes: list[FrameNode], groups: dict[int, list[int]]
                  ) -> tuple[list[Element], set[int]]:
    """The elements the matched nodes make, and the indexes of the detected elements they took."""
    out: list[Element] = []
    used: set[int] = set()
    for j, members in groups.items():
        fn = nodes[j]
        if ROLE_KIND[fn.node.role] == ElementKind.TEXT and len(members) > 1:
            # A label or a row over several detected pieces (a file's icon, name, size and date; a check
            # box and its text): the piece that carries the name gets it, the others stay as vision read them.
            members = [i for i in members
                       if len(_folded(elements[i].text)) >= 3 and name_agrees(fn.node.name, elements[i].text)]
            if len(members) != 1:
                continue
        out.append(_fused(fn, [elements[i] for i in members]))
        used.update(members)
    return out, used


def _tree_only(elements: list[Element], nodes: list[FrameNode], claims: _Claims, image: np.ndarray,
               frame_area: float) -> tuple[list[Element], int]:
    """Elements of their own for the controls nothing was detected at, and how many of those lay on blank
    pixels (left out)."""
    out: list[Element] = []
    blank = 0
    for j, fn in enumerate(nodes):
        node = fn.node
        if j in claims.groups or not _may_stand_alone(fn, frame_area):
            continue
        if any(elements[i].text and name_agrees(node.name, elements[i].text)
               for i in np.flatnonzero(claims.touching[:, j]) if i not in claims.used):
            continue  # vision has it already, in a box too loose to match: not twice
        if not shows_something(image, fn.box):
            blank += 1
            continue
        out.append(Element(0, ROLE_KIND[node.role], fn.box, node.name, 1.0, "accessibility",
                           origin="accessibility", role=node.role, states=_states(node), value=node.value))
    return out, blank


def _may_stand_alone(fn: FrameNode, frame_area: float) -> bool:
    """Whether an unmatched node may become an element of its own: a named control (or a field) that is no
    mere label and no large region."""
    node = fn.node
    if node.role in _NAMING_ONLY or (ROLE_KIND[node.role] == ElementKind.TEXT and not node.name):
        return False
    if not node.name and node.role not in _FIELD_ROLES:
        return False  # nothing to find it by, nothing to tell a planner
    return not (fn.box.area > _LARGE * frame_area and node.role not in _FIELD_ROLES)
