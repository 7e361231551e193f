"""The capture path on real RandR monitors: an Xorg server (dummy driver) with two outputs, the primary at an
offset right of the second, read by `MssScreen` through RandR 1.5 (no declared layout), and captures that
show each monitor's own pixels."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from desktop_agent.capture.monitor_display import MonitorDisplay, dummy_available
from desktop_agent.capture.screen import MONITORS_ENV, MssScreen
from desktop_agent.errors import MonitorLayoutError
from desktop_agent.geometry import DesktopPoint, Point, parse_monitor_spec

LAYOUT = "1280x800+1024+0*,1024x768+0+0"  # the primary right of the second monitor, as in the task suite

pytestmark = pytest.mark.skipif(not dummy_available(), reason="needs Xorg's dummy driver (xserver-xorg-video-dummy)")


@pytest.fixture
def randr_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with MonitorDisplay.start(parse_monitor_spec(LAYOUT)) as server:
        monkeypatch.setenv("DISPLAY", server.display)
        monkeypatch.delenv(MONITORS_ENV, raising=False)
        yield server.display


def test_mss_screen_reads_the_servers_randr_monitors_and_captures_each(randr_display: str) -> None:
    screen = MssScreen()
    layout = screen.layout()
    got = sorted((m.left, m.top, m.width, m.height, m.primary) for m in layout.monitors)
    assert got == [(0, 0, 1024, 768, False), (1024, 0, 1280, 800, True)]
    assert layout.primary.left == 1024 and {m.name for m in layout.monitors} == {"DUMMY0", "DUMMY1"}
    left = next(m for m in layout.monitors if m.left == 0)

    from Xlib import display as xdisplay

    d = xdisplay.Display(randr_display)
    red = d.screen().default_colormap.alloc_color(65535, 0, 0).pixel
    win = d.screen().root.create_window(1100, 200, 100, 60, 0, d.screen().root_depth, background_pixel=red,
                                        override_redirect=True)
    win.map()
    d.sync()
    time.sleep(0.3)
    try:
        primary, second = screen.grab(layout.primary), screen.grab(left)
    finally:
        d.close()
    assert primary.image.shape[:2] == (800, 1280) and second.image.shape[:2] == (768, 1024)

    def red_box(image: np.ndarray) -> list[int] | None:
        ys, xs = np.nonzero((image[:, :, 2] > 200) & (image[:, :, 1] < 50) & (image[:, :, 0] < 50))
        return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1] if len(xs) else None

    # Desktop (1100, 200) is 76 px into the primary monitor, which starts at 1024; the left one shows none of it.
    assert red_box(primary.image) == [76, 200, 176, 260]
    assert red_box(second.image) is None
    assert primary.geometry.to_desktop(Point(76, 200)) == DesktopPoint(1100, 200)


def test_a_layout_x11_cannot_have_is_refused_before_a_server_starts() -> None:
    with pytest.raises(MonitorLayoutError, match="start at 0,0"):
        MonitorDisplay.start(parse_monitor_spec("1280x800-1024+0*,1024x768+0+0"))
