"""Qt's screens as `geometry.LogicalLayout`: the one path between Qt's logical window geometry and the desktop
coordinates (device pixels) that captures, masks and input use, each screen at its own scale
(QT_SCALE_FACTOR, QT_SCREEN_SCALE_FACTORS, a desktop's 125/150/200%)."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QWidget

from desktop_agent.geometry import DesktopPoint, DesktopRect, LogicalLayout, LogicalRect, LogicalScreen

# Platforms whose window geometry is already in the input's desktop units (macOS points; a Wayland
# compositor's logical space): there the device pixel ratio only sizes backing stores, not positions.
_GEOMETRY_IN_DESKTOP_UNITS = ("cocoa", "ios", "wayland", "wayland-egl")


def geometry_ratio(screen: QScreen) -> float:
    """Desktop units per Qt logical unit on this screen (its device pixel ratio on X11 and Windows)."""
    if QGuiApplication.platformName() in _GEOMETRY_IN_DESKTOP_UNITS:
        return 1.0
    return float(screen.devicePixelRatio())


def logical_layout() -> LogicalLayout:
    """Qt's screens now, with their logical bounds and scales."""
    return LogicalLayout(tuple(LogicalScreen(g.x(), g.y(), g.width(), g.height(), geometry_ratio(s))
                               for s in QGuiApplication.screens() for g in (s.geometry(),)))


def _hint(widget: QWidget) -> int | None:
    screen = widget.screen()
    screens = QGuiApplication.screens()
    return screens.index(screen) if screen in screens else None


def window_desktop_rect(widget: QWidget, layout: LogicalLayout | None = None) -> DesktopRect:
    """A top-level window's frame (decorations included) in desktop coordinates."""
    g = widget.frameGeometry()
    return (layout or logical_layout()).to_desktop(LogicalRect(g.x(), g.y(), g.width(), g.height()), _hint(widget))


def to_qrect(box: DesktopRect, layout: LogicalLayout | None = None) -> QRect:
    """The logical geometry that puts a window on this desktop box."""
    r = (layout or logical_layout()).from_desktop(box)
    return QRect(r.x, r.y, r.width, r.height)


def logical_point(p: DesktopPoint, layout: LogicalLayout | None = None) -> tuple[int, int]:
    """A desktop point in Qt's logical units."""
    return (layout or logical_layout()).point_from_desktop(p)
