"""Keys and text on a wlroots compositor through one virtual keyboard (virtual-keyboard-unstable-v1) kept for
the driver's life, with a keymap of our own.

Why not a new keyboard per call (as wtype makes): GTK 3 clients on sway take the keys of the first such
keyboard and lose every key of the later ones (seen with mousepad and GTK's file chooser: `ctrl+a`, Return
and later text never arrived, while Qt clients got them). One keyboard whose keymap changes only when a text
needs a character it lacks keeps every client's keyboard state valid.

The keymap (XKB text format, as the protocol takes it) gives one keycode per keysym: the named keys a script
can press (Return, Tab, arrows, F1-F24, ...) and every printable ASCII character, plus, per text, the other
characters it holds. A character's keysym is written by its code point (`U20AC`), which XKB resolves to the
legacy keysym where one exists (`U0061` is `a`), so shortcuts match as on a real keyboard. Modifiers are
sent as modifier state (Control, Shift, Mod1 = Alt, Mod4 = Super, Mod5 = AltGr), not as keys."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

XKB_V1 = 1  # wl_keyboard.keymap_format.xkb_v1
KEY_PRESSED, KEY_RELEASED = 1, 0
MIN_KEYCODE, MAX_KEYCODE = 8, 255  # XKB keycodes; the protocol takes evdev codes (XKB - 8)

# pyautogui-style key names (what scripts and planners give) -> XKB keysym names.
NAMED_KEYS = {
    "enter": "Return", "return": "Return", "tab": "Tab", "esc": "Escape", "escape": "Escape", "space": "space",
    "backspace": "BackSpace", "delete": "Delete", "del": "Delete", "insert": "Insert", "home": "Home",
    "end": "End", "pageup": "Prior", "pagedown": "Next", "pgup": "Prior", "pgdn": "Next", "up": "Up",
    "down": "Down", "left": "Left", "right": "Right", "capslock": "Caps_Lock", "printscreen": "Print",
    "menu": "Menu", "apps": "Menu", "numlock": "Num_Lock", "scrolllock": "Scroll_Lock", "pause": "Pause",
    **{f"f{i}": f"F{i}" for i in range(1, 25)},
}
# Modifier names -> the real modifier's bit in the keymap's modifier state.
MODIFIER_BITS = {"shift": 1, "ctrl": 4, "control": 4, "alt": 8, "option": 8, "super": 64, "win": 64, "winleft": 64,
                 "cmd": 64, "command": 64, "meta": 64, "altgr": 128}
ASCII = [chr(c) for c in range(0x20, 0x7F)]


def char_keysym(ch: str) -> str:
    """The keysym name of a character: a newline is Return, a tab Tab, anything else its code point."""
    if ch == "\n":
        return "Return"
    if ch == "\t":
        return "Tab"
    return f"U{ord(ch):04X}"


def key_keysym(key: str) -> str:
    """The keysym name of a key a script presses: a named key, one character, or an XKB keysym name as given."""
    low = key.lower()
    if low in NAMED_KEYS:
        return NAMED_KEYS[low]
    if len(key) == 1:
        return char_keysym(low if key.isascii() and key.isalpha() else key)  # Shift is what shifts a letter
    return key  # an XKB keysym name such as XF86AudioMute


BASE_KEYSYMS = tuple(dict.fromkeys([*NAMED_KEYS.values(), *(char_keysym(c) for c in ASCII)]))
ROOM = MAX_KEYCODE - MIN_KEYCODE - len(BASE_KEYSYMS)  # keycodes left for a text's other characters


@dataclass(frozen=True)
class Keymap:
    """Keysyms on keycodes, in order: keysym i (from 0) is on evdev code i + 1 (XKB keycode i + 9)."""

    keysyms: tuple[str, ...]

    def code(self, keysym: str) -> int:
        """The evdev code of a keysym of this keymap."""
        return self.keysyms.index(keysym) + 1

    def text(self) -> str:
        """The keymap in XKB's text format."""
        codes = "".join(f"<K{i}> = {i + MIN_KEYCODE + 1};\n" for i in range(len(self.keysyms)))
        syms = "".join(f"key <K{i}> {{[ {k} ]}};\n" for i, k in enumerate(self.keysyms))
        return (f'xkb_keymap {{\nxkb_keycodes "agent" {{\nminimum = {MIN_KEYCODE};\nmaximum = {MAX_KEYCODE};\n'
                f'{codes}}};\nxkb_types "agent" {{ include "complete" }};\n'
                f'xkb_compatibility "agent" {{ include "complete" }};\nxkb_symbols "agent" {{\n{syms}}};\n}};\n')


BASE_KEYMAP = Keymap(BASE_KEYSYMS)


def keymap_for(keysyms: list[str]) -> Keymap:
    """The base keymap, with the keysyms it lacks among `keysyms` added (at most ROOM of them)."""
    extra = [k for k in dict.fromkeys(keysyms) if k not in BASE_KEYSYMS]
    if len(extra) > ROOM:
        raise ValueError(f"{len(extra)} keysyms do not fit one keymap ({ROOM} at most)")
    return Keymap(BASE_KEYSYMS + tuple(extra)) if extra else BASE_KEYMAP


def text_batches(text: str) -> list[tuple[Keymap, list[str]]]:
    """`text` as keysyms in batches that each fit one keymap (one batch unless it holds over ROOM characters
    beyond ASCII), each with its keymap."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    batches: list[tuple[Keymap, list[str]]] = []
    current: list[str] = []
    extra: set[str] = set()
    for ch in text:
        sym = char_keysym(ch)
        if sym not in BASE_KEYSYMS and sym not in extra:
            if len(extra) == ROOM:
                batches.append((keymap_for(current), current))
                current, extra = [], set()
            extra.add(sym)
        current.append(sym)
    if current:
        batches.append((keymap_for(current), current))
    return batches


def chord(keys: list[str]) -> tuple[int, list[str]]:
    """(modifier state, the keysyms to tap while it holds) of a key or chord such as ["ctrl", "shift", "t"]."""
    mods = 0
    plain = []
    for k in keys:
        bit = MODIFIER_BITS.get(k.lower())
        if bit is None:
            plain.append(key_keysym(k))
        else:
            mods |= bit
    return mods, plain


def keymap_file(keymap: Keymap) -> tuple[int, int]:
    """A file descriptor holding the keymap's text (NUL-terminated, as the protocol wants) and its size. The
    caller closes the descriptor once it is sent."""
    data = keymap.text().encode("ascii") + b"\0"
    fd, path = tempfile.mkstemp(prefix="desktop-agent-keymap-")
    try:
        os.unlink(path)
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd, len(data)
