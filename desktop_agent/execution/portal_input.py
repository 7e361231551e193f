"""An `InputDriver` through the desktop portal's RemoteDesktop session (GNOME, KDE Plasma): the pointer placed
in a shared monitor's stream (logical units from the stream's top-left), buttons as evdev codes, the wheel in
discrete steps, keys and text as keysyms (the desktop finds or makes the key that gives each one)."""

from __future__ import annotations

import time

from desktop_agent.capture.portal import PortalSession, release_session, shared_session
from desktop_agent.errors import AgentError
from desktop_agent.execution.button_pointer import ButtonPointer
from desktop_agent.execution.wayland_keys import char_keysym, key_keysym
from desktop_agent.geometry import DesktopPoint

PRESSED, RELEASED = 1, 0  # a key's state in NotifyKeyboardKeysym
AXIS_VERTICAL = 0
# Modifier names -> the left-hand modifier keys' keysyms.
MODIFIER_KEYSYMS = {"shift": 0xFFE1, "ctrl": 0xFFE3, "control": 0xFFE3, "alt": 0xFFE9, "option": 0xFFE9,
                    "super": 0xFFEB, "win": 0xFFEB, "winleft": 0xFFEB, "cmd": 0xFFEB, "command": 0xFFEB,
                    "meta": 0xFFEB, "altgr": 0xFE03}


def keysym_value(name: str) -> int:
    """The number of an XKB keysym name: `U20AC` is a code point (Latin-1 ones are their own keysym, the
    others 0x01000000 plus the code point), anything else is looked up by name (Return, F5, XF86AudioMute)."""
    if len(name) >= 5 and name[0] == "U":
        try:
            cp = int(name[1:], 16)
        except ValueError:
            cp = -1
        if cp >= 0:
            return cp if 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xFF else 0x01000000 + cp
    from Xlib import XK

    value = XK.string_to_keysym(name)
    if not value:
        XK.load_keysym_group("xf86")
        value = XK.string_to_keysym(name)
    if not value:
        raise AgentError(f"unknown key {name!r}")
    return int(value)


class PortalDriver(ButtonPointer):
    """Sends input into the desktop through the portal session the screen shares (one permission for both)."""

    KEY_DELAY = 0.004

    def __init__(self, session: PortalSession | None = None) -> None:
        self._owned = session is None
        self.session = session or shared_session()

    def _stream_at(self, p: DesktopPoint) -> tuple[int, float, float]:
        for s in self.session.streams:
            if s.left <= p.x < s.left + s.width and s.top <= p.y < s.top + s.height:
                # The centre of the logical pixel, clear of rounding to the one before.
                return s.node, p.x - s.left + 0.5, p.y - s.top + 0.5
        boxes = ", ".join(f"{s.width}x{s.height}+{s.left}+{s.top}" for s in self.session.streams)
        raise AgentError(f"({p.x}, {p.y}) lies outside the shared monitors ({boxes})")

    def move(self, p: DesktopPoint) -> None:
        """Put the pointer on `p`."""
        node, x, y = self._stream_at(p)
        self.session.notify("NotifyPointerMotionAbsolute", "udd", node, x, y)

    def _button(self, code: int, pressed: bool) -> None:
        self.session.notify("NotifyPointerButton", "iu", code, 1 if pressed else 0)
        time.sleep(self.SETTLE)

    def scroll(self, p: DesktopPoint | None, clicks: int) -> None:
        """Positive scrolls up, negative down: one wheel step at a time, paced as a wheel sends them."""
        if p is not None:
            self.move(p)
        step = -1 if clicks > 0 else 1
        for _ in range(abs(clicks)):
            self.session.notify("NotifyPointerAxisDiscrete", "ui", AXIS_VERTICAL, step)
            time.sleep(self.SETTLE)

    def _key(self, keysym: int, state: int) -> None:
        self.session.notify("NotifyKeyboardKeysym", "iu", keysym, state)
        time.sleep(self.KEY_DELAY)

    def type_text(self, text: str) -> None:
        """Type `text` where the focus is (any Unicode; a newline is Return)."""
        for ch in text:
            sym = keysym_value(char_keysym(ch))
            self._key(sym, PRESSED)
            self._key(sym, RELEASED)
        time.sleep(self.SETTLE)

    def press(self, keys: list[str]) -> None:
        """Press a key or a chord: its modifiers held while the other keys are tapped."""
        mods = [MODIFIER_KEYSYMS[k.lower()] for k in keys if k.lower() in MODIFIER_KEYSYMS]
        plain = [keysym_value(key_keysym(k)) for k in keys if k.lower() not in MODIFIER_KEYSYMS]
        held: list[int] = []
        try:
            for m in mods:
                self._key(m, PRESSED)
                held.append(m)
            for sym in plain:
                self._key(sym, PRESSED)
                self._key(sym, RELEASED)
        finally:
            for m in reversed(held):
                self._key(m, RELEASED)
        time.sleep(self.SETTLE)

    def close(self) -> None:
        """Give back the portal session (the last holder ends it)."""
        if self._owned:
            release_session(self.session)
