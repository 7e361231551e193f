"""FakeScreen: PNG pictures shown with a layout's geometry, checked against each monitor's size and scale."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from desktop_agent.capture.fake import FakeScreen
from desktop_agent.capture.screen import Screen
from desktop_agent.errors import ImageReadError
from desktop_agent.geometry import DesktopPoint, Monitor, Point, ScreenLayout


def _png(path: Path, w: int, h: int, colour: int) -> Path:
    cv2.imwrite(str(path), np.full((h, w, 3), colour, np.uint8))
    return path


def test_frames_carry_their_monitors_geometry(tmp_path: Path) -> None:
    right = Monitor(1, 0, 0, 300, 200, 1.0, True)
    left = Monitor(2, -200, 50, 200, 100, 2.0)
    screen = FakeScreen(ScreenLayout((right, left)), {1: _png(tmp_path / "a.png", 300, 200, 10),
                                                      2: _png(tmp_path / "b.png", 400, 200, 200)})
    assert isinstance(screen, Screen)
    frame = screen.grab(left)
    assert (frame.width, frame.height, int(frame.image[0, 0, 0])) == (400, 200, 200)
    assert frame.geometry.to_desktop(Point(399, 199)) == DesktopPoint(-1, 149)
    frame.image[:] = 0  # a grab is a copy: what is shown stays
    assert int(screen.grab(left).image[0, 0, 0]) == 200 and screen.grabs == 2


def test_show_changes_the_next_grab_and_refuses_a_wrong_size(tmp_path: Path) -> None:
    screen = FakeScreen.single(_png(tmp_path / "a.png", 320, 240, 10))
    mon = screen.layout().primary
    assert (mon.width, mon.height, mon.primary) == (320, 240, True)
    screen.show(np.full((240, 320, 3), 99, np.uint8))
    assert int(screen.grab(mon).image[5, 5, 1]) == 99
    with pytest.raises(ValueError, match="needs 320x240"):
        screen.show(_png(tmp_path / "small.png", 100, 100, 0))
    with pytest.raises(ValueError, match="no monitor 7"):
        screen.show(np.zeros((240, 320, 3), np.uint8), 7)
    with pytest.raises(ImageReadError):
        screen.show(tmp_path / "missing.png")
