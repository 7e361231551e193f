"""Which accessible objects can actually be seen: a toolkit's SHOWING state does not know about other
windows on top, nor about the part of a list scrolled out of its viewport. Given the windows on screen in
stacking order, `visible_nodes` keeps the nodes whose box is (almost) entirely seen, clipped to what is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desktop_agent.perception.accessibility.nodes import A11yNode, A11ySnapshot, A11yWindow, DesktopRect

# Roles whose children sit in a popup window of their own, outside the box of the parent.
POPUP_ROLES = frozenset({"menu", "popup menu", "combo box", "menu bar"})
WINDOW_LEVEL_ROLES = frozenset({"frame", "dialog", "window", "alert", "filler", "file chooser"})


@dataclass(frozen=True, slots=True)
class ScreenWindow:
    """A window as the display server stacks it: its box (decorations included), the process that owns it,
    whether it is a popup (menus, tooltips, combo lists: X override-redirect windows) or a tooltip, and whether
    it is the one that has the focus (the window manager's active window)."""

    box: DesktopRect
    pid: int | None
    popup: bool = False
    tooltip: bool = False  # a popup of type _NET_WM_WINDOW_TYPE_TOOLTIP
    active: bool = False  # the window manager's _NET_ACTIVE_WINDOW (or the frame holding it)


@dataclass(frozen=True, slots=True)
class VisibleNode:
    """A node that shows on screen, with the part of its box that is visible."""

    node: A11yNode
    box: DesktopRect  # the node's box clipped to its containers and its window


def _in_popup(node: A11yNode, by_id: dict[int, A11yNode]) -> bool:
    p = node.parent
    while p is not None:
        parent = by_id[p]
        if parent.role in ("menu", "popup menu") or (parent.role == "combo box" and node.role != "text"):
            return True
        p = parent.parent
    return False


def _clip_to_containers(node: A11yNode, by_id: dict[int, A11yNode]) -> DesktopRect | None:
    """The node's box inside every ancestor's box up to its window or popup (widgets are drawn clipped to
    their parents: the rows of a list below its viewport are not seen)."""
    box = node.box
    p = node.parent
    while box is not None and p is not None:
        parent = by_id[p]
        if parent.role in POPUP_ROLES or parent.parent is None:
            break
        if parent.box is not None:
            box = box.intersection(parent.box)
        p = parent.parent
    return box


def _same_process(window: ScreenWindow, node: A11yNode) -> bool:
    return window.pid is None or node.window.pid is None or window.pid == node.window.pid


def _own_window(windows: list[ScreenWindow], node: A11yNode) -> int | None:
    """The X window that is the node's top-level window: of its process, not a popup, the one whose box best
    matches the tree's frame (two windows of one app can overlap: a dialog over its main window), at least
    mostly. None where the tree gives no frame or no window matches."""
    frame = node.window.box
    if frame is None:
        return None
    best, best_iou = None, 0.0
    for i, w in enumerate(windows):
        if w.popup or not _same_process(w, node):
            continue
        inside = frame.intersection(w.box)
        if inside is None:
            continue
        iou = inside.area / float(frame.area + w.box.area - inside.area)
        if iou > best_iou:
            best, best_iou = i, iou
    # Toolkits disagree on whether a window's extents include the decorations: most of each is enough.
    return best if best_iou >= 0.5 else None


def _owns(windows: list[ScreenWindow], top: int, node: A11yNode, in_popup: bool,
          own: dict[A11yWindow, int | None]) -> bool:
    """Whether the window shown under a node (`windows[top]`) is the one the node belongs to (`own`: each
    tree window's X window, found once)."""
    window = windows[top]
    if not _same_process(window, node):
        return False
    if in_popup:
        return window.popup
    if node.window not in own:
        own[node.window] = _own_window(windows, node)
    return own[node.window] == top


def visible_nodes(snapshot: A11ySnapshot, windows: list[ScreenWindow], screen: DesktopRect,
                  min_visible: float = 0.95, roles: frozenset[str] | None = None) -> list[VisibleNode]:
    """The nodes of `snapshot` of which at least `min_visible` of the (clipped) box is seen on `screen`,
    given every window on it bottom to top. Boxes come back clipped to containers, window and screen.
    `roles`: look only at nodes of these roles (the others still clip their descendants)."""
    owner = np.full((screen.height, screen.width), -1, np.int32)
    for i, w in enumerate(windows):
        box = w.box.intersection(screen)
        if box is not None:
            owner[box.top - screen.top:box.bottom - screen.top, box.left - screen.left:box.right - screen.left] = i
    by_id = {n.id: n for n in snapshot.nodes}
    own: dict[A11yWindow, int | None] = {}
    out = []
    for node in snapshot.nodes:
        if roles is not None and node.role not in roles:
            continue
        box = _clip_to_containers(node, by_id)
        box = box.intersection(screen) if box is not None else None
        if box is None:
            continue
        region = owner[box.top - screen.top:box.bottom - screen.top, box.left - screen.left:box.right - screen.left]
        counts = np.bincount(region.ravel() + 1, minlength=len(windows) + 1)  # [0]: no window
        top = int(counts.argmax()) - 1
        if top < 0 or counts.max() < min_visible * region.size:
            continue
        if not _owns(windows, top, node, _in_popup(node, by_id), own):
            continue
        clipped = box.intersection(windows[top].box)
        if clipped is not None:
            out.append(VisibleNode(node, clipped))
    return out
