"""A Screen that blanks out regions of the desktop in every capture: the agent app's own windows, so
they are never read, never a target, and their repaints never count as an action's effect."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.capture.screen import Screen
from desktop_agent.geometry import DesktopPoint, DesktopRect, Monitor, Rect, ScreenLayout

MASK_COLOUR = (128, 128, 128)  # BGR; flat, so OCR and the element detector find nothing inside


class ExcludedRegions:
    """Desktop rectangles to blank (desktop coordinates: the device pixels X11 shows windows at, never a
    toolkit's logical units), set from one thread (the GUI's) and read from another (the agent's)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rects: tuple[DesktopRect, ...] = ()

    def set(self, rects: Iterable[DesktopRect]) -> None:
        """Replace the rectangles to blank."""
        with self._lock:
            self._rects = tuple(rects)

    def get(self) -> tuple[DesktopRect, ...]:
        """The rectangles to blank now."""
        with self._lock:
            return self._rects

    def contains(self, p: DesktopPoint) -> bool:
        """Whether a desktop point falls in a blanked rectangle."""
        return any(r.contains(p) for r in self.get())


@runtime_checkable
class BlanksRegions(Protocol):
    """A Screen that blanks parts of its captures: nothing read inside them is a target."""

    def masks_in(self, frame: ScreenFrame) -> list[Rect]:
        """The blanked regions that fall on this frame, in its image pixels."""
        ...


def blanked(screen: object, frame: ScreenFrame) -> list[Rect]:
    """What `screen` blanked on `frame` (image pixels); none for a screen that blanks nothing."""
    return screen.masks_in(frame) if isinstance(screen, BlanksRegions) else []


class MaskedScreen:
    """Wraps a Screen and paints the excluded regions flat grey in every frame (see `BlanksRegions`)."""

    def __init__(self, inner: Screen, regions: ExcludedRegions) -> None:
        self.inner = inner
        self.regions = regions

    def layout(self) -> ScreenLayout:
        """The wrapped screen's monitor layout."""
        return self.inner.layout()

    def masks_in(self, frame: ScreenFrame) -> list[Rect]:
        """The excluded regions that fall on this frame, in its image pixels."""
        g = frame.geometry
        mon = g.monitor
        screen = DesktopRect.from_xywh(mon.left, mon.top, mon.width, mon.height)
        return [on.to_image(g) for r in self.regions.get() if (on := r.intersection(screen)) is not None]

    def grab(self, monitor: Monitor) -> ScreenFrame:
        """Capture a monitor from the wrapped screen, the excluded regions painted grey."""
        frame = self.inner.grab(monitor)
        masks = self.masks_in(frame)
        if not masks:
            return frame
        image = frame.image.copy()
        for m in masks:
            x1, y1, x2, y2 = m.int_box()
            image[y1:y2, x1:x2] = MASK_COLOUR
        return ScreenFrame(image, frame.geometry, frame.captured_at)
