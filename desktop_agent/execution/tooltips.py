"""Tooltips raised by the agent's own pointer, moved out of the way before the screen is read again.

After a click the pointer rests on the control it clicked, and half a second later the app may show that
control's tooltip over its neighbours (seen in the task suite: galculator's "One KP 1" tooltip over the "0"
key, so the next step could not find "0", or its click landed on the tooltip). On X11 a tooltip is a mapped
override-redirect window of type `_NET_WM_WINDOW_TYPE_TOOLTIP` (GTK 2/3 and Qt set it). Where one shows, the
pointer steps aside to the nearest place on a monitor that no window covers (else the top edge of the window
under it), and the tooltip is awaited gone. Nothing is clicked or typed. Other platforms: no-op."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from desktop_agent.execution.input_driver import InputDriver
from desktop_agent.geometry import DesktopPoint, DesktopRect
from desktop_agent.perception.accessibility.visibility import ScreenWindow
from desktop_agent.perception.accessibility.x_windows import windows_of

CORNER_MARGIN = 12  # pyautogui's fail-safe fires in a screen corner: a rest point keeps this far from them
OUTSIDE_GAP = 3  # pixels between a window's edge and the rest point beside it
TOOLTIP_DELAY = 0.8  # seconds a resting pointer takes to raise a tooltip (GTK 0.5, Qt 0.7), with a margin


def x_tooltips(conn: Any) -> list[DesktopRect]:
    """The boxes of the tooltip windows mapped on an X display (`conn`: a python-xlib Display)."""
    return [w.box for w in windows_of(conn) if w.tooltip]


def _clear_of_corners(p: DesktopPoint, screens: Sequence[DesktopRect]) -> bool:
    for s in screens:
        near_x = p.x - s.left < CORNER_MARGIN or s.right - 1 - p.x < CORNER_MARGIN
        near_y = p.y - s.top < CORNER_MARGIN or s.bottom - 1 - p.y < CORNER_MARGIN
        if near_x and near_y:
            return False
    return True


def rest_point(pointer: DesktopPoint, windows: Sequence[ScreenWindow],
               screens: Sequence[DesktopRect]) -> DesktopPoint | None:
    """Where the pointer can rest without hovering anything: the nearest point just outside the topmost
    window under the pointer that lies on a monitor (`screens`), under no window and away from the screen
    corners; else that window's top edge (its frame or title bar), at the pointer's x; None where the pointer
    is over no window (then no app of ours raised the tooltip)."""
    normal = [w.box for w in windows if not w.popup]
    under = next((b for b in reversed(normal) if b.contains(pointer)), None)
    if under is None:
        return None
    gap = OUTSIDE_GAP
    candidates = [DesktopPoint(pointer.x, under.top - gap), DesktopPoint(pointer.x, under.bottom + gap - 1),
                  DesktopPoint(under.left - gap, pointer.y), DesktopPoint(under.right + gap - 1, pointer.y)]
    free = [p for p in candidates
            if any(s.contains(p) for s in screens) and not any(b.contains(p) for b in normal)
            and _clear_of_corners(p, screens)]
    if free:
        return min(free, key=lambda p: abs(p.x - pointer.x) + abs(p.y - pointer.y))
    return DesktopPoint(pointer.x, under.top + 1)


class TooltipClearer:
    """Moves the pointer off a control whose tooltip shows, on one kept X connection. Calling it with where
    the agent left the pointer returns True when it moved the pointer. Where there is no X display to ask it
    does nothing (and says False)."""

    def __init__(self, driver: InputDriver, display: str | None = None, timeout: float = 1.0,
                 windows: Callable[[Any], list[ScreenWindow]] | None = None) -> None:
        self.driver = driver
        self.display = display
        self.timeout = timeout
        self._windows = windows
        self._conn: Any = None
        self._broken = False

    def _connection(self) -> Any:
        if self._conn is None and not self._broken:
            try:
                from Xlib import display as xdisplay

                self._conn = xdisplay.Display(self.display)
            except Exception:
                self._broken = True  # no X here (Wayland, another platform): nothing to clear, ever
        return self._conn

    def shown(self) -> list[DesktopRect]:
        """The tooltip windows mapped now (none where there is no X display)."""
        conn = self._connection()
        if conn is None:
            return []
        try:
            return x_tooltips(conn)
        except Exception:
            self.close()
            return []

    def __call__(self, left_at: DesktopPoint, since: float | None = None) -> bool:
        """Move the pointer aside if a tooltip shows and the pointer is still at `left_at`, where the agent's
        last input left it at `since` (time.monotonic; a pointer the person moved is theirs: left alone).
        A tooltip takes a moment to appear: while the pointer has rested there for less than TOOLTIP_DELAY,
        the rest of that moment is waited out first, so that it does not appear in the next capture."""
        conn = self._connection()
        if conn is None:
            return False
        try:
            root = conn.screen().root
            ptr = root.query_pointer()
            pointer = DesktopPoint(int(ptr.root_x), int(ptr.root_y))
            if pointer != left_at:
                return False
            if since is not None:
                time.sleep(max(0.0, TOOLTIP_DELAY - (time.monotonic() - since)))
            if not x_tooltips(conn):
                return False
            windows = (self._windows or windows_of)(conn)
            screens = _screens(conn)
        except Exception:
            self.close()
            return False
        spot = rest_point(pointer, windows, screens)
        if spot is None:
            return False
        self.driver.move(spot)
        deadline = time.monotonic() + self.timeout
        while self.shown() and time.monotonic() < deadline:
            time.sleep(0.05)
        return True

    def close(self) -> None:
        """Close the kept X connection."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def _screens(conn: Any) -> list[DesktopRect]:
    """The monitors' boxes from RandR where it has them, else the whole X screen."""
    root = conn.screen().root
    with contextlib.suppress(Exception):
        monitors = root.xrandr_get_monitors().monitors
        if monitors:
            return [DesktopRect.from_xywh(m.x, m.y, m.width_in_pixels, m.height_in_pixels) for m in monitors]
    s = conn.screen()
    return [DesktopRect.from_xywh(0, 0, s.width_in_pixels, s.height_in_pixels)]
