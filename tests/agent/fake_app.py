"""A stand-in app for display-free loop tests (a fake, named as such): screens drawn with a real font as PNG
files, shown on a `FakeScreen`, and changed when the `RecordingDriver` reports a click on one of its buttons."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from desktop_agent.capture.fake import FakeScreen
from desktop_agent.geometry import DesktopPoint, Monitor

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@dataclass(frozen=True)
class Button:
    """A labelled button at (x, y) in picture pixels; its box is the label with padding."""

    text: str
    x: int
    y: int

    def box(self, font: ImageFont.FreeTypeFont) -> tuple[int, int, int, int]:
        _left, _top, right, bottom = font.getbbox(self.text)
        return self.x - 12, self.y - 8, self.x + right + 12, self.y + bottom + 8


def draw(path: Path, size: tuple[int, int], buttons: list[Button], labels: list[Button] = (),  # type: ignore[assignment]
         scale: float = 1.0) -> Path:
    """Render a light window with bordered buttons and plain labels (font size 18 px times `scale`) to `path`."""
    font = ImageFont.truetype(FONT, round(18 * scale))
    img = Image.new("RGB", size, (242, 242, 242))
    d = ImageDraw.Draw(img)
    for b in buttons:
        d.rectangle(b.box(font), fill=(225, 225, 228), outline=(90, 90, 90), width=max(1, round(scale)))
        d.text((b.x, b.y), b.text, fill=(20, 20, 20), font=font)
    for label in labels:
        d.text((label.x, label.y), label.text, fill=(20, 20, 20), font=font)
    img.save(path)
    return path


def button_box_desktop(b: Button, monitor: Monitor, scale: float = 1.0) -> tuple[int, int, int, int]:
    """A button's box in desktop coordinates on `monitor`."""
    font = ImageFont.truetype(FONT, round(18 * scale))
    x1, y1, x2, y2 = b.box(font)
    return (monitor.left + int(x1 / scale), monitor.top + int(y1 / scale), monitor.left + int(x2 / scale) + 1,
            monitor.top + int(y2 / scale) + 1)


def inside(p: DesktopPoint, box: tuple[int, int, int, int]) -> bool:
    """Whether a desktop point falls in a desktop box."""
    return box[0] <= p.x < box[2] and box[1] <= p.y < box[3]


@dataclass
class FakeApp:
    """Answers clicks: a click inside `boxes[name]` (desktop coordinates) shows `then[name]` on `monitor`."""

    screen: FakeScreen
    boxes: dict[str, tuple[int, int, int, int]]
    then: dict[str, Path | np.ndarray]
    monitor: int | None = None
    clicked: list[str] = field(default_factory=list)

    def react(self, name: str, args: tuple[Any, ...]) -> None:
        """The `RecordingDriver` hook: what the app does with a click."""
        if name != "click":
            return
        for label, box in self.boxes.items():
            if inside(args[0], box):
                self.clicked.append(label)
                if label in self.then:
                    self.screen.show(self.then[label], self.monitor)
