"""Coordinate spaces, owned here and nowhere else.

Three spaces meet in desktop-agent:

* **image pixels** of one captured frame (what OCR and the detector see; `Point`/`Rect` in a frame);
* **desktop coordinates**, the input system's space that pyautogui takes: the virtual desktop in logical
  units, where a monitor's origin may be left of or above the primary one (negative on Windows/macOS);
* a monitor's **scale**: captured pixels per desktop unit (2 on a Retina or 200% screen whose capture
  has device pixels while input takes logical points; 1 where both are the same, as on X11).

`FrameGeometry` maps between a frame's pixels and the desktop. Every other module passes these typed
values, never bare tuples it must interpret.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from desktop_agent.errors import MonitorLayoutError


@dataclass(frozen=True, slots=True)
class Point:
    """A point in image pixels of one frame."""

    x: float
    y: float

    def rounded(self) -> tuple[int, int]:
        """The nearest integer pixel."""
        return round(self.x), round(self.y)


@dataclass(frozen=True, slots=True)
class Rect:
    """An axis-aligned box [x1, x2) x [y1, y2) in image pixels of one frame."""

    x1: float
    y1: float
    x2: float
    y2: float

    @staticmethod
    def from_xywh(x: float, y: float, w: float, h: float) -> Rect:
        """The box with top-left (x, y), width w and height h."""
        return Rect(x, y, x + w, y + h)

    @property
    def width(self) -> float:
        """Its width in pixels."""
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        """Its height in pixels."""
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        """Its area in pixels (0 for an empty box)."""
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def center(self) -> Point:
        """Its centre point."""
        return Point((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    def contains(self, p: Point) -> bool:
        """Whether the point lies inside the box (edges included)."""
        return self.x1 <= p.x <= self.x2 and self.y1 <= p.y <= self.y2

    def overlaps(self, other: Rect) -> bool:
        """Whether the two boxes share any area."""
        return self.x1 < other.x2 and other.x1 < self.x2 and self.y1 < other.y2 and other.y1 < self.y2

    def intersection(self, other: Rect) -> Rect | None:
        """The area both boxes cover, or None where they do not overlap."""
        x1, y1 = max(self.x1, other.x1), max(self.y1, other.y1)
        x2, y2 = min(self.x2, other.x2), min(self.y2, other.y2)
        return Rect(x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None

    def union(self, other: Rect) -> Rect:
        """The smallest box that holds both boxes."""
        return Rect(min(self.x1, other.x1), min(self.y1, other.y1), max(self.x2, other.x2), max(self.y2, other.y2))

    def iou(self, other: Rect) -> float:
        """Intersection over union of the two boxes (0 where they do not overlap)."""
        inter = self.intersection(other)
        if inter is None:
            return 0.0
        return inter.area / (self.area + other.area - inter.area)

    def expanded(self, dx: float, dy: float | None = None) -> Rect:
        """The box grown by dx on the left and right and dy (dx if not given) on the top and bottom."""
        dy = dx if dy is None else dy
        return Rect(self.x1 - dx, self.y1 - dy, self.x2 + dx, self.y2 + dy)

    def clipped(self, width: float, height: float) -> Rect:
        """The box cut to an image of this width and height."""
        return Rect(max(0.0, self.x1), max(0.0, self.y1), min(width, self.x2), min(height, self.y2))

    def translated(self, dx: float, dy: float) -> Rect:
        """The box moved by (dx, dy)."""
        return Rect(self.x1 + dx, self.y1 + dy, self.x2 + dx, self.y2 + dy)

    def int_box(self) -> tuple[int, int, int, int]:
        """Integer pixel bounds (floor/ceil) for slicing an array."""
        return math.floor(self.x1), math.floor(self.y1), math.ceil(self.x2), math.ceil(self.y2)

    def as_list(self) -> list[float]:
        """The box as [x1, y1, x2, y2], rounded to 0.1 pixel."""
        return [round(self.x1, 1), round(self.y1, 1), round(self.x2, 1), round(self.y2, 1)]


@dataclass(frozen=True, slots=True)
class DesktopPoint:
    """A point in the input system's desktop coordinates (what the input driver takes)."""

    x: int
    y: int


