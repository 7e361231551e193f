import pytest

from desktop_agent.errors import MonitorLayoutError
from desktop_agent.geometry import DesktopPoint, FrameGeometry, Monitor, Point, Rect, parse_monitor_spec


def test_pixel_to_desktop_with_offset_left_of_primary() -> None:
    # A monitor whose origin is left of and above the primary (negative on Windows and macOS).
    mon = Monitor(2, -1920, -200, 1920, 1080)
    g = FrameGeometry(mon, 1920, 1080)
    assert g.to_desktop(Point(0, 0)) == DesktopPoint(-1920, -200)
    assert g.to_desktop(Point(1919.6, 1079.9)) == DesktopPoint(-1, 879)
    assert g.to_desktop(Point(960, 540)) == DesktopPoint(-960, 340)


def test_hidpi_scale_two_maps_device_pixels_to_logical_points() -> None:
    mon = Monitor(1, 1440, 0, 1440, 900, scale=2.0)
    g = FrameGeometry(mon, 2880, 1800)  # a Retina capture: device pixels
    assert g.scale_x == g.scale_y == 2.0
    assert g.to_desktop(Point(2000, 100)) == DesktopPoint(1440 + 1000, 50)
    # Round trip lands inside the same desktop unit.
    back = g.to_image(DesktopPoint(2440, 50))
    assert g.to_desktop(back) == DesktopPoint(2440, 50)


def test_fractional_scale_round_trip_every_pixel_of_a_row() -> None:
    mon = Monitor(1, 100, 50, 1280, 720, scale=1.5)
    g = FrameGeometry(mon, 1920, 1080)
    for x in range(0, 1280, 7):
        p = DesktopPoint(100 + x, 60)
        assert g.to_desktop(g.to_image(p)) == p


def test_points_outside_the_frame_are_clamped_to_its_monitor() -> None:
    g = FrameGeometry(Monitor(1, 0, 0, 800, 600), 800, 600)
    assert g.to_desktop(Point(-5, 900)) == DesktopPoint(0, 599)


def test_monitor_spec_parses_offsets_scale_and_primary() -> None:
    layout = parse_monitor_spec("1280x800+1024+0*, 1024x768+0+0, 2880x1800@2-2880-100")
    a, b, c = layout.monitors
    assert (a.left, a.top, a.width, a.height, a.primary) == (1024, 0, 1280, 800, True)
    assert (b.left, b.primary) == (0, False)
    assert (c.left, c.top, c.scale) == (-2880, -100, 2.0)
    assert layout.primary is a
    assert layout.monitor_at(DesktopPoint(10, 10)) is b
    assert layout.monitor_at(DesktopPoint(1100, 10)) is a
    assert layout.bounds() == (-2880, -100, 2304, 1700)


def test_monitor_spec_without_star_makes_the_first_primary() -> None:
    assert parse_monitor_spec("800x600+0+0,800x600+800+0").primary.index == 1


def test_bad_monitor_spec_says_what_is_expected() -> None:
    with pytest.raises(MonitorLayoutError, match="WIDTHxHEIGHT"):
        parse_monitor_spec("1280by800")


def test_rect_operations() -> None:
    a = Rect(0, 0, 10, 10)
    b = Rect(5, 5, 15, 15)
    assert a.intersection(b) == Rect(5, 5, 10, 10)
    assert a.iou(b) == pytest.approx(25 / 175)
    assert a.union(b) == Rect(0, 0, 15, 15)
    assert a.center == Point(5, 5)
    assert Rect(0, 0, 1, 1).intersection(Rect(2, 2, 3, 3)) is None
