"""Which application window is at a desktop point (X11), for approval rules such as "approve clicks
inside one named app"."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import Any

from desktop_agent.geometry import DesktopPoint


@dataclass(frozen=True)
class WindowInfo:
    """A top-level window's title and application class."""

    title: str
    app: str  # the WM_CLASS class (e.g. "Gedit", "libreoffice-calc"), or "" when unknown

    def matches(self, name: str) -> bool:
        """Whether `name` names this window's application (its class, or a part of its title)."""
        n = name.strip().lower()
        return bool(n) and (n == self.app.lower() or n in self.title.lower() or n in self.app.lower())


def _props(d: Any, w: Any) -> tuple[str, str] | None:
    """Title and class of `w` or of the first of its descendants that has a class (reparenting WMs)."""
    try:
        cls = w.get_wm_class()
        if cls:
            name = w.get_full_text_property(d.intern_atom("_NET_WM_NAME")) or w.get_wm_name() or ""
            return str(name), str(cls[1] or cls[0])
        for child in w.query_tree().children:
            found = _props(d, child)
            if found:
                return found
    except Exception:  # the window went away while we looked
        return None
    return None


def window_at(point: DesktopPoint) -> WindowInfo | None:
    """The topmost mapped top-level window containing `point`, or None (not X11, or nothing there).
    NoDisplayError (one line) where the X display cannot be reached or went away."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        from Xlib import X
    except ImportError:
        return None
    from desktop_agent.capture.screen import display_error, open_x_display

    d = open_x_display()
    try:
        root = d.screen().root
        stacking = root.get_full_property(d.intern_atom("_NET_CLIENT_LIST_STACKING"), X.AnyPropertyType)
        windows = ([d.create_resource_object("window", wid) for wid in stacking.value] if stacking
                   else list(root.query_tree().children))
        for w in reversed(windows):  # topmost first
            try:
                if w.get_attributes().map_state != X.IsViewable:
                    continue
                g = w.get_geometry()
                pos = w.translate_coords(root, 0, 0)
                x, y = -pos.x, -pos.y
            except Exception as exc:  # the window went away while we looked: the next one
                if display_error(exc):
                    raise
                continue
            if x <= point.x < x + g.width and y <= point.y < y + g.height:
                found = _props(d, w)
                if found:
                    return WindowInfo(*found)
        return None
    except Exception as exc:
        lost = display_error(exc)
        if lost:
            raise lost from None
        raise
    finally:
        with contextlib.suppress(Exception):  # the connection may already be gone
            d.close()
