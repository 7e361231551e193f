"""The X11 Unicode typer on a real desktop: the tests' Xvfb with openbox managing a real mousepad (GTK 3).

A keymap change makes every client reload its keymap; openbox re-grabs all its key bindings for each one,
and a click on a window it manages waits in its click-to-focus grab (frozen until openbox lets it through)
until it has caught up. The typer used to make a change per character and one per spare keycode to restore them, so a
click right after typing "Crème brûlée" waited about ten seconds for openbox: lost, as far as the step that
verifies it was concerned."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from desktop_agent.capture.virtual_display import VirtualDisplay, stop_process
from desktop_agent.evaluation.task_env import mapped_windows
from desktop_agent.execution.input_driver import PyAutoGuiDriver
from desktop_agent.execution.unicode_typing import X11KeysymTyper, keysym_for
from desktop_agent.geometry import DesktopPoint
from desktop_agent.grounding.locate import locate_target
from tests.display import TargetApp

pytestmark = pytest.mark.display

WINDOW = (1100, 60, 900, 600)  # where mousepad goes: x, y, width, height on the primary monitor


@dataclass
class Desktop:
    display: str
    home: Path
    env: dict[str, str]


@dataclass
class Mousepad:
    proc: subprocess.Popen[bytes]
    file: Path
    window: int
    box: tuple[int, int, int, int]  # the client window on the desktop: x, y, width, height


def _x() -> Any:
    from Xlib import display

    return display.Display()


def _window_manager_ready(d: Any) -> bool:
    from Xlib import X

    check = d.intern_atom("_NET_SUPPORTING_WM_CHECK")
    try:
        prop = d.screen().root.get_full_property(check, X.AnyPropertyType)
        if prop is None or not prop.value:
            return False
        w = d.create_resource_object("window", int(prop.value[0]))
        own = w.get_full_property(check, X.AnyPropertyType)
        return own is not None and int(own.value[0]) == w.id
    except Exception:
        return False


@pytest.fixture
def desktop(xvfb: VirtualDisplay, tmp_path: Path) -> Iterator[Desktop]:
    """openbox on the tests' display, with a fresh home for it and the apps; stopped afterwards."""
    assert shutil.which("openbox"), "openbox is not installed (scripts/setup.sh --test)"
    home = tmp_path / "home"
    runtime = home / ".runtime"
    runtime.mkdir(parents=True, mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DBUS_", "QT_QPA"))}
    env.update(DISPLAY=xvfb.display, HOME=str(home), XDG_RUNTIME_DIR=str(runtime),
               XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"),
               XDG_CACHE_HOME=str(home / ".cache"), NO_AT_BRIDGE="1", LANG="C.UTF-8", GSETTINGS_BACKEND="memory")
    wm = subprocess.Popen(["openbox", "--sm-disable"], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    d = _x()
    try:
        deadline = time.monotonic() + 15
        while not _window_manager_ready(d):
            assert wm.poll() is None, "openbox exited"
            assert time.monotonic() < deadline, "openbox did not start managing the display"
            time.sleep(0.05)
        yield Desktop(xvfb.display, home, env)
    finally:
        d.close()
        stop_process(wm)


@pytest.fixture
def mousepad(desktop: Desktop) -> Iterator[Mousepad]:
    """mousepad editing an empty notes.txt, placed on the primary monitor and focused."""
    assert shutil.which("mousepad"), "mousepad is not installed (scripts/setup.sh --test)"
    assert shutil.which("xdotool"), "xdotool is not installed (scripts/setup.sh --test)"
    notes = desktop.home / "notes.txt"
    notes.write_text("", encoding="utf-8")
    proc = subprocess.Popen(["mousepad", str(notes)], env=desktop.env, cwd=desktop.home,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        wid = 0
        while not wid:
            wid = next((int(w) for w, title in mapped_windows(desktop.display) if "notes.txt" in title), 0)
            assert proc.poll() is None, "mousepad exited"
            assert time.monotonic() < deadline, "no mousepad window"
            time.sleep(0.1)
        x, y, w, h = WINDOW
        subprocess.run(["xdotool", "windowsize", str(wid), str(w), str(h), "windowmove", str(wid), str(x),
                        str(y)], env=desktop.env, check=True, timeout=10)
        subprocess.run(["xdotool", "windowactivate", "--sync", str(wid)], env=desktop.env, check=False,
                       timeout=10, stderr=subprocess.DEVNULL)
        d = _x()
        try:
            win = d.create_resource_object("window", wid)
            deadline = time.monotonic() + 10
            while True:  # until the window manager has placed it where we asked
                geo, pos = win.get_geometry(), win.translate_coords(d.screen().root, 0, 0)
                box = (-pos.x, -pos.y, int(geo.width), int(geo.height))
                if (box[2], box[3]) == (w, h) and abs(box[0] - x) < 20 and abs(box[1] - y) < 60:
                    break
                assert time.monotonic() < deadline, f"mousepad stays at {box}"
                time.sleep(0.05)
        finally:
            d.close()
        time.sleep(0.8)  # let it paint
        yield Mousepad(proc, notes, wid, box)
    finally:
        stop_process(proc)


def _grab(box: tuple[int, int, int, int]) -> np.ndarray:
    import mss

    x, y, w, h = box
    with mss.MSS() as sct:
        return np.array(sct.grab({"left": x, "top": y, "width": w, "height": h}))[:, :, :3].copy()


def _popups(d: Any) -> set[int]:
    """Mapped override-redirect windows bigger than a tooltip's corner: GTK's menus."""
    from Xlib import X

    out = set()
    for w in d.screen().root.query_tree().children:
        try:
            a, g = w.get_attributes(), w.get_geometry()
        except Exception:
            continue
        if a.override_redirect and a.map_state == X.IsViewable and g.width > 40 and g.height > 40:
            out.add(w.id)
    return out


def _saved(app: Mousepad, driver: PyAutoGuiDriver, want: str, timeout: float = 10.0) -> str:
    """Save with Ctrl+S and return the file once it holds `want` (or whatever it holds at the timeout)."""
    driver.press(["ctrl", "s"])
    deadline = time.monotonic() + timeout
    got = ""
    while time.monotonic() < deadline:
        got = app.file.read_text(encoding="utf-8")
        if got == want:
            break
        time.sleep(0.1)
    return got


class _MappingNotifies:
    """Counts the keymap changes every X client is told about, on a connection of its own."""

    def __init__(self) -> None:
        self._d = _x()
        self._d.sync()

    def count(self) -> int:
        from Xlib import X

        self._d.sync()
        n = 0
        while self._d.pending_events():
            e = self._d.next_event()
            n += e.type == X.MappingNotify and e.request == X.MappingKeyboard
        return n

    def close(self) -> None:
        self._d.close()


def _switch_to_xtest_keyboard(driver: PyAutoGuiDriver) -> None:
    """The server announces a whole new keymap when keys start coming from another device (the first XTEST
    key of a session, or after the physical keyboard): press Shift so that it is not counted as the typer's."""
    driver.press(["shift"])
    time.sleep(0.3)


def _xkb_keymap(display: str) -> str:
    r = subprocess.run(["xkbcomp", "-xkb", display, "-"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_a_click_right_after_typing_non_ascii_opens_the_gtk_menu(mousepad: Mousepad, parser: Any) -> None:
    x0, y0, w, h = mousepad.box
    shot = _grab(mousepad.box)
    menu = locate_target(parser.parse(shot, incremental=False), "File")
    file_menu = DesktopPoint(x0 + round(menu.point.x), y0 + round(menu.point.y))
    assert file_menu.y < y0 + 60, f"'File' found at {file_menu}, not in the menu bar"

    driver = PyAutoGuiDriver()
    d = _x()
    notifies = _MappingNotifies()
    try:
        driver.click(DesktopPoint(x0 + w // 2, y0 + h // 2))  # into the text
        _switch_to_xtest_keyboard(driver)
        before = _popups(d)
        notifies.count()
        t0 = time.monotonic()
        driver.type_text("Crème brûlée")
        typed = time.monotonic() - t0
        driver.click(file_menu)  # at once, as the agent's next step does
        t1 = time.monotonic()
        opened: set[int] = set()
        while not opened and time.monotonic() - t1 < 2.0:
            opened = _popups(d) - before
            time.sleep(0.02)
        waited = time.monotonic() - t1
        changes = notifies.count()
        assert opened, (f"the click on 'File' right after typing opened no menu within 2 s (typing took "
                        f"{typed:.2f} s and made {changes} keymap changes)")
        # One change binds è, û and é to spare keycodes; one puts them back. The ASCII needs none.
        assert changes == 2
        assert driver._unicode.unanswered == 0  # mousepad and openbox both answered
        assert typed < 5.0
        print(f"typing took {typed:.3f} s; the menu opened {waited:.3f} s after the click")

        driver.press(["escape"])
        deadline = time.monotonic() + 2
        while _popups(d) - before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _saved(mousepad, driver, "Crème brûlée") == "Crème brûlée"
    finally:
        notifies.close()
        d.close()
        driver.close()


def test_text_arrives_exactly_and_the_keymap_comes_back_unchanged(mousepad: Mousepad, xvfb: VirtualDisplay) -> None:
    x0, y0, w, h = mousepad.box
    driver = PyAutoGuiDriver()
    typer = X11KeysymTyper()
    notifies = _MappingNotifies()
    keymap_before = _xkb_keymap(xvfb.display)
    core_before = typer.keymap()
    try:
        driver.click(DesktopPoint(x0 + w // 2, y0 + h // 2))
        _switch_to_xtest_keyboard(driver)
        notifies.count()

        # ASCII on two lines, shifted symbols included: all on the keymap's own keys, no keymap change.
        ascii_text = 'Plain ASCII (a+b)*c = {x|y} ~^`"\'\\ <ok>?\n'
        typer.type(ascii_text)
        assert typer.keymap_changes == 0 and notifies.count() == 0

        # More characters missing from the keymap than the longest run of spare keycodes takes in one
        # change, each once: a change per batch, one change back.
        accents = "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞàáâãäåæçèéêëìíîïðñòóõøùúûýþÿ"
        text = f"Grüße aus Köln — 東京 ✓ 😀 Жы\n{accents} end"
        missing = {ch for ch in text if core_before.key_for(keysym_for(ch)) is None}
        run = len(core_before.window(len(missing)))
        assert run < len(missing), "the test wants more characters than one batch takes"
        assert [ch for ch in text if ch in missing] == list(dict.fromkeys(ch for ch in text if ch in missing))
        t0 = time.monotonic()
        typer.type(text)
        print(f"{len(text)} characters ({len(missing)} missing from the keymap) in {time.monotonic() - t0:.3f} s")
        assert typer.keymap_changes == math.ceil(len(missing) / run) + 1
        assert notifies.count() == typer.keymap_changes

        assert typer.unanswered == 0
        assert typer.keymap() == core_before
        assert _xkb_keymap(xvfb.display) == keymap_before
        assert _saved(mousepad, driver, ascii_text + text) == ascii_text + text
    finally:
        notifies.close()
        typer.close()
        driver.close()


def test_qt_answers_the_typers_pings_and_gets_the_exact_text(target_app: TargetApp) -> None:
    """The Qt target app, no window manager: the focus is PointerRoot, so the typer pings the window under
    the pointer; Qt sends its answer for StructureNotify, not SubstructureNotify as GTK does."""
    x1, y1, x2, y2 = target_app.widgets["name"]
    driver = PyAutoGuiDriver()
    typer = X11KeysymTyper()
    try:
        driver.click(DesktopPoint((x1 + x2) // 2, (y1 + y2) // 2))
        time.sleep(0.2)
        text = "Zürich — 東京 ✓ ½"
        typer.type(text)
        assert typer.keymap_changes == 2
        assert typer.unanswered == 0, "a ping to the Qt window (or the window manager's answer) timed out"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            texts = [e["value"] for e in target_app.events("text")]
            if texts and texts[-1] == text:
                break
            time.sleep(0.05)
        assert texts and texts[-1] == text
    finally:
        typer.close()
        driver.close()
