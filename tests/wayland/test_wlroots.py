"""The wlroots backend on a real headless sway: layout and scale from xdg-output, capture through
wlr-screencopy, clicks, drags and scrolls through the virtual pointer, Unicode typing through the virtual
keyboard, on a native Wayland Qt window, on a scale-1 and on a scale-2 output."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pywayland", reason="the wlroots backend needs the Python package pywayland")

from desktop_agent.capture.headless_wayland import HeadlessOutput, HeadlessSway, missing_packages
from desktop_agent.capture.session import default_driver, default_screen, detect_session
from desktop_agent.capture.virtual_display import stop_process
from desktop_agent.capture.wayland import WaylandConnection, WlrootsScreen
from desktop_agent.execution.wayland_input import WlrootsDriver
from desktop_agent.execution.wayland_keys import BASE_KEYMAP, ROOM, chord, keymap_for, text_batches
from desktop_agent.geometry import DesktopPoint
from desktop_agent.perception.parser import ScreenParser
from tests.display import TargetApp
from tests.e2e_helpers import cli
from tests.wayland.conftest import WaylandApp

pytestmark = pytest.mark.timeout(120)

# Where the window goes: on the scale-1 output, and wholly on the scale-2 output (800x600 logical at x=1280).
PLACES = {"scale 1": (100, 60), "scale 2": (1300, 20)}


@pytest.fixture
def screen(wayland_session: HeadlessSway) -> Iterator[WlrootsScreen]:
    s = WlrootsScreen()
    yield s
    s.close()


@pytest.fixture
def driver(wayland_session: HeadlessSway) -> Iterator[WlrootsDriver]:
    d = WlrootsDriver()
    yield d
    d.close()


def test_the_session_picks_wlroots_and_x11_stays_x11(wayland_session: HeadlessSway) -> None:
    session = detect_session()
    assert (session.kind, session.backend, session.missing) == ("wayland", "wlroots", ())
    assert "zwlr_screencopy_manager_v1" in session.compositor_globals
    x11 = detect_session({"DISPLAY": ":99", "XDG_SESSION_TYPE": "x11", "WAYLAND_DISPLAY": str(wayland_session.socket)})
    assert x11.backend == "x11"
    forced = detect_session({**wayland_session.client_env(), "DESKTOP_AGENT_BACKEND": "x11", "DISPLAY": ":99"})
    assert forced.backend == "x11"
    gone = detect_session({"WAYLAND_DISPLAY": "/nonexistent/wayland-9", "DISPLAY": ":99"})
    assert gone.backend == "x11" and gone.missing and "cannot connect" in gone.missing[0]
    screen, driver = default_screen(), default_driver()
    try:
        assert isinstance(screen, WlrootsScreen) and isinstance(driver, WlrootsDriver)
    finally:
        screen.close()
        driver.close()


def test_layout_and_scale_come_from_the_compositor(wayland_session: HeadlessSway, screen: WlrootsScreen) -> None:
    layout = screen.layout()
    got = [(m.name, m.left, m.top, m.width, m.height, m.scale, m.primary) for m in layout.monitors]
    assert got == [("HEADLESS-1", 0, 0, 1280, 800, 1.0, True), ("HEADLESS-2", 1280, 0, 800, 600, 2.0, False)]
    # The same as sway's own report.
    sway = [(o["name"], o["rect"]["x"], o["rect"]["y"], o["rect"]["width"], o["rect"]["height"], o["scale"])
            for o in wayland_session.outputs()]
    assert sway == [g[:6] for g in got]


def test_a_new_output_shows_in_the_layout_at_once() -> None:
    """An output plugged in while a screen is open is in its next layout (its own compositor: sway 1.7 can
    add a headless output but not take one away)."""
    if missing_packages():
        pytest.skip(f"a headless Wayland compositor needs the Debian packages {', '.join(missing_packages())}")
    with HeadlessSway.start([HeadlessOutput(640, 480)]) as sway:
        screen = WlrootsScreen(WaylandConnection(str(sway.socket)))
        try:
            assert [m.name for m in screen.layout().monitors] == ["HEADLESS-1"]
            sway.swaymsg("create_output")
            sway.swaymsg("output", "HEADLESS-2", "mode", "800x600", "scale", "1.25", "position", "0", "480")
            got = [(m.name, m.left, m.top, m.width, m.height, m.scale) for m in screen.layout().monitors]
            assert got == [("HEADLESS-1", 0, 0, 640, 480, 1.0), ("HEADLESS-2", 0, 480, 640, 480, 1.25)]
            frame = screen.grab(screen.layout().monitors[1])
            assert (frame.width, frame.height) == (800, 600)
        finally:
            screen.close()


@pytest.mark.parametrize("place", list(PLACES))
def test_capture_shows_the_app_in_device_pixels(place: str, wayland_app: WaylandApp, screen: WlrootsScreen,
                                                parser: ScreenParser) -> None:
    wayland_app.move_to(*PLACES[place])
    layout = screen.layout()
    save = wayland_app.point("Save")
    monitor = layout.monitor_at(save)
    assert monitor is not None
    frame = screen.grab(monitor)
    assert (frame.width, frame.height) == (round(monitor.width * monitor.scale), round(monitor.height * monitor.scale))
    assert (frame.width, frame.height) == ((1280, 800) if monitor.scale == 1 else (1600, 1200))  # device pixels
    assert frame.geometry.scale_x == monitor.scale
    # The window is there: light pixels inside its box, sway's dark background outside.
    r = wayland_app.window()["rect"]
    tl = frame.geometry.to_image(DesktopPoint(r["x"], r["y"]))
    inside = frame.image[int(tl.y) + 4:int(tl.y) + 40, int(tl.x) + 4:int(tl.x) + 40]
    outside = frame.image[max(int(tl.y) - 12, 0):int(tl.y) - 2, int(tl.x):int(tl.x) + 100]
    assert inside.mean() > 200 and outside.size and outside.mean() < 90
    # OCR reads the button's label where the app put the button, mapped back through the frame's geometry.
    found = [e for e in parser.parse(frame.image, incremental=False).elements if e.text.strip() == "Save"]
    assert found, "OCR did not read Save on the captured output"
    x1, y1, x2, y2 = wayland_app.app.widgets["Save"]
    wx, wy, *_ = wayland_app.app.widgets["window"]
    centre = frame.geometry.to_desktop(found[0].bbox.center)
    assert r["x"] + x1 - wx <= centre.x < r["x"] + x2 - wx and r["y"] + y1 - wy <= centre.y < r["y"] + y2 - wy


@pytest.mark.parametrize("place", list(PLACES))
def test_clicks_land_on_exact_widgets(place: str, wayland_app: WaylandApp, driver: WlrootsDriver) -> None:
    wayland_app.move_to(*PLACES[place])
    driver.click(wayland_app.point("Save"))
    wayland_app.wait_for("clicked", widget="Save")
    # 24-pixel tool buttons side by side: a pixel off in the conversion would hit a neighbour or nothing.
    for icon in ("star", "pause", "trash"):
        driver.click(wayland_app.point(f"icon:{icon}"))
        wayland_app.wait_for("icon_clicked", name=icon)
    assert [e["name"] for e in wayland_app.events("icon_clicked")] == ["star", "pause", "trash"]
    driver.click(wayland_app.point("Remember me", dx=8))  # the box: the row's right part is no button
    wayland_app.wait_for("checked", widget="Remember me", value=True)
    assert not wayland_app.events("clicked")[1:], "a click reached a widget it was not aimed at"


@pytest.mark.parametrize("place", list(PLACES))
def test_unicode_typing_and_keys_arrive(place: str, wayland_app: WaylandApp, driver: WlrootsDriver) -> None:
    wayland_app.move_to(*PLACES[place])
    driver.click(wayland_app.point("name"))
    driver.type_text("héllo ✓")
    wayland_app.wait_for("text", widget="name", value="héllo ✓")
    driver.press(["ctrl", "a"])  # a shortcut: the next text replaces the selection
    driver.type_text("-Ωmega 日本\n")
    wayland_app.wait_for("submitted", widget="name", value="-Ωmega 日本")
    driver.press(["backspace"])
    wayland_app.wait_for("text", widget="name", value="-Ωmega 日")


@pytest.mark.parametrize("place", list(PLACES))
def test_drag_and_scroll(place: str, wayland_app: WaylandApp, driver: WlrootsDriver) -> None:
    wayland_app.move_to(*PLACES[place])
    driver.drag(wayland_app.point("drag_source"), wayland_app.point("drop"))
    wayland_app.wait_for("dropped", source="Drag me", target="Drop here")
    # Three wheel clicks down scroll the list by nine rows (Qt's three a click): its top row is then Item 10.
    driver.scroll(wayland_app.point("list"), -3)
    driver.click(wayland_app.point("list", dx=40, dy=8))
    wayland_app.wait_for("list_clicked", item="Item 10")
    # Ten more, each a wheel click of its own (one event of ten would be capped at a page): 30 rows more.
    driver.scroll(wayland_app.point("list"), -10)
    driver.click(wayland_app.point("list", dx=40, dy=8))
    wayland_app.wait_for("list_clicked", item="Item 40")


def test_pointer_refuses_points_off_the_outputs(wayland_session: HeadlessSway, driver: WlrootsDriver) -> None:
    with pytest.raises(Exception, match="outside the Wayland outputs"):
        driver.move(DesktopPoint(1280 + 800, 10))  # right of the scale-2 output's logical box
    with pytest.raises(Exception, match="outside the Wayland outputs"):
        driver.move(DesktopPoint(100, 800))  # below the first output: the layout's box is not all outputs


def test_keymap_and_chords() -> None:
    assert chord(["ctrl", "shift", "T"]) == (4 | 1, ["U0074"])  # the small letter: Shift is what shifts it
    assert chord(["enter"]) == (0, ["Return"]) and chord(["ctrl", "+"]) == (4, ["U002B"])
    assert chord(["alt", "f4"]) == (8, ["F4"])
    [(keymap, syms)] = text_batches("a\n-b€")
    assert syms == ["U0061", "Return", "U002D", "U0062", "U20AC"] and keymap.keysyms[-1] == "U20AC"
    assert text_batches("plain ASCII only")[0][0] is BASE_KEYMAP  # no keymap change for ASCII
    assert keymap.code("Return") == BASE_KEYMAP.code("Return")  # added keys come after the base ones
    text = BASE_KEYMAP.text()
    assert "xkb_keycodes" in text and "key <K0> {[ Return ]};" in text and "<K0> = 9;" in text
    many = "".join(chr(0x4E00 + i) for i in range(ROOM + 5))  # more new characters than one keymap holds
    batches = text_batches(many)
    assert len(batches) == 2 and sum(len(b[1]) for b in batches) == ROOM + 5
    with pytest.raises(ValueError):
        keymap_for([f"U{0x4E00 + i:04X}" for i in range(ROOM + 1)])


@pytest.mark.skipif(not shutil.which("mousepad"), reason="needs the task suite's mousepad (./scripts/setup.sh --suite)")
def test_keys_reach_a_gtk_app_call_after_call(wayland_session: HeadlessSway, driver: WlrootsDriver,
                                              tmp_path: Path) -> None:
    """GTK 3 lost every key after the first call when each call made a new keyboard (as wtype does): text,
    a shortcut, more text and Ctrl+S, in separate calls, must all reach a real GTK app (mousepad), which saves
    what it got."""
    doc = tmp_path / "note.txt"
    doc.write_text("old\n", encoding="utf-8")
    env = wayland_session.client_env()
    env.update(GDK_BACKEND="wayland", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / ".config"))
    app = subprocess.Popen(["mousepad", str(doc)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not any("note.txt" in str(w.get("name")) for w in wayland_session.windows()):
            assert time.monotonic() < deadline, "mousepad showed no window"
            time.sleep(0.1)
        time.sleep(0.5)
        driver.type_text("first")
        driver.press(["ctrl", "a"])
        driver.type_text("Zürich ✓\nsecond")
        driver.press(["backspace"])
        driver.press(["ctrl", "s"])
        deadline = time.monotonic() + 10
        while doc.read_text(encoding="utf-8") != "Zürich ✓\nsecon":
            assert time.monotonic() < deadline, f"mousepad saved {doc.read_text(encoding='utf-8')!r}"
            time.sleep(0.1)
    finally:
        stop_process(app)


def test_ppm_parsing() -> None:
    from desktop_agent.capture.wayland import parse_ppm

    img = parse_ppm(b"P6\n# grim\n2 1\n255\n" + bytes([255, 0, 0, 0, 0, 255]))
    assert img.shape == (1, 2, 3) and img[0, 0].tolist() == [0, 0, 255] and img[0, 1].tolist() == [255, 0, 0]
    with pytest.raises(ValueError):
        parse_ppm(b"P5\n1 1\n255\n\x00")


@pytest.mark.timeout(300)  # OCR of 1600x1200 frames on a loaded machine: about a minute
def test_desktop_agent_run_on_the_scale_2_output(wayland_app: WaylandApp, home: Path) -> None:
    """The whole chain on Wayland: the CLI picks the wlroots backend, captures device pixels, finds the
    targets by OCR and clicks, types and drags through the compositor's logical layout."""
    wayland_app.move_to(*PLACES["scale 2"])
    task = 'click "Save"; type "Zürich — 東京 ✓" into "Name"; click "Remember me"; drag "Drag me" to "Drop here"'
    r = cli("run", task, "--approve", "auto", home=home, timeout=240)
    got = [e for e in wayland_app.events() if e["event"] != "ready"]
    assert r.returncode == 0, f"{r.stdout}{r.stderr}the app logged: {got}"
    assert [e for e in got if e["event"] == "clicked"] == [{"event": "clicked", "widget": "Save"}]
    assert [e["value"] for e in got if e["event"] == "text"][-1] == "Zürich — 東京 ✓"
    assert {"event": "checked", "widget": "Remember me", "value": True} in got
    assert {"event": "dropped", "source": "Drag me", "target": "Drop here"} in got


