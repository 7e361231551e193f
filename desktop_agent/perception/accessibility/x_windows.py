"""The windows on an X display bottom to top, as `visibility.visible_nodes` needs them: what covers what is
known to the display server, not to the accessibility tree."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from desktop_agent.perception.accessibility.nodes import DesktopRect
from desktop_agent.perception.accessibility.visibility import ScreenWindow


def _pid(w: Any, atom: int) -> int | None:
    """`_NET_WM_PID` of the window or, under a reparenting window manager, of its client inside the frame."""
    from Xlib import X

    for cand in (w, *w.query_tree().children):
        prop = cand.get_full_property(atom, X.AnyPropertyType)
        if prop is not None and len(prop.value):
            return int(prop.value[0])
    return None


def _is_tooltip(w: Any, type_atom: int, tooltip_atom: int) -> bool:
    from Xlib import X

    prop = w.get_full_property(type_atom, X.AnyPropertyType)
    return prop is not None and tooltip_atom in list(prop.value)


def _active_id(d: Any, root: Any) -> int | None:
    """The window the window manager says has the focus (`_NET_ACTIVE_WINDOW`); None without one."""
    from Xlib import X

    prop = root.get_full_property(d.intern_atom("_NET_ACTIVE_WINDOW"), X.AnyPropertyType)
    return int(prop.value[0]) if prop is not None and len(prop.value) and prop.value[0] else None


def _holds(w: Any, window_id: int | None, depth: int = 2) -> bool:
    """Whether top-level `w` is window `window_id` or its frame (a reparenting window manager puts the
    client a level or two inside the frame)."""
    if window_id is None:
        return False
    if w.id == window_id:
        return True
    return depth > 0 and any(_holds(c, window_id, depth - 1) for c in w.query_tree().children)


def _windows(d: Any) -> list[ScreenWindow]:
    from Xlib import X

    out = []
    root = d.screen().root
    atom = d.intern_atom("_NET_WM_PID")
    type_atom, tooltip_atom = d.intern_atom("_NET_WM_WINDOW_TYPE"), d.intern_atom("_NET_WM_WINDOW_TYPE_TOOLTIP")
    active_id = _active_id(d, root)
    for w in root.query_tree().children:  # X lists a parent's children bottom to top
        try:
            attrs = w.get_attributes()
            if attrs.map_state != X.IsViewable:
                continue
            g = w.get_geometry()
            pos = w.translate_coords(root, 0, 0)
            pid = _pid(w, atom)
            popup = bool(attrs.override_redirect)
            tooltip = popup and _is_tooltip(w, type_atom, tooltip_atom)
            active = not popup and _holds(w, active_id)
            if active:
                active_id = None  # one window has the focus: no need to look inside the others
        except Exception as exc:  # the window went away while we looked; a lost connection is not that
            if type(exc).__name__ in ("ConnectionClosedError", "DisplayConnectionError"):
                raise
            continue
        box = DesktopRect.from_xywh(-pos.x, -pos.y, g.width, g.height)
        out.append(ScreenWindow(box, pid, popup=popup, tooltip=tooltip, active=active))
    return out


class StackingOrder:
    """The windows of an X display bottom to top, asked on one kept connection (opening one costs more
    than the asking). Calling it gives None where there is no X display to ask (another platform, Wayland,
    no python-xlib): the caller then cannot tell what is covered. Not for two threads at once."""

    def __init__(self, display: str | None = None) -> None:
        self.display = display
        self._conn: Any = None

    def __call__(self) -> list[ScreenWindow] | None:
        if not sys.platform.startswith("linux"):
            return None
        for _attempt in range(2):  # a kept connection may have gone stale: one fresh try
            if self._conn is None:
                try:
                    from Xlib import display as xdisplay

                    self._conn = xdisplay.Display(self.display)
                except Exception:
                    return None
            try:
                return _windows(self._conn)
            except Exception:
                self.close()
        return None

    def close(self) -> None:
        """Close the kept X connection."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def active_window(windows: list[ScreenWindow] | None) -> DesktopRect | None:
    """The box of what takes the person's input: the window that has the focus (the window manager's
    `_NET_ACTIVE_WINDOW`) or, while a menu or a drop-down list is open over it, that popup (the topmost popup
    above the focused window that touches it: a click elsewhere only closes it). None where no focus is known
    (no window manager, nothing focused, another platform)."""
    windows = windows or []
    active = next((w for w in windows if w.active), None)
    if active is None:
        return None
    for w in reversed(windows):  # top to bottom, down to the focused window
        if w is active:
            break
        if w.popup and not w.tooltip and w.box.intersection(active.box) is not None:
            return w.box
    return active.box


def stacked_windows(display: str | None = None) -> list[ScreenWindow] | None:
    """Every mapped top-level window bottom to top: its box (decorations included), the process owning it
    and whether it is a popup (override-redirect: menus, tooltips, combo lists); None where there is no X
    display to ask. One connection for one question (`StackingOrder` keeps one)."""
    order = StackingOrder(display)
    try:
        return order()
    finally:
        order.close()


def windows_of(conn: Any) -> list[ScreenWindow]:
    """Every mapped top-level window bottom to top, asked on an open python-xlib connection `conn`."""
    return _windows(conn)
