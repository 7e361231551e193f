"""A Screen that presents another screen's captures at a HiDPI scale.

It reproduces what a Retina/200% capture looks like to the agent (device pixels = scale x desktop units)
on displays that cannot do it (Xvfb), so the coordinate mapping is exercised end to end with real input.
"""

from __future__ import annotations

from dataclasses import replace

import cv2

from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.capture.screen import Screen
from desktop_agent.geometry import FrameGeometry, Monitor, ScreenLayout


class ScaledScreen:
    """Shows captures scaled by `scale`, as a HiDPI display would give them (for displays that cannot)."""

    def __init__(self, inner: Screen, scale: float) -> None:
        self.inner = inner
        self.scale = scale

    def layout(self) -> ScreenLayout:
        """The inner layout, each monitor at this scale."""
        return ScreenLayout(tuple(replace(m, scale=self.scale) for m in self.inner.layout().monitors))

    def grab(self, monitor: Monitor) -> ScreenFrame:
        """The inner capture, resized to this scale."""
        frame = self.inner.grab(monitor)
        w, h = round(frame.width * self.scale), round(frame.height * self.scale)
        image = cv2.resize(frame.image, (w, h), interpolation=cv2.INTER_CUBIC)
        return ScreenFrame(image, FrameGeometry(monitor, w, h), frame.captured_at)