@dataclass(frozen=True, slots=True)
class Monitor:
    """One monitor: its bounds in desktop coordinates, and captured pixels per desktop unit."""

    index: int
    left: int
    top: int
    width: int
    height: int
    scale: float = 1.0
    primary: bool = False
    name: str = ""

    def contains(self, p: DesktopPoint) -> bool:
        """Whether a desktop point lies on this monitor."""
        return self.left <= p.x < self.left + self.width and self.top <= p.y < self.top + self.height

    def describe(self) -> str:
        """The monitor in words: index, size, position and scale."""
        star = " (primary)" if self.primary else ""
        where = f"{self.left:+d}{self.top:+d}"
        return f"monitor {self.index}{star}: {self.width}x{self.height} at {where}, scale {self.scale:g}"


@dataclass(frozen=True, slots=True)
class ScreenLayout:
    """The monitors of the virtual desktop (at least one)."""

    monitors: tuple[Monitor, ...]

    def __post_init__(self) -> None:
        if not self.monitors:
            raise MonitorLayoutError("no monitors found: is a display connected?")

    @property
    def primary(self) -> Monitor:
        """The primary monitor (the first one if none is marked)."""
        return next((m for m in self.monitors if m.primary), self.monitors[0])

    def monitor_at(self, p: DesktopPoint) -> Monitor | None:
        """The monitor that holds a desktop point, or None."""
        return next((m for m in self.monitors if m.contains(p)), None)

    def bounds(self) -> tuple[int, int, int, int]:
        """The virtual desktop's bounding box (left, top, right, bottom)."""
        return (
            min(m.left for m in self.monitors),
            min(m.top for m in self.monitors),
            max(m.left + m.width for m in self.monitors),
            max(m.top + m.height for m in self.monitors),
        )


@dataclass(frozen=True, slots=True)
class FrameGeometry:
    """Where a captured frame sits on the desktop: its monitor and its pixel size."""

    monitor: Monitor
    pixel_width: int
    pixel_height: int

    @property
    def scale_x(self) -> float:
        """Captured pixels per desktop unit, horizontally."""
        return self.pixel_width / self.monitor.width

    @property
    def scale_y(self) -> float:
        """Captured pixels per desktop unit, vertically."""
        return self.pixel_height / self.monitor.height

    def to_desktop(self, p: Point) -> DesktopPoint:
        """Image pixel -> desktop coordinate, clamped inside this monitor."""
        x = self.monitor.left + p.x / self.scale_x
        y = self.monitor.top + p.y / self.scale_y
        x = min(max(x, self.monitor.left), self.monitor.left + self.monitor.width - 1)
        y = min(max(y, self.monitor.top), self.monitor.top + self.monitor.height - 1)
        return DesktopPoint(int(x), int(y))

    def to_image(self, p: DesktopPoint) -> Point:
        """Desktop coordinate -> image pixel (the centre of the desktop unit's pixels)."""
        return Point((p.x - self.monitor.left + 0.5) * self.scale_x, (p.y - self.monitor.top + 0.5) * self.scale_y)



_MONITOR_SPEC = re.compile(r"^(\d+)x(\d+)(?:@([\d.]+))?([+-]\d+)([+-]\d+)(\*)?$")


def parse_monitor_spec(spec: str) -> ScreenLayout:
    """Parse an explicit layout such as ``1280x800+1024+0*,1024x768+0+0`` (``*`` marks the primary,
    ``@2`` a scale). Used where the display server reports one screen for several monitors (VNC, Xvfb)."""
    monitors = []
    for i, part in enumerate(p.strip() for p in spec.split(",") if p.strip()):
        m = _MONITOR_SPEC.match(part)
        if not m:
            raise MonitorLayoutError(
                f"bad monitor spec {part!r}: expected WIDTHxHEIGHT[@SCALE]+LEFT+TOP[*], e.g. 1920x1080+0+0*"
            )
        w, h, scale, left, top, star = m.groups()
        monitors.append(
            Monitor(i + 1, int(left), int(top), int(w), int(h), float(scale or 1), bool(star), f"spec{i + 1}")
        )
    if monitors and not any(m.primary for m in monitors):
        monitors[0] = replace(monitors[0], primary=True)
    return ScreenLayout(tuple(monitors))


