"""Input on a wlroots Wayland compositor: a virtual pointer (wlr-virtual-pointer-unstable-v1) spoken over
pywayland, and a virtual keyboard (virtual-keyboard-unstable-v1) through wtype, which types any Unicode text.

The pointer moves in absolute coordinates over the compositor's whole output layout, the logical space the
layout's monitors are given in (`WlrootsScreen`), so a desktop point lands on the same logical pixel on a
scale-1 and a scale-2 output. pywayland ships no wlr protocols, so the two small interfaces are declared here
from the protocol's definition (requests only: it has no events).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from typing import Any

from pywayland.protocol.wayland import WlSeat
from pywayland.protocol_core import Argument, ArgumentType, Interface, Proxy

from desktop_agent.capture.wayland import VIRTUAL_KEYBOARD, VIRTUAL_POINTER, WaylandConnection
from desktop_agent.errors import AgentError, NoDisplayError
from desktop_agent.geometry import DesktopPoint

BTN_LEFT, BTN_RIGHT, BTN_MIDDLE = 0x110, 0x111, 0x112  # linux/input-event-codes.h
_BUTTONS = {"left": BTN_LEFT, "right": BTN_RIGHT, "middle": BTN_MIDDLE}
AXIS_VERTICAL = 0
AXIS_SOURCE_WHEEL = 0
SCROLL_STEP = 15.0  # the scroll distance of one wheel click, as libinput reports it
SEAT_POINTER_AND_KEYBOARD = 1 | 2  # wl_seat.capability


class ZwlrVirtualPointerV1(Interface):
    """A virtual pointer device (wlr-virtual-pointer-unstable-v1)."""

    name = "zwlr_virtual_pointer_v1"
    version = 2


class ZwlrVirtualPointerManagerV1(Interface):
    """The factory of virtual pointers."""

    name = "zwlr_virtual_pointer_manager_v1"
    version = 2


class ZwlrVirtualPointerV1Proxy(Proxy[ZwlrVirtualPointerV1]):
    """Requests of a wlroots virtual pointer."""

    interface = ZwlrVirtualPointerV1

    @ZwlrVirtualPointerV1.request(Argument(ArgumentType.Uint), Argument(ArgumentType.Fixed),
                                  Argument(ArgumentType.Fixed))
    def motion(self, time: int, dx: float, dy: float) -> None:
        """Move by (dx, dy)."""
        self._marshal(0, time, dx, dy)

    @ZwlrVirtualPointerV1.request(Argument(ArgumentType.Uint), Argument(ArgumentType.Uint), Argument(ArgumentType.Uint),
                                  Argument(ArgumentType.Uint), Argument(ArgumentType.Uint))
    def motion_absolute(self, time: int, x: int, y: int, x_extent: int, y_extent: int) -> None:
        """Move to (x / x_extent, y / y_extent) of the box around all outputs."""
        self._marshal(1, time, x, y, x_extent, y_extent)

    @ZwlrVirtualPointerV1.request(Argument(ArgumentType.Uint), Argument(ArgumentType.Uint),
                                  Argument(ArgumentType.Uint))
    def button(self, time: int, button: int, state: int) -> None:
        """Press (state 1) or release (0) a button (a Linux input event code)."""
        self._marshal(2, time, button, state)

    @ZwlrVirtualPointerV1.request(Argument(ArgumentType.Uint), Argument(ArgumentType.Uint),
                                  Argument(ArgumentType.Fixed))
    def axis(self, time: int, axis: int, value: float) -> None:
        """Send a scroll axis event."""
        self._marshal(3, time, axis, value)

    @ZwlrVirtualPointerV1.request()
    def frame(self) -> None:
        """End a group of events that belong together."""
        self._marshal(4)

    @ZwlrVirtualPointerV1.request(Argument(ArgumentType.Uint))
    def axis_source(self, axis_source: int) -> None:
        """Say what the scroll comes from."""
        self._marshal(5, axis_source)

    @ZwlrVirtualPointerV1.request(Argument(ArgumentType.Uint), Argument(ArgumentType.Uint))
    def axis_stop(self, time: int, axis: int) -> None:
        """End a scroll."""
        self._marshal(6, time, axis)

    @ZwlrVirtualPointerV1.request(Argument(ArgumentType.Uint), Argument(ArgumentType.Uint),
                                  Argument(ArgumentType.Fixed), Argument(ArgumentType.Int))
    def axis_discrete(self, time: int, axis: int, value: float, discrete: int) -> None:
        """Send a scroll in wheel steps."""
        self._marshal(7, time, axis, value, discrete)

    @ZwlrVirtualPointerV1.request()
    def destroy(self) -> None:
        """Destroy the pointer."""
        self._marshal(8)
        self._destroy()


class ZwlrVirtualPointerManagerV1Proxy(Proxy[ZwlrVirtualPointerManagerV1]):
    """Requests of the wlroots virtual pointer manager."""

    interface = ZwlrVirtualPointerManagerV1

    @ZwlrVirtualPointerManagerV1.request(Argument(ArgumentType.Object, interface=WlSeat, nullable=True),
                                         Argument(ArgumentType.NewId, interface=ZwlrVirtualPointerV1))
    def create_virtual_pointer(self, seat: Any) -> ZwlrVirtualPointerV1Proxy:
        """A new pointer device on `seat` (None: the compositor's default seat)."""
        proxy: ZwlrVirtualPointerV1Proxy = self._marshal_constructor(0, ZwlrVirtualPointerV1, seat)
        return proxy

    @ZwlrVirtualPointerManagerV1.request()
    def destroy(self) -> None:
        """Destroy the manager."""
        self._marshal(1)
        self._destroy()


class ZwpVirtualKeyboardV1(Interface):
    """A virtual keyboard device (virtual-keyboard-unstable-v1)."""

    name = "zwp_virtual_keyboard_v1"
    version = 1


class ZwpVirtualKeyboardManagerV1(Interface):
    """The factory of virtual keyboards."""

    name = "zwp_virtual_keyboard_manager_v1"
    version = 1


class ZwpVirtualKeyboardV1Proxy(Proxy[ZwpVirtualKeyboardV1]):
    """Requests of a virtual keyboard."""

    interface = ZwpVirtualKeyboardV1

    @ZwpVirtualKeyboardV1.request(Argument(ArgumentType.Uint), Argument(ArgumentType.FileDescriptor),
                                  Argument(ArgumentType.Uint))
    def keymap(self, format: int, fd: int, size: int) -> None:
        """Send the keyboard's keymap."""
        self._marshal(0, format, fd, size)

    @ZwpVirtualKeyboardV1.request(Argument(ArgumentType.Uint), Argument(ArgumentType.Uint),
                                  Argument(ArgumentType.Uint))
    def key(self, time: int, key: int, state: int) -> None:
        """Send a key press or release."""
        self._marshal(1, time, key, state)

    @ZwpVirtualKeyboardV1.request(Argument(ArgumentType.Uint), Argument(ArgumentType.Uint),
                                  Argument(ArgumentType.Uint), Argument(ArgumentType.Uint))
    def modifiers(self, mods_depressed: int, mods_latched: int, mods_locked: int, group: int) -> None:
        """Send the modifier state."""
        self._marshal(2, mods_depressed, mods_latched, mods_locked, group)

    @ZwpVirtualKeyboardV1.request()
    def destroy(self) -> None:
        """Destroy the keyboard."""
        self._marshal(3)
        self._destroy()


class ZwpVirtualKeyboardManagerV1Proxy(Proxy[ZwpVirtualKeyboardManagerV1]):
    """Requests of the virtual keyboard manager."""

    interface = ZwpVirtualKeyboardManagerV1

    @ZwpVirtualKeyboardManagerV1.request(Argument(ArgumentType.Object, interface=WlSeat),
                                         Argument(ArgumentType.NewId, interface=ZwpVirtualKeyboardV1))
    def create_virtual_keyboard(self, seat: Any) -> ZwpVirtualKeyboardV1Proxy:
        """A new keyboard device on `seat`."""
        proxy: ZwpVirtualKeyboardV1Proxy = self._marshal_constructor(0, ZwpVirtualKeyboardV1, seat)
        return proxy


ZwlrVirtualPointerV1._gen_c()
ZwlrVirtualPointerV1.proxy_class = ZwlrVirtualPointerV1Proxy
ZwlrVirtualPointerManagerV1._gen_c()
ZwlrVirtualPointerManagerV1.proxy_class = ZwlrVirtualPointerManagerV1Proxy
ZwpVirtualKeyboardV1._gen_c()
ZwpVirtualKeyboardV1.proxy_class = ZwpVirtualKeyboardV1Proxy
ZwpVirtualKeyboardManagerV1._gen_c()
ZwpVirtualKeyboardManagerV1.proxy_class = ZwpVirtualKeyboardManagerV1Proxy

# pyautogui-style key names (what scripts and planners give) -> XKB keysym names (what wtype takes).
_KEYSYMS = {
    "enter": "Return", "return": "Return", "tab": "Tab", "esc": "Escape", "escape": "Escape", "space": "space",
    "backspace": "BackSpace", "delete": "Delete", "del": "Delete", "insert": "Insert", "home": "Home",
    "end": "End", "pageup": "Prior", "pagedown": "Next", "pgup": "Prior", "pgdn": "Next", "up": "Up",
    "down": "Down", "left": "Left", "right": "Right", "capslock": "Caps_Lock", "printscreen": "Print",
    "menu": "Menu", "apps": "Menu", "numlock": "Num_Lock", "scrolllock": "Scroll_Lock", "pause": "Pause",
    **{f"f{i}": f"F{i}" for i in range(1, 25)},
}
# wtype's modifier names (-M/-m).
_MODIFIERS = {"ctrl": "ctrl", "control": "ctrl", "shift": "shift", "alt": "alt", "option": "alt",
              "super": "logo", "win": "logo", "winleft": "logo", "cmd": "logo", "command": "logo",
              "meta": "logo", "altgr": "altgr"}


def wtype_args(keys: list[str]) -> list[str]:
    """wtype's arguments that hold the modifiers among `keys`, tap the other keys, and release them."""
    mods = [_MODIFIERS[k.lower()] for k in keys if k.lower() in _MODIFIERS]
    plain = [k for k in keys if k.lower() not in _MODIFIERS]
    args: list[str] = []
    for m in mods:
        args += ["-M", m]
    for k in plain:
        low = k.lower()
        if low in _KEYSYMS:
            args += ["-k", _KEYSYMS[low]]
        elif len(k) == 1:
            # A character: its own keysym (wtype binds it); a letter stays small so Shift is what shifts it.
            args += ["-k", low] if k.isascii() and k.isalnum() else [k]
        else:
            args += ["-k", k]  # an XKB keysym name such as XF86AudioMute
    for m in reversed(mods):
        args += ["-m", m]
    return args


def text_args(text: str) -> list[str]:
    """wtype's arguments that type `text`, with newlines pressed as Return (wtype's own would be Linefeed) and
    a leading minus pressed as a key."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    args: list[str] = []
    for i, line in enumerate(text.split("\n")):
        if i:
            args += ["-k", "Return"]
        while line.startswith("-"):  # wtype would read it as an option, and after `--` everything is text
            args += ["-k", "minus"]
            line = line[1:]
        if line:
            args.append(line)
    return args


class WlrootsDriver:
    """An `InputDriver` on a wlroots compositor (sway, Hyprland, river, labwc...): a virtual pointer kept
    for the driver's life, and wtype's virtual keyboard for typing and keys."""

    SETTLE = 0.03  # after a press or release: the client reads it before the next one
    KEY_DELAY_MS = 4  # between wtype's keys, as pyautogui.write's interval

    def __init__(self, connection: WaylandConnection | None = None) -> None:
        self._conn = connection or WaylandConnection()
        if VIRTUAL_POINTER not in self._conn.globals:
            raise NoDisplayError("this Wayland compositor has no wlr-virtual-pointer: it is not wlroots-based "
                                 "(GNOME and KDE need the remote-desktop portal, not supported yet)")
        if VIRTUAL_KEYBOARD not in self._conn.globals:
            raise NoDisplayError("this Wayland compositor has no virtual-keyboard protocol for typing")
        wtype = shutil.which("wtype")
        if wtype is None:
            raise NoDisplayError("wtype is not installed: it types on wlroots compositors (Debian package wtype)")
        self._wtype = wtype
        self._caps = 0  # the seat's capabilities as the compositor last announced them
        with self._conn.lock:
            self._seat = self._conn.bind(WlSeat, 1) if "wl_seat" in self._conn.globals else None
            if self._seat is not None:
                self._seat.dispatcher["capabilities"] = lambda _p, caps: setattr(self, "_caps", caps)
            self._manager = self._conn.bind(ZwlrVirtualPointerManagerV1, 1)
            self._pointer: Any = self._manager.create_virtual_pointer(self._seat)
            # A keyboard that stays while the driver lives and types nothing: with it the seat keeps its
            # keyboard, so clients keep theirs bound and focused, and the first keys of each wtype (a new
            # keyboard every time) are not lost while a client binds a keyboard only then.
            self._kb_manager: Any = None
            self._holder: Any = None
            if self._seat is not None:
                self._kb_manager = self._conn.bind(ZwpVirtualKeyboardManagerV1, 1)
                self._holder = self._kb_manager.create_virtual_keyboard(self._seat)
        self._conn.roundtrip()
        if self._seat is not None:
            # The compositor announces the seat's new pointer and keyboard to every client at once: once this
            # connection has heard it, the others have been told; they bind theirs when they read it.
            deadline = time.monotonic() + 2.0
            while self._caps & SEAT_POINTER_AND_KEYBOARD != SEAT_POINTER_AND_KEYBOARD and time.monotonic() < deadline:
                self._conn.roundtrip()
                time.sleep(0.01)
            time.sleep(0.1)

    @staticmethod
    def _now() -> int:
        return int(time.monotonic() * 1000) & 0xFFFFFFFF

    def move(self, p: DesktopPoint) -> None:
        """Put the pointer on the centre of the logical pixel `p` of the compositor's layout."""
        outputs = self._conn.outputs()
        if not outputs:
            raise AgentError("the Wayland compositor reports no enabled output to point at")
        if not any(o.left <= p.x < o.left + o.width and o.top <= p.y < o.top + o.height for o in outputs):
            boxes = ", ".join(f"{o.name} {o.width}x{o.height}+{o.left}+{o.top}" for o in outputs)
            raise AgentError(f"({p.x}, {p.y}) lies outside the Wayland outputs ({boxes})")
        # Absolute motion spans the box around all outputs.
        left, top = min(o.left for o in outputs), min(o.top for o in outputs)
        width = max(o.left + o.width for o in outputs) - left
        height = max(o.top + o.height for o in outputs) - top
        with self._conn.lock:
            # Twice the resolution: the pointer lands mid-pixel, clear of rounding to the pixel before.
            self._pointer.motion_absolute(self._now(), 2 * (p.x - left) + 1, 2 * (p.y - top) + 1,
                                          2 * width, 2 * height)
            self._pointer.frame()
        self._conn.roundtrip()

    def _button(self, button: int, pressed: bool) -> None:
        with self._conn.lock:
            self._pointer.button(self._now(), button, 1 if pressed else 0)
            self._pointer.frame()
        self._conn.roundtrip()
        time.sleep(self.SETTLE)

    def click(self, p: DesktopPoint, button: str = "left", count: int = 1) -> None:
        """Click at `p`."""
        code = _BUTTONS.get(button)
        if code is None:
            raise AgentError(f"unknown mouse button {button!r}: left, right or middle")
        self.move(p)
        time.sleep(self.SETTLE)  # the client sees the pointer enter before the press
        for _ in range(count):
            self._button(code, True)
            self._button(code, False)

    def drag(self, src: DesktopPoint, dst: DesktopPoint) -> None:
        """Drag from `src` to `dst` with the left button held."""
        self.move(src)
        time.sleep(self.SETTLE)
        self._button(BTN_LEFT, True)
        try:
            # Move in steps: toolkits start a drag only after the pointer travels with the button held.
            steps = 12
            for i in range(1, steps + 1):
                self.move(DesktopPoint(src.x + (dst.x - src.x) * i // steps, src.y + (dst.y - src.y) * i // steps))
                time.sleep(0.03)
        finally:
            self._button(BTN_LEFT, False)

    def scroll(self, p: DesktopPoint | None, clicks: int) -> None:
        """Positive scrolls up, negative down (Wayland's axis grows downwards)."""
        if p is not None:
            self.move(p)
        if not clicks:
            return
        with self._conn.lock:
            self._pointer.axis_source(AXIS_SOURCE_WHEEL)
            self._pointer.axis_discrete(self._now(), AXIS_VERTICAL, -SCROLL_STEP * clicks, -clicks)
            self._pointer.frame()
        self._conn.roundtrip()
        time.sleep(self.SETTLE)

    def _run_wtype(self, args: list[str]) -> None:
        env = dict(os.environ, WAYLAND_DISPLAY=self._conn.socket or "")
        try:
            done = subprocess.run([self._wtype, "-d", str(self.KEY_DELAY_MS), *args], env=env,
                                  capture_output=True, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            raise AgentError("typing through wtype took over 60 s") from None
        if done.returncode != 0:
            why = " ".join(done.stderr.decode(errors="replace").split())[:200]
            raise AgentError(f"wtype failed: {why or f'exit {done.returncode}'}")
        time.sleep(self.SETTLE)

    def type_text(self, text: str) -> None:
        """Type `text` where the focus is."""
        args = text_args(text)
        if args:
            self._run_wtype(args)

    def press(self, keys: list[str]) -> None:
        """Press a key or a chord."""
        if keys:
            self._run_wtype(wtype_args(keys))

    def close(self) -> None:
        """Remove the virtual pointer and close the connection."""
        try:
            with self._conn.lock:
                self._pointer.destroy()
                self._manager.destroy()
                if self._holder is not None:
                    self._holder.destroy()
            self._conn.roundtrip()
        except Exception:  # the compositor went away
            pass
        self._conn.close()
