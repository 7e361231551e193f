"""Global hotkeys on X11: the key combination is grabbed on the root window (XGrabKey), so only our
combinations reach us, whatever window has focus. No Qt here; callbacks run on the hotkey thread.

On Wayland an app cannot grab keys: `session_hotkeys` picks the desktop portal's GlobalShortcuts there
(`portal_shortcuts.py`, GNOME 48+, KDE Plasma 5.27+), and where the portal has none (wlroots compositors) says
so: the desktop's own key bindings then run `desktop-agent app --summon` and `--stop-run` (`instance.py`).

(pynput would also do this, but its Linux install pulls evdev, which compiles against kernel headers,
and it listens to every key through XRecord instead of grabbing only ours.)
"""

from __future__ import annotations

import os
import select
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

_MODIFIERS = {"ctrl": "ControlMask", "control": "ControlMask", "alt": "Mod1Mask", "shift": "ShiftMask",
              "super": "Mod4Mask", "win": "Mod4Mask", "meta": "Mod4Mask"}
_KEYS = {"esc": "Escape", "escape": "Escape", "enter": "Return", "return": "Return", "space": "space",
         "tab": "Tab", "pause": "Pause", "backspace": "BackSpace", "delete": "Delete"}


class HotkeyError(Exception):
    """A hotkey cannot be parsed or grabbed (no X display, unknown key, taken by another program)."""

    pass


class Hotkeys(Protocol):
    """What the app needs of a hotkey backend (X11Hotkeys, PortalShortcuts)."""

    def register(self, spec: str, callback: Callable[[], None], name: str = "", description: str = "") -> None:
        """Ask for `spec` as the shortcut `name`; `callback` runs (on a background thread) when it is pressed."""

    def start(self) -> None:
        """Start listening on a background thread."""

    def stop(self) -> None:
        """Stop listening and release the keys."""


def wayland_session(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this is a Wayland session (even for an app that runs under XWayland, whose X11 key grabs would
    only see keys while an X11 window has the focus)."""
    from desktop_agent.capture.session import session_kind

    return session_kind(os.environ if environ is None else environ)[0] == "wayland"


def session_hotkeys(environ: Mapping[str, str] | None = None) -> Hotkeys:
    """The session's hotkeys: X11 grabs in an X11 session, the desktop portal's GlobalShortcuts on Wayland;
    HotkeyError, with what to do instead, where neither is possible."""
    if sys.platform.startswith("linux") and wayland_session(environ):
        from desktop_agent.app.portal_shortcuts import PortalShortcuts

        return PortalShortcuts(environ)
    return X11Hotkeys()


def hotkey_support(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(how global hotkeys work in this session, what is missing), without binding anything (for doctor)."""
    if not sys.platform.startswith("linux"):
        return "none", "global hotkeys are implemented for X11 and the Wayland desktop portal only"
    if not wayland_session(environ):
        return "x11", ""
    from desktop_agent.app.portal_shortcuts import BIND_COMMANDS, portal_shortcuts_offered

    offered, why = portal_shortcuts_offered(environ)
    return ("portal", "") if offered else ("none", f"{why}: {BIND_COMMANDS}")


def parse_hotkey(spec: str) -> tuple[list[str], str]:
    """"ctrl+alt+space" -> (["ControlMask", "Mod1Mask"], "space")."""
    parts = [p.strip().lower() for p in spec.split("+") if p.strip()]
    if not parts:
        raise HotkeyError("empty hotkey")
    *mods, key = parts
    bad = [m for m in mods if m not in _MODIFIERS]
    if bad:
        raise HotkeyError(f"unknown modifier {bad[0]!r} in {spec!r}: use ctrl, alt, shift or super")
    if key in _KEYS:
        keyname = _KEYS[key]
    elif key[0] == "f" and key[1:].isdigit():
        keyname = key.upper()  # F1..F24
    else:
        keyname = key if len(key) == 1 else key.capitalize()  # keysym names: "a", "Home", "Insert"
    return [_MODIFIERS[m] for m in mods], keyname


class X11Hotkeys:
    """Grabs combinations on the X root window and calls their callbacks from a background thread."""

    def __init__(self) -> None:
        if not sys.platform.startswith("linux"):
            raise HotkeyError("global hotkeys are implemented for X11 only")
        from Xlib import display as xdisplay

        try:
            self._d = xdisplay.Display()
        except Exception as exc:
            raise HotkeyError(f"no X display for hotkeys: {exc}") from None
        self._root = self._d.screen().root
        self._handlers: dict[tuple[int, int], Callable[[], None]] = {}
        self._grabs: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def register(self, spec: str, callback: Callable[[], None], name: str = "", description: str = "") -> None:
        """Grab `spec` (e.g. "ctrl+alt+space") and call `callback` when it is pressed (`name` and
        `description` are for the portal's shortcuts; X11 needs neither)."""
        from Xlib import XK, X
        from Xlib import error as xerror

        mods, keyname = parse_hotkey(spec)
        keysym = XK.string_to_keysym(keyname)
        keycode = self._d.keysym_to_keycode(keysym) if keysym else 0
        if not keycode:
            raise HotkeyError(f"no key {keyname!r} on this keyboard ({spec!r})")
        mask = 0
        for m in mods:
            mask |= getattr(X, m)
        catcher = xerror.CatchError(xerror.BadAccess)
        # Grab with and without NumLock (Mod2) and CapsLock (Lock), which X counts as modifiers.
        for extra in (0, X.Mod2Mask, X.LockMask, X.Mod2Mask | X.LockMask):
            self._root.grab_key(keycode, mask | extra, True, X.GrabModeAsync, X.GrabModeAsync, onerror=catcher)
            self._grabs.append((keycode, mask | extra))
        self._d.sync()
        if catcher.get_error():
            raise HotkeyError(f"{spec} is already taken by another program; choose another in Settings")
        self._handlers[(keycode, mask)] = callback

    def start(self) -> None:
        """Start listening for the grabbed hotkeys on a background thread."""
        self._thread = threading.Thread(target=self._loop, name="hotkeys", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        from Xlib import X

        ignore = ~(X.Mod2Mask | X.LockMask)
        while not self._stop.is_set():
            ready, _, _ = select.select([self._d.fileno()], [], [], 0.2)
            if not ready:
                continue
            while self._d.pending_events():
                ev: Any = self._d.next_event()
                if ev.type == X.KeyPress:
                    cb = self._handlers.get((ev.detail, ev.state & ignore & 0xFF))
                    if cb is not None:
                        cb()

    def stop(self) -> None:
        """Stop listening and release the grabs."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        try:
            for keycode, mask in self._grabs:
                self._root.ungrab_key(keycode, mask)
            self._d.sync()
            self._d.close()
        except Exception:  # the display may be gone already
            pass
