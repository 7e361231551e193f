"""A captured screen image together with where it sits on the desktop."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from desktop_agent.errors import ImageReadError
from desktop_agent.geometry import FrameGeometry, Monitor


@dataclass(frozen=True, eq=False)
class ScreenFrame:
    """One monitor's pixels (BGR, uint8, HxWx3) and the geometry that maps them to the desktop."""

    image: np.ndarray
    geometry: FrameGeometry
    captured_at: float = field(default_factory=time.time)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @staticmethod
    def from_image(image: np.ndarray, monitor: Monitor | None = None) -> ScreenFrame:
        h, w = image.shape[:2]
        mon = monitor or Monitor(1, 0, 0, w, h, 1.0, True, "image")
        return ScreenFrame(np.ascontiguousarray(image), FrameGeometry(mon, w, h))

    def save_png(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Level 1: a screenshot per step must not cost more than the step's perception.
        cv2.imwrite(str(path), self.image, [cv2.IMWRITE_PNG_COMPRESSION, 1])


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as BGR uint8, or raise ImageReadError with the reason."""
    p = Path(path)
    if not p.exists():
        raise ImageReadError(str(path), "no such file")
    if p.is_dir():
        raise ImageReadError(str(path), "it is a folder, not an image")
    data = np.fromfile(str(p), dtype=np.uint8)
    if data.size == 0:
        raise ImageReadError(str(path), "the file is empty")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise ImageReadError(str(path), "not a PNG/JPEG/BMP/WebP image or the file is damaged")
    return image


def frame_from_file(path: str | Path) -> ScreenFrame:
    return ScreenFrame.from_image(load_image(path))
