"""A fake `Screen` (named as such): pictures instead of a display, one per monitor of a layout, so the loop
and the planners can be run and tested without X. What it shows is changed with `show` (a test's stand-in
app does that when the fake driver reports input)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from desktop_agent.capture.frame import ScreenFrame, load_image
from desktop_agent.geometry import FrameGeometry, Monitor, ScreenLayout

Picture = str | Path | np.ndarray


def _pixels(picture: Picture) -> np.ndarray:
    return np.ascontiguousarray(picture) if isinstance(picture, np.ndarray) else load_image(picture)


class FakeScreen:
    """Shows one picture (a PNG file or a BGR array) per monitor; each grab is a copy with the monitor's geometry.
    A picture's size must be the monitor's size times its scale, as a real capture's is."""

    def __init__(self, layout: ScreenLayout, pictures: dict[int, Picture]) -> None:
        self._layout = layout
        self._lock = threading.Lock()
        self._shown: dict[int, np.ndarray] = {}
        self.grabs = 0  # how many frames were taken (a test can tell the screen was looked at)
        for m in layout.monitors:
            self.show(pictures[m.index], m.index)

    @staticmethod
    def single(picture: Picture, scale: float = 1.0) -> FakeScreen:
        """One primary monitor at the desktop's origin, sized from the picture."""
        image = _pixels(picture)
        h, w = image.shape[:2]
        monitor = Monitor(1, 0, 0, round(w / scale), round(h / scale), scale, True, "fake")
        return FakeScreen(ScreenLayout((monitor,)), {1: image})

    def layout(self) -> ScreenLayout:
        """The layout it was made with."""
        return self._layout

    def show(self, picture: Picture, monitor: int | None = None) -> None:
        """Show `picture` on monitor `monitor` (default: the primary) from the next grab on."""
        mon = self._monitor(monitor)
        image = _pixels(picture)
        want = (round(mon.height * mon.scale), round(mon.width * mon.scale))
        if image.shape[:2] != want:
            raise ValueError(f"a picture of {image.shape[1]}x{image.shape[0]} pixels on {mon.describe()}: "
                             f"it needs {want[1]}x{want[0]}")
        with self._lock:
            self._shown[mon.index] = image

    def grab(self, monitor: Monitor) -> ScreenFrame:
        """The picture now shown on `monitor`, with its geometry."""
        with self._lock:
            image = self._shown[monitor.index].copy()
            self.grabs += 1
        h, w = image.shape[:2]
        return ScreenFrame(image, FrameGeometry(monitor, w, h))

    def _monitor(self, index: int | None) -> Monitor:
        if index is None:
            return self._layout.primary
        found = next((m for m in self._layout.monitors if m.index == index), None)
        if found is None:
            raise ValueError(f"no monitor {index} in the fake screen's layout")
        return found
