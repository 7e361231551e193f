"""The app under Qt's high-DPI scaling, as a person runs it on a 150% or 200% desktop, on one monitor and on two
of different scales: the overlay's frame lies on the exact target on the X server, and the captures the agent
records blank exactly the app's windows (none of the target app).

QT_SCALE_FACTOR must be set before a QApplication exists, so the app runs in its own process
(tests/app/hidpi_app.py) on a display of the test's own; the X server's window geometry, its pixels and the
recorded captures are read from outside."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import mss
import numpy as np
import pytest
from Xlib import display as xdisplay

from desktop_agent.app.qt_approval import OVERLAY_COLOUR, frame_edges
from desktop_agent.capture.masked import MASK_COLOUR
from desktop_agent.capture.monitor_display import MonitorDisplay, dummy_available
from desktop_agent.capture.virtual_display import VirtualDisplay
from desktop_agent.geometry import (
    DesktopPoint,
    DesktopRect,
    LogicalLayout,
    LogicalRect,
    LogicalScreen,
    parse_monitor_spec,
)
from desktop_agent.runs.store import RunStore
from tests.display import TargetApp

ROOT = Path(__file__).resolve().parents[2]
TASK = 'click "Remember me"'  # a checkbox: its 16 px glyph beside the label the click goes to
OVERLAY_BGR = np.array([OVERLAY_COLOUR.blue(), OVERLAY_COLOUR.green(), OVERLAY_COLOUR.red()], np.uint8)


# -- the conversion itself (no display) ---------------------------------------------------------------------
def test_logical_geometry_maps_as_qt_places_windows() -> None:
    """The numbers Qt 6 gave on a real X server: (101, 33, 33x17) at 1.5 is (152, 50, 50x26) on screen; a
    second screen at 2 keeps its origin (1280) and scales about it."""
    one = LogicalLayout((LogicalScreen(0, 0, 1536, 533, 1.5),))
    assert one.to_desktop(LogicalRect(101, 33, 33, 17)) == DesktopRect(152, 50, 202, 76)
    assert one.to_desktop(LogicalRect(1300, 10, 51, 51)) == DesktopRect(1950, 15, 2027, 92)
    two = LogicalLayout((LogicalScreen(0, 0, 1280, 800, 1.0), LogicalScreen(1280, 0, 512, 384, 2.0)))
    assert two.to_desktop(LogicalRect(1300, 10, 51, 51)) == DesktopRect(1320, 20, 1422, 122)
    assert two.to_desktop(LogicalRect(700, 50, 201, 101)) == DesktopRect(700, 50, 901, 151)
    # And back: the logical geometry whose window covers a desktop box, on the screen that shows it.
    for layout in (one, two):
        for box in (DesktopRect(152, 50, 202, 76), DesktopRect(1400, 100, 1500, 130), DesktopRect(1320, 20, 1422, 122)):
            back = layout.to_desktop(layout.from_desktop(box))
            assert max(abs(a - b) for a, b in zip(back.as_list(), box.as_list(), strict=True)) <= 1, (box, back)
    assert two.point_from_desktop(DesktopPoint(1480, 300)) == (1380, 150)
    assert two.screen_for_desktop(-5, 10).x == 0  # off every screen: the nearest


# -- the real app at a scale, on a real display -------------------------------------------------------------
@dataclass
class Desk:
    display: str
    env: dict[str, str]  # for the app: its display and its scaling
    plain_env: dict[str, str]  # for the target app: its display, unscaled
    target_at: str  # where the target app's main window goes (desktop coordinates)
    timeline: tuple[int, int, int, int]  # the app's timeline, in the app's logical units


def _xvfb_desk(scale: float) -> tuple[VirtualDisplay, Desk]:
    server = VirtualDisplay.start("2560x1600")  # the laptop panel
    base = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    plain = dict(base, DISPLAY=server.display, QT_QPA_PLATFORM="xcb", DESKTOP_AGENT_MONITORS="2560x1600+0+0*")
    env = dict(plain, QT_SCALE_FACTOR=f"{scale:g}")
    # The timeline on the right half of the screen (device pixels 1400.. at any scale), clear of the target app.
    tl = (round(1400 / scale), round(60 / scale), round(1000 / scale), round(1300 / scale))
    return server, Desk(server.display, env, plain, "60,60", tl)


TWO = "1280x1024+0+0*,1600x1200+1280+0"  # the primary on the left at 200%, the other at 150%


def _two_monitor_desk() -> tuple[MonitorDisplay, Desk]:
    server = MonitorDisplay.start(parse_monitor_spec(TWO))
    base = {k: v for k, v in os.environ.items() if not k.startswith("QT_") and k != "DESKTOP_AGENT_MONITORS"}
    plain = dict(base, DISPLAY=server.display, QT_QPA_PLATFORM="xcb")
    env = dict(plain, QT_SCREEN_SCALE_FACTORS="DUMMY0=2;DUMMY1=1.5")
    # The target app and the timeline on the 150% monitor (its logical origin is its desktop origin, 1280);
    # the approval panel on the 200% primary.
    tl = (1280 + round((2160 - 1280) / 1.5), round(40 / 1.5), round(700 / 1.5), round(1100 / 1.5))
    return server, Desk(server.display, env, plain, "1380,100", tl)


@pytest.fixture(params=["1", "1.5", "2", "two-monitors-2-and-1.5"])
def desk(request: pytest.FixtureRequest) -> Iterator[Desk]:
    if request.param.startswith("two"):
        if not dummy_available():
            pytest.skip("needs Xorg's dummy driver (xserver-xorg-video-dummy) for two RandR monitors")
        server: VirtualDisplay | MonitorDisplay
        server, d = _two_monitor_desk()
    else:
        server, d = _xvfb_desk(float(request.param))
    try:
        yield d
    finally:
        server.stop()


@pytest.fixture
def scaled_target(desk: Desk, tmp_path: Path) -> Iterator[TargetApp]:
    app = TargetApp.start(tmp_path / "events.jsonl", desk.plain_env, main=desk.target_at)
    yield app
    app.stop()


def x11_rect(d: Any, wid: int) -> DesktopRect:
    """Where the X server shows a window: the ground truth, independent of Qt."""
    win = d.create_resource_object("window", wid)
    g = win.get_geometry()
    t = win.translate_coords(d.screen().root, 0, 0)
    return DesktopRect.from_xywh(-t.x, -t.y, g.width, g.height)


def close(a: DesktopRect, b: DesktopRect, tol: int = 1) -> bool:
    return max(abs(x - y) for x, y in zip(a.as_list(), b.as_list(), strict=True)) <= tol


@dataclass
class Seen:
    asked: dict[str, Any]
    finished: dict[str, Any]
    shot: np.ndarray  # the whole X screen while the step waited (BGR)
    windows: dict[str, DesktopRect]  # the app's windows as the X server had them then
    overlay: list[DesktopRect]


def run_app(desk: Desk, home: Path, tmp_path: Path) -> Seen:
    """Run TASK in the scaled app; while the step waits, read the X server; then approve in the panel."""
    err = (tmp_path / "app.stderr").open("w")
    x, y, w, h = desk.timeline
    env = dict(desk.env, DESKTOP_AGENT_HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "tests.app.hidpi_app", str(home), TASK, "--timeline",
                             f"{x},{y},{w},{h}"], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=err, text=True)
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None and proc.stdin is not None
    out = proc.stdout

    def read_stdout() -> None:
        for ln in out:
            lines.put(ln)

    threading.Thread(target=read_stdout, daemon=True).start()

    def next_event(kind: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = json.loads(lines.get(timeout=0.5))
            except queue.Empty:
                if proc.poll() is not None:
                    break
                continue
            if event["event"] == kind:
                return event
            if event["event"] == "finished":
                break
        err.flush()
        raise AssertionError(f"no {kind!r} from the app: {(tmp_path / 'app.stderr').read_text()[-2000:]}")

    try:
        asked = next_event("asked")
        time.sleep(0.4)  # the frame's edges painted
        d = xdisplay.Display(desk.display)
        try:
            windows = {k: x11_rect(d, wid) for k, wid in asked["windows"].items()}
            overlay = [x11_rect(d, wid) for wid in asked["overlay"]]
        finally:
            d.close()
        with mss.MSS(display=desk.display) as sct:
            shot = np.array(sct.grab(sct.monitors[0]))[:, :, :3].copy()
        proc.stdin.write("approve\n")
        proc.stdin.flush()
        finished = next_event("finished")
        proc.wait(timeout=30)
        return Seen(asked, finished, shot, windows, overlay)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        err.close()


def test_the_frame_and_the_masks_land_where_the_x_server_shows_things(desk: Desk, scaled_target: TargetApp,
                                                                      home: Path, tmp_path: Path) -> None:
    seen = run_app(desk, home, tmp_path)
    box, point = DesktopRect(*seen.asked["box"]), DesktopPoint(*seen.asked["desktop"])

    # The overlay frames the box the click goes to: the input point is in it, and it is on the checkbox the
    # target app reports (its own geometry, unscaled), not at twice or two thirds of its coordinates.
    assert box.contains(point), (box, point)
    cx1, cy1, cx2, cy2 = scaled_target.widgets["Remember me"]
    assert cx1 - 6 <= box.left and box.right <= cx2 + 6 and cy1 - 6 <= box.top and box.bottom <= cy2 + 6, (
        box, scaled_target.widgets["Remember me"])  # (a detected glyph's box may stand out a few pixels)
    edges = frame_edges(box)
    for got, want in zip(seen.overlay, edges, strict=True):
        assert close(got, want), (got, want)  # each edge window, as the X server placed it
    # On the screen: the frame's magenta is all around the box, there and nowhere else.
    outer = DesktopRect(edges[0].left, edges[0].top, edges[1].right, edges[1].bottom)
    magenta = np.all(seen.shot == OVERLAY_BGR, axis=2)
    for w in seen.windows.values():  # the panel's and timeline's shots of the target have boxes in that colour
        magenta[max(0, w.top):w.bottom, max(0, w.left):w.right] = False
    ys, xs = np.nonzero(magenta)
    assert len(xs) > 0, "no overlay frame on the screen"
    assert close(DesktopRect(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1), outer)
    hole = seen.shot[box.top:box.bottom, box.left:box.right]
    assert not np.all(hole == OVERLAY_BGR, axis=2).any()

    # The app blanks exactly its windows: the regions it masks are where the X server shows them.
    regions = [DesktopRect(*r) for r in seen.asked["regions"]]
    for name, rect in seen.windows.items():
        assert any(close(r, rect) for r in regions), (name, rect, regions)

    # The run: the click toggled the checkbox, at the point the frame showed.
    assert seen.finished["status"] == "succeeded", seen.finished
    assert [e["value"] for e in scaled_target.events("checked")] == [True]
    store = RunStore(home)
    step = store.steps(seen.finished["run_id"])[0]
    assert step.target is not None and step.target["desktop"] == [point.x, point.y]
    screens = {s["index"]: s for s in store.get_run(seen.finished["run_id"]).screens}
    mon = screens[step.target["monitor"]]
    store.close()

    # In the recorded captures: the app's windows are grey, all of them, and nothing else is, the target app
    # least. (The panel comes up after the capture the step was found in, and is gone before the next.)
    screen = DesktopRect.from_xywh(mon["left"], mon["top"], mon["width"], mon["height"])
    blank = np.zeros((mon["height"], mon["width"]), bool)
    for name, rect in seen.windows.items():
        t = rect.intersection(screen)
        if name != "panel" and t is not None:
            blank[t.top - mon["top"]:t.bottom - mon["top"], t.left - mon["left"]:t.right - mon["left"]] = True
    assert blank.sum() > 100_000  # the timeline at least: the check below is about something
    panel = seen.windows.get("panel")
    for path in (step.before_path, step.after_path):
        img = cv2.imread(str(home / str(path)))
        assert img is not None and img.shape[:2] == blank.shape
        grey = np.all(img == np.array(MASK_COLOUR, np.uint8), axis=2)
        assert grey[blank].all(), f"{path}: part of the app's timeline is not blanked"
        stray = grey & ~blank
        if panel is not None:  # the panel may or may not have been up at this capture: either is right
            p = panel.intersection(DesktopRect.from_xywh(mon["left"], mon["top"], mon["width"], mon["height"]))
            if p is not None:
                stray[p.top - mon["top"]:p.bottom - mon["top"], p.left - mon["left"]:p.right - mon["left"]] = False
        # A few lone pixels of the target app may be that grey by chance; a blanked patch is a solid block.
        solid = cv2.erode(stray.astype(np.uint8), np.ones((6, 6), np.uint8))
        assert not solid.any() and stray.sum() < 300, f"{path}: {int(stray.sum())} px blanked outside the app"
