"""Icon crops and their preprocessing, and icons named by meaning on a real rendered screen (a style the
icon model never saw: glyphs drawn by the test app, and the Qt style's own media icons)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from desktop_agent.capture.screen import MssScreen
from desktop_agent.errors import TargetNotFound
from desktop_agent.geometry import Rect
from desktop_agent.grounding.locate import locate_target
from desktop_agent.perception.icons import framed_glyph, preprocess_icon
from tests.display import TargetApp


def _glyph(dark_on_light: bool) -> np.ndarray:
    img = np.full((30, 30, 3), 245 if dark_on_light else 30, np.uint8)
    cv2.circle(img, (15, 15), 8, (20, 20, 20) if dark_on_light else (235, 235, 235), 2)
    cv2.line(img, (15, 3), (15, 27), (20, 20, 20) if dark_on_light else (235, 235, 235), 2)
    return img


def test_a_hovered_tool_buttons_frame_is_not_read_as_the_icon() -> None:
    img = np.full((40, 40, 3), 239, np.uint8)
    cv2.rectangle(img, (8, 8), (31, 31), (171, 171, 171), 1)  # the hover frame, 24 px
    cv2.rectangle(img, (9, 9), (30, 30), (254, 254, 254), -1)  # its lighter fill
    cv2.circle(img, (20, 20), 6, (30, 30, 30), -1)  # the glyph, 13 px
    assert framed_glyph(img, Rect(8, 8, 32, 32)) == Rect(14, 14, 27, 27)
    # A box already tight to a glyph, or a plain background, has no frame to look inside.
    assert framed_glyph(img, Rect(14, 14, 27, 27)) is None
    assert framed_glyph(np.full((40, 40, 3), 239, np.uint8), Rect(8, 8, 32, 32)) is None


def test_preprocessing_ignores_theme_and_margin() -> None:
    a = preprocess_icon(_glyph(True))
    b = preprocess_icon(_glyph(False))
    c = preprocess_icon(cv2.copyMakeBorder(_glyph(True), 9, 3, 5, 11, cv2.BORDER_CONSTANT, value=(245, 245, 245)))
    assert a is not None and b is not None and c is not None
    assert a.shape == (32, 32)
    assert np.abs(a - b).mean() < 0.05 and np.abs(a - c).mean() < 0.05


def test_a_blank_crop_has_no_icon() -> None:
    assert preprocess_icon(np.full((20, 20, 3), 128, np.uint8)) is None


@pytest.mark.display
def test_icons_on_a_real_screen_are_named_and_clickable(target_app: TargetApp, parser, home: Path) -> None:  # type: ignore[no-untyped-def]
    screen = MssScreen()
    mon = screen.layout().primary
    parsed = parser.parse(screen.grab(mon).image, incremental=False)
    clicked = []
    for instruction, widget in (("the star icon", "icon:star"), ("Play", "icon:play"),
                                ("the Pause button", "icon:pause")):
        try:
            res = locate_target(parsed, instruction)
        except TargetNotFound:
            continue  # abstaining is allowed (the calibration keeps wrong clicks rare); a wrong click is not
        x1, y1, x2, y2 = target_app.widgets[widget]
        assert x1 <= res.point.x + mon.left < x2 and y1 <= res.point.y + mon.top < y2, instruction
        clicked.append(widget)
    assert "icon:star" in clicked

    from tests.e2e_helpers import cli

    r = cli("run", "click the star icon", "--approve", "auto", home=home)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [e["name"] for e in target_app.events("icon_clicked")] == ["star"]
