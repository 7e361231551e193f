"""The accessibility tree fused with the pixels, on real applications: a GTK 3 editor (Geany) and a Qt 5
editor (FeatherPad) side by side on a display of this module's own, with a private session bus and AT-SPI
bus. Their icon-only toolbar buttons are found by their accessible names through the agent (the real CLI,
planning and locating, sending nothing), and a button another window covers is not offered."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mss
import numpy as np
import pytest

from desktop_agent.capture.virtual_display import VirtualDisplay, stop_process
from desktop_agent.errors import TargetNotFound
from desktop_agent.geometry import DesktopPoint, FrameGeometry, Monitor
from desktop_agent.grounding.locate import locate_target
from desktop_agent.perception.accessibility import A11yNode, A11ySnapshot
from desktop_agent.perception.accessibility.atspi import AtspiSource
from desktop_agent.perception.accessibility.atspi_bus import BUS_LAUNCHER, PrivateAtspiBus
from desktop_agent.perception.accessibility.fusion import fuse_elements, tree_view
from desktop_agent.perception.accessibility.reader import TreeRead, TreeReader
from desktop_agent.perception.accessibility.x_windows import stacked_windows
from desktop_agent.perception.elements import Element, ParseResult
from desktop_agent.perception.parser import ScreenParser
from desktop_agent.runs.store import RunStore
from tests.e2e_helpers import cli

W, H = 1600, 900
MONITOR = Monitor(1, 0, 0, W, H, 1.0, True, "test")
APPS = {"geany": ["geany"], "featherpad": ["featherpad", "--standalone"]}
# Toolbar buttons that show only a glyph: what the agent looks for by name, per app (toolkit).
ICON_BUTTONS = [("geany", "Revert"), ("FeatherPad", "Jump to")]

pytestmark = [
    pytest.mark.display,
    pytest.mark.skipif(not (all(shutil.which(c[0]) for c in APPS.values()) and shutil.which("xmessage")
                            and shutil.which("xdotool") and os.path.exists(BUS_LAUNCHER)),
                       reason="needs geany, featherpad, xmessage, xdotool and at-spi2-core"),
]


@dataclass
class Desktop:
    display: VirtualDisplay
    env: dict[str, str]
    address: str


def _snapshot(source: AtspiSource, apps: set[str], timeout: float = 30.0) -> A11ySnapshot:
    deadline = time.monotonic() + timeout
    while True:
        snap = source.read(budget_s=3.0)
        if apps <= {w.app for w in snap.windows if w.box is not None} or time.monotonic() > deadline:
            return snap
        time.sleep(0.3)


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    display = VirtualDisplay.start(f"{W}x{H}")
    started: list[subprocess.Popen[bytes]] = []
    bus = None
    try:
        bus = PrivateAtspiBus.start(display.display)
        home = tmp_path_factory.mktemp("fusion-home")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DBUS_", "QT_", "AT_SPI"))}
        env.pop("NO_AT_BRIDGE", None)
        env.update(bus.env(), HOME=str(home), LANG="C.UTF-8", GSETTINGS_BACKEND="memory",
                   QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1", QT_QPA_PLATFORM="xcb", DESKTOP_AGENT_MONITORS=f"{W}x{H}+0+0*")
        started.append(subprocess.Popen(["openbox", "--sm-disable"], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
        time.sleep(0.5)
        for cmd in APPS.values():
            started.append(subprocess.Popen(cmd, env=env, cwd=home, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))
        address = bus.address()
        assert address is not None
        source = AtspiSource(bus_address=address)
        try:
            _snapshot(source, {"geany", "FeatherPad"})
        finally:
            source.close()
        # Side by side, apart: Geany on the left, FeatherPad on the right.
        for cls, (x, w, h) in {"geany": (0, 900, 640), "featherpad": (930, 660, 520)}.items():
            subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--class", cls, "windowsize", "%@",
                            str(w), str(h), "windowmove", "%@", str(x), "0"], env=env, check=True, timeout=20)
        time.sleep(1.5)
        yield Desktop(display, env, address)
    finally:
        for proc in reversed(started):
            stop_process(proc)
        if bus is not None:
            bus.stop()
        display.stop()


def _capture(desktop: Desktop) -> tuple[np.ndarray, FrameGeometry]:
    with mss.MSS(display=desktop.display.display) as sct:
        shot = np.asarray(sct.grab({"left": 0, "top": 0, "width": W, "height": H}))
    return np.ascontiguousarray(shot[:, :, :3]), FrameGeometry(MONITOR, W, H)


@dataclass
class Looked:
    vision: ParseResult  # the pixels alone
    fused: ParseResult  # the pixels and the tree
    read: TreeRead
    image: np.ndarray
    geometry: FrameGeometry


def _look(desktop: Desktop, parser: ScreenParser) -> Looked:
    """The screen parsed by vision alone and fused with the tree, and the tree as read."""
    reader = TreeReader(AtspiSource(bus_address=desktop.address), budget_s=1.0,
                        windows=lambda: stacked_windows(desktop.display.display))
    try:
        read = reader.read()
        assert read is not None and read.windows, "the tree and the stacking order were read"
        image, geometry = _capture(desktop)
        vision = parser.parse(image, incremental=False)
        fused = parser.parse(image, incremental=False, tree=read.view(geometry))
        return Looked(vision, fused, read, image, geometry)
    finally:
        reader.close()


def _button(snap: A11ySnapshot, app: str, name: str) -> A11yNode:
    found = [n for n in snap.find(name, "push button") if n.app == app and n.box is not None]
    assert len(found) == 1, f"{app} has one push button {name!r} in its tree"
    return found[0]


def _located(parsed: ParseResult, name: str) -> Element | None:
    try:
        return locate_target(parsed, name).element
    except TargetNotFound:
        return None


def _lands_in(parsed: ParseResult, name: str, node: A11yNode) -> bool:
    try:
        res = locate_target(parsed, name)
    except TargetNotFound:
        return False
    assert node.box is not None
    return node.box.contains(DesktopPoint(int(res.point.x), int(res.point.y)))


@pytest.mark.parametrize(("app", "name"), ICON_BUTTONS)
def test_an_icon_only_button_is_found_by_its_accessible_name(desktop: Desktop, parser: ScreenParser, app: str,
                                                             name: str, tmp_path: Path) -> None:
    looked = _look(desktop, parser)
    vision, fused = looked.vision, looked.fused
    node = _button(looked.read.snapshot, app, name)
    assert node.box is not None
    # The pixels alone carry no such name: the button shows a glyph only (at best an icon's likely meaning).
    assert not any(name.casefold() in e.text.casefold() for e in vision.elements)
    element = next(e for e in fused.elements if e.text == name)
    assert element.role == "push button" and element.origin in ("both", "accessibility")
    assert _lands_in(fused, name, node)
    assert fused.accessibility is not None and fused.accessibility["complete"]

    # Through the agent: the real CLI plans and locates the step on the live screen and sends nothing.
    home = tmp_path / "home"
    r = cli("run", f'click "{name}"', "--approve", "auto", "--dry-run", home=home, env_extra=desktop.env, timeout=240)
    store = RunStore(home)
    try:
        run = store.list_runs(1)[0]
        step = store.steps(run.id)[0]
    finally:
        store.close()
    assert step.target, r.stdout + r.stderr
    x, y = step.target["desktop"]
    assert node.box.contains(DesktopPoint(x, y)), (step.target, node.box)
    assert step.target["element"]["text"] == name and step.target["element"]["role"] == "push button"


@pytest.mark.parametrize(("app", "name"), ICON_BUTTONS)
def test_a_button_behind_another_window_is_not_offered(desktop: Desktop, parser: ScreenParser, app: str,
                                                       name: str) -> None:
    before = _look(desktop, parser)
    node = _button(before.read.snapshot, app, name)
    assert node.box is not None
    assert _lands_in(before.fused, name, node)  # seen, it is found
    b = node.box
    cover = subprocess.Popen(["xmessage", "-geometry", f"{b.width + 40}x{b.height + 40}+{b.left - 20}+{b.top - 20}",
                              "covering"], env=desktop.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not [w for w in stacked_windows(desktop.display.display) or []
                   if not w.popup and w.pid != node.window.pid and w.box.intersection(b) == b]:
            assert time.monotonic() < deadline, (
                f"no window over the button {b}: {stacked_windows(desktop.display.display)}")
            time.sleep(0.1)
        time.sleep(0.5)
        after = _look(desktop, parser)
    finally:
        stop_process(cover)
    # The toolkit still says the button is showing, in the same place: only the stacking order tells.
    hidden = _button(after.read.snapshot, app, name)
    assert hidden.states.showing and hidden.box == node.box
    at = node.box.to_image(after.geometry)
    assert not any(e.text == name or (e.role and e.bbox.iou(at) > 0.5) for e in after.fused.elements)
    found = _located(after.fused, name)
    assert found is None or (found.text.casefold() != name.casefold() and found.role != "push button"), found
    assert after.fused.accessibility is not None and after.fused.accessibility["hidden"] >= 1
    # Taken for the windows of before the cover came, the same tree would offer it there: the stacking
    # order is what keeps it out.
    stale = after.read.snapshot, before.read.windows, after.geometry
    offered, _ = fuse_elements(after.vision.elements, tree_view(*stale), after.image)
    assert any(e.role == "push button" and e.bbox.iou(at) > 0.5 for e in offered)
