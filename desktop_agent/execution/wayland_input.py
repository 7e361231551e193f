"""Input on a wlroots Wayland compositor: a virtual pointer (wlr-virtual-pointer-unstable-v1) and a virtual
keyboard (virtual-keyboard-unstable-v1) spoken over pywayland, both kept for the driver's life; the keyboard
types any Unicode text with a keymap of its own (`wayland_keys.py`).

The pointer moves in absolute coordinates over the compositor's whole output layout, the logical space the
layout's monitors are given in (`WlrootsScreen`), so a desktop point lands on the same logical pixel on a
scale-1 and a scale-2 output. pywayland ships no wlr protocols, so the two small interfaces are declared here
from the protocol's definition (requests only: it has no events).
"""

from __future__ import annotations

import os
import time
from typing import Any

from pywayland.protocol.wayland import WlSeat
from pywayland.protocol_core import Argument, ArgumentType, Interface, Proxy

from desktop_agent.capture.wayland import VIRTUAL_KEYBOARD, VIRTUAL_POINTER, WaylandConnection
from desktop_agent.errors import AgentError, NoDisplayError
from desktop_agent.execution.button_pointer import ButtonPointer
from desktop_agent.execution.wayland_keys import (
    BASE_KEYMAP,
    KEY_PRESSED,
    KEY_RELEASED,
    XKB_V1,
    Keymap,
    chord,
    keymap_file,
    keymap_for,
    text_batches,
)
from desktop_agent.geometry import DesktopPoint

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

class WlrootsDriver(ButtonPointer):
    """An `InputDriver` on a wlroots compositor (sway, Hyprland, river, labwc...): a virtual pointer and a
    virtual keyboard kept for the driver's life."""

    KEY_DELAY = 0.004  # between keys, as pyautogui.write's interval

    def __init__(self, connection: WaylandConnection | None = None) -> None:
        self._conn = connection or WaylandConnection()
        if VIRTUAL_POINTER not in self._conn.globals:
            raise NoDisplayError("this Wayland compositor has no wlr-virtual-pointer: it is not wlroots-based "
                                 "(GNOME and KDE go through the desktop portal's remote desktop)")
        if VIRTUAL_KEYBOARD not in self._conn.globals:
            raise NoDisplayError("this Wayland compositor has no virtual-keyboard protocol for typing")
        self._caps = 0  # the seat's capabilities as the compositor last announced them
        with self._conn.lock:
            self._seat = self._conn.bind(WlSeat, 1) if "wl_seat" in self._conn.globals else None
            if self._seat is not None:
                self._seat.dispatcher["capabilities"] = lambda _p, caps: setattr(self, "_caps", caps)
            self._manager = self._conn.bind(ZwlrVirtualPointerManagerV1, 1)
            self._pointer: Any = self._manager.create_virtual_pointer(self._seat)
            # One keyboard for the driver's life (see wayland_keys.py: a keyboard per call loses GTK's keys).
            self._kb_manager: Any = None
            self._keyboard: Any = None
            self._keymap: Keymap | None = None
            if self._seat is not None:
                self._kb_manager = self._conn.bind(ZwpVirtualKeyboardManagerV1, 1)
                self._keyboard = self._kb_manager.create_virtual_keyboard(self._seat)
        if self._keyboard is not None:
            self._use_keymap(BASE_KEYMAP)
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

    def scroll(self, p: DesktopPoint | None, clicks: int) -> None:
        """Positive scrolls up, negative down (Wayland's axis grows downwards). One frame per wheel click, as a
        mouse sends them: toolkits cap what one event may scroll (Qt: a page), so ten clicks in one frame
        scrolled a long list by a page, not by ten clicks' lines."""
        if p is not None:
            self.move(p)
        step = -1 if clicks > 0 else 1
        for _ in range(abs(clicks)):
            with self._conn.lock:
                self._pointer.axis_source(AXIS_SOURCE_WHEEL)
                self._pointer.axis_discrete(self._now(), AXIS_VERTICAL, SCROLL_STEP * step, step)
                self._pointer.frame()
            self._conn.roundtrip()
            time.sleep(self.SETTLE)

    def _use_keymap(self, keymap: Keymap) -> None:
        """Give the keyboard this keymap, unless it has it already."""
        if keymap is self._keymap:
            return
        fd, size = keymap_file(keymap)
        try:
            with self._conn.lock:
                self._keyboard.keymap(XKB_V1, fd, size)
            self._conn.roundtrip()
        finally:
            os.close(fd)
        self._keymap = keymap

    def _tap(self, keysyms: list[str], mods: int = 0) -> None:
        """Press and release each keysym of the current keymap in turn, with `mods` held throughout."""
        if self._keyboard is None or self._keymap is None:
            raise AgentError("the Wayland compositor gave no seat to type on")
        with self._conn.lock:
            self._keyboard.modifiers(mods, 0, 0, 0)
        try:
            for sym in keysyms:
                code = self._keymap.code(sym)
                for state in (KEY_PRESSED, KEY_RELEASED):
                    with self._conn.lock:
                        self._keyboard.key(self._now(), code, state)
                    self._conn.roundtrip()
                    time.sleep(self.KEY_DELAY)
        finally:
            with self._conn.lock:
                self._keyboard.modifiers(0, 0, 0, 0)
            self._conn.roundtrip()
        time.sleep(self.SETTLE)

    def type_text(self, text: str) -> None:
        """Type `text` where the focus is (any Unicode; a newline is Return)."""
        for keymap, keysyms in text_batches(text):
            self._use_keymap(keymap)
            self._tap(keysyms)

    def press(self, keys: list[str]) -> None:
        """Press a key or a chord."""
        mods, keysyms = chord(keys)
        if not keysyms and not mods:
            return
        self._use_keymap(keymap_for(keysyms))
        self._tap(keysyms, mods)

    def close(self) -> None:
        """Remove the virtual pointer and close the connection."""
        try:
            with self._conn.lock:
                self._pointer.destroy()
                self._manager.destroy()
                if self._keyboard is not None:
                    self._keyboard.destroy()
            self._conn.roundtrip()
        except Exception:  # the compositor went away
            pass
        self._conn.close()