@dataclass(frozen=True, slots=True)
class DesktopRect:
    """A box [left, right) x [top, bottom) in desktop coordinates (the input system's space, as
    `DesktopPoint`), where accessibility APIs report extents. `to_image` maps it into one frame's pixels."""

    left: int
    top: int
    right: int
    bottom: int

    @staticmethod
    def from_xywh(x: int, y: int, w: int, h: int) -> DesktopRect:
        """The box with top-left (x, y), width w and height h."""
        return DesktopRect(x, y, x + w, y + h)

    @property
    def width(self) -> int:
        """Its width in desktop units."""
        return self.right - self.left

    @property
    def height(self) -> int:
        """Its height in desktop units."""
        return self.bottom - self.top

    @property
    def area(self) -> int:
        """Its area in desktop units (0 for an empty box)."""
        return max(0, self.width) * max(0, self.height)

    @property
    def center(self) -> DesktopPoint:
        """Its centre point."""
        return DesktopPoint((self.left + self.right) // 2, (self.top + self.bottom) // 2)

    def intersection(self, other: DesktopRect) -> DesktopRect | None:
        """The area both boxes cover, or None where they do not overlap."""
        left, top = max(self.left, other.left), max(self.top, other.top)
        right, bottom = min(self.right, other.right), min(self.bottom, other.bottom)
        return DesktopRect(left, top, right, bottom) if right > left and bottom > top else None

    def contains(self, p: DesktopPoint) -> bool:
        """Whether a desktop point lies inside the box."""
        return self.left <= p.x < self.right and self.top <= p.y < self.bottom

    def on_layout(self, layout: ScreenLayout) -> bool:
        """Whether any part of the box is on one of the layout's monitors."""
        return any(self.intersection(DesktopRect.from_xywh(m.left, m.top, m.width, m.height)) is not None
                   for m in layout.monitors)

    def to_image(self, geometry: FrameGeometry) -> Rect:
        """This box in the image pixels of a frame (unclipped; scale applied)."""
        m = geometry.monitor
        return Rect((self.left - m.left) * geometry.scale_x, (self.top - m.top) * geometry.scale_y,
                    (self.right - m.left) * geometry.scale_x, (self.bottom - m.top) * geometry.scale_y)

    @staticmethod
    def from_image(rect: Rect, geometry: FrameGeometry) -> DesktopRect:
        """The desktop box covering a frame's image rectangle (outward-rounded)."""
        m, sx, sy = geometry.monitor, geometry.scale_x, geometry.scale_y
        return DesktopRect(m.left + math.floor(rect.x1 / sx), m.top + math.floor(rect.y1 / sy),
                           m.left + math.ceil(rect.x2 / sx), m.top + math.ceil(rect.y2 / sy))

    def as_list(self) -> list[int]:
        """The box as [left, top, right, bottom]."""
        return [self.left, self.top, self.right, self.bottom]


def _qt_round(v: float) -> int:
    """Round half up, as GUI toolkits round scaled coordinates (Qt's qRound)."""
    return math.floor(v + 0.5)


@dataclass(frozen=True, slots=True)
class LogicalRect:
    """A box in a GUI toolkit's logical (device-independent) units: x, y, width, height, as Qt reports a
    window's geometry. Never desktop coordinates: `LogicalLayout` maps it there."""

    x: int
    y: int
    width: int
    height: int

    def contains(self, x: float, y: float) -> bool:
        """Whether the logical point (x, y) lies inside the box."""
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height


@dataclass(frozen=True, slots=True)
class LogicalScreen:
    """One screen as a GUI toolkit lays windows out on it: its bounds in logical units and its device pixels
    per logical unit (`ratio`: 1.5 at 150%, 2 at 200%). The screen's top-left corner is the same point in both
    spaces (Qt's high-DPI scaling keeps it): positions scale about it, so a window on a 200% screen right of a
    100% one sits where the X server puts it."""

    x: int
    y: int
    width: int
    height: int
    ratio: float = 1.0

    @property
    def logical(self) -> LogicalRect:
        """The screen's bounds in logical units."""
        return LogicalRect(self.x, self.y, self.width, self.height)

    @property
    def desktop(self) -> DesktopRect:
        """The screen's bounds in desktop coordinates (device pixels)."""
        return DesktopRect(self.x, self.y, self.x + _qt_round(self.width * self.ratio),
                           self.y + _qt_round(self.height * self.ratio))

    def rect_to_desktop(self, r: LogicalRect) -> DesktopRect:
        """Where the toolkit puts a window of this logical geometry: position and size each scaled and
        rounded, as Qt maps a window's geometry to the window system's."""
        left = self.x + _qt_round((r.x - self.x) * self.ratio)
        top = self.y + _qt_round((r.y - self.y) * self.ratio)
        return DesktopRect(left, top, left + _qt_round(r.width * self.ratio), top + _qt_round(r.height * self.ratio))

    def rect_from_desktop(self, d: DesktopRect) -> LogicalRect:
        """The logical geometry whose window covers `d` most nearly (exactly where the ratio allows)."""
        x = self.x + _qt_round((d.left - self.x) / self.ratio)
        y = self.y + _qt_round((d.top - self.y) / self.ratio)
        return LogicalRect(x, y, max(1, _qt_round(d.width / self.ratio)), max(1, _qt_round(d.height / self.ratio)))


@dataclass(frozen=True, slots=True)
class LogicalLayout:
    """The toolkit's screens: maps window geometry between its logical units and desktop coordinates (the
    device pixels that X11 input and captures use), each screen at its own scale."""

    screens: tuple[LogicalScreen, ...]

    def __post_init__(self) -> None:
        if not self.screens:
            raise MonitorLayoutError("the GUI toolkit reports no screens")

    def _nearest(self, x: float, y: float, bounds: list[tuple[float, float, float, float]]) -> LogicalScreen:
        def dist(b: tuple[float, float, float, float]) -> float:
            return math.hypot(max(b[0] - x, 0, x - b[2]), max(b[1] - y, 0, y - b[3]))

        return self.screens[min(range(len(self.screens)), key=lambda i: dist(bounds[i]))]

    def screen_for_logical(self, r: LogicalRect, hint: int | None = None) -> LogicalScreen:
        """The screen whose scale places a window: the one holding its top-left corner (as Qt picks it),
        else the window's own screen (`hint`), else the nearest."""
        for s in self.screens:
            if s.logical.contains(r.x, r.y):
                return s
        if hint is not None and 0 <= hint < len(self.screens):
            return self.screens[hint]
        return self._nearest(r.x, r.y, [(s.x, s.y, s.x + s.width, s.y + s.height) for s in self.screens])

    def screen_for_desktop(self, x: float, y: float) -> LogicalScreen:
        """The screen showing a desktop point (the nearest one for a point off every screen)."""
        for s in self.screens:
            d = s.desktop
            if d.left <= x < d.right and d.top <= y < d.bottom:
                return s
        return self._nearest(x, y, [(s.desktop.left, s.desktop.top, s.desktop.right, s.desktop.bottom)
                                    for s in self.screens])

    def to_desktop(self, r: LogicalRect, hint: int | None = None) -> DesktopRect:
        """A window's logical geometry -> its box in desktop coordinates (device pixels)."""
        return self.screen_for_logical(r, hint).rect_to_desktop(r)

    def from_desktop(self, d: DesktopRect) -> LogicalRect:
        """A desktop box -> the logical geometry of a window that covers it, on the screen that shows it."""
        return self.screen_for_desktop(d.left, d.top).rect_from_desktop(d)

    def point_from_desktop(self, p: DesktopPoint) -> tuple[int, int]:
        """A desktop point in logical units (for comparing with window geometry)."""
        s = self.screen_for_desktop(p.x, p.y)
        return s.x + _qt_round((p.x - s.x) / s.ratio), s.y + _qt_round((p.y - s.y) / s.ratio)