def test_sway_tree_windows_and_focus() -> None:
    from desktop_agent.capture.sway_windows import windows_from_tree

    tree = {"type": "root", "nodes": [{"type": "output", "nodes": [{"type": "workspace", "nodes": [
        {"type": "con", "app_id": "editor", "pid": 7, "focused": False, "visible": True,
         "rect": {"x": 0, "y": 0, "width": 640, "height": 800}}],
        "floating_nodes": [{"type": "floating_con", "app_id": "editor", "pid": 7, "focused": True, "visible": True,
                            "rect": {"x": 300, "y": 200, "width": 360, "height": 110}}]}]}]}
    wins = windows_from_tree(tree)
    assert [(w.box.as_list(), w.pid, w.active) for w in wins] == [([0, 0, 640, 800], 7, False),
                                                                  ([300, 200, 660, 310], 7, True)]


@pytest.mark.timeout(300)
def test_the_focused_dialogs_save_is_clicked_on_sway(wayland_session: HeadlessSway, tmp_path: Path,
                                                     home: Path) -> None:
    """As on X11 (tests/agent/test_focused_window.py): sway says which window has the focus, so the modal
    dialog's "Save" is clicked, not the main window's "Save" that also shows."""
    env = wayland_session.client_env()
    env.update(QT_QPA_PLATFORM="wayland", QT_WAYLAND_DISABLE_WINDOWDECORATION="1")
    app = TargetApp.start(tmp_path / "events.jsonl", env, extra=("--dialog", "0,0"))
    try:
        deadline = time.monotonic() + 10
        while not any(w.get("name") == "Unsaved changes" and w.get("focused") for w in wayland_session.windows()):
            assert time.monotonic() < deadline, f"the dialog never had the focus: {wayland_session.windows()}"
            time.sleep(0.1)
        wayland_session.swaymsg('[title="^Target$"]', "move", "absolute", "position", "20", "20")
        time.sleep(0.5)
        r = cli("run", 'click "Save"', "--approve", "auto", home=home, timeout=240)
        got = app.events()
        assert r.returncode == 0, f"{r.stdout}{r.stderr}the app logged: {got}"
        assert {"event": "dialog_clicked", "widget": "Save"} in got
        assert app.events("clicked") == []
    finally:
        app.stop()
