"""Global shortcuts on Wayland through the desktop portal's GlobalShortcuts interface (GNOME 48+, KDE Plasma
5.27+/6): the app asks the desktop to bind its combinations, the desktop asks the person to confirm (and may
let them pick other keys), and tells the app over D-Bus when one is pressed (the Activated signal). No Qt
here; callbacks run on this module's thread, as X11Hotkeys' do on theirs.

Compositors whose portal has no GlobalShortcuts (xdg-desktop-portal-wlr: sway, Hyprland, river) bind the
app's commands in their own configuration instead (`desktop-agent app --summon`, `--stop-run`).

Calls follow the portal's documented API (org.freedesktop.portal.GlobalShortcuts version 1): CreateSession,
BindShortcuts with each shortcut's description and preferred trigger in the XDG shortcuts format
("CTRL+ALT+space"), then Activated(session_handle, shortcut_id, timestamp, options).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from desktop_agent.app.hotkeys import HotkeyError, parse_hotkey
from desktop_agent.capture.portal import (
    CALL_TIMEOUT,
    OBJECT_PATH,
    RESPONSE_TIMEOUT,
    _connect,
    _property,
    _token,
    close_session,
    request,
)
from desktop_agent.errors import AgentError

GLOBAL_SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
# X11 modifier masks (parse_hotkey's) as the XDG shortcuts specification names them.
_XDG_MODIFIERS = {"ControlMask": "CTRL", "Mod1Mask": "ALT", "ShiftMask": "SHIFT", "Mod4Mask": "LOGO"}
BIND_COMMANDS = ("bind `desktop-agent app --summon` and `desktop-agent app --stop-run` to keys in the "
                 "desktop's own shortcut settings (README: Wayland)")


def xdg_trigger(spec: str) -> str:
    """"ctrl+alt+space" in the XDG shortcuts format: "CTRL+ALT+space" (modifiers, then the key's keysym name)."""
    mods, key = parse_hotkey(spec)
    return "+".join([*(_XDG_MODIFIERS[m] for m in mods), key])


def portal_shortcuts_offered(environ: Mapping[str, str] | None = None) -> tuple[bool, str]:
    """(whether the session bus has a desktop portal with GlobalShortcuts, why not)."""
    try:
        conn = _connect(environ)
    except AgentError:
        return False, "no D-Bus session bus to reach the desktop's portal"
    try:
        _property(conn, GLOBAL_SHORTCUTS, "version")
    except AgentError as exc:
        return False, f"{exc} (xdg-desktop-portal-wlr, the wlroots portal, has none)"
    finally:
        conn.close()
    return True, ""


class PortalShortcuts:
    """Binds combinations through the desktop portal and calls their callbacks from a background thread when the
    desktop reports them pressed. `start` returns at once: the desktop may first ask the person to confirm;
    `on_error` and `on_bound` (set before `start`) hear how that went, from the background thread."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        offered, why = portal_shortcuts_offered(environ)
        if not offered:
            raise HotkeyError(f"no global shortcuts through the desktop portal ({why}): {BIND_COMMANDS}")
        self._environ = environ
        self._shortcuts: list[tuple[str, str, str]] = []  # (id, description, XDG trigger)
        self._handlers: dict[str, Callable[[], None]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: Any = None
        self.handle = ""
        self.bound: dict[str, str] = {}  # shortcut id -> the trigger the desktop reports ("" if none given)
        self.on_error: Callable[[str], None] | None = None
        self.on_bound: Callable[[dict[str, str]], None] | None = None

    def register(self, spec: str, callback: Callable[[], None], name: str = "", description: str = "") -> None:
        """Ask for `spec` (e.g. "ctrl+alt+space") as the shortcut `name` (stable across starts: desktops
        remember the person's choice by it) and call `callback` when it is pressed. Before `start` only."""
        if self._thread is not None:
            raise HotkeyError("register the shortcuts before start")
        shortcut_id = name or f"shortcut-{len(self._shortcuts) + 1}"
        if shortcut_id in self._handlers:
            raise HotkeyError(f"the shortcut {shortcut_id!r} is registered twice")
        self._shortcuts.append((shortcut_id, description or shortcut_id, xdg_trigger(spec)))
        self._handlers[shortcut_id] = callback

    def start(self) -> None:
        """Bind the shortcuts and listen for them, on a background thread."""
        self._thread = threading.Thread(target=self._run, name="portal-shortcuts", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from jeepney import MatchRule
        from jeepney.bus_messages import message_bus

        # Listening from before the binding: a press right after the desktop's answer is not lost.
        rule = MatchRule(type="signal", interface=GLOBAL_SHORTCUTS, member="Activated", path=OBJECT_PATH)
        try:
            self._conn = _connect(self._environ)
            self._conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT)
            with self._conn.filter(rule, bufsize=16) as queue:
                self._bind()
                if self.on_bound is not None:
                    self.on_bound(dict(self.bound))
                self._listen(queue)
        except (AgentError, HotkeyError) as exc:
            self._failed(str(exc))
        except Exception as exc:  # the bus went away: the shortcuts are gone, which the app says
            self._failed(f"the desktop portal's shortcuts stopped: {exc}")

    def _failed(self, why: str) -> None:
        if self.on_error is not None and not self._stop.is_set():
            self.on_error(why)

    def _bind(self) -> None:
        """CreateSession, then BindShortcuts (the desktop may ask the person to confirm, or to choose keys)."""
        declined = "the shortcuts were not allowed on the desktop's dialog"
        created = request(self._conn, GLOBAL_SHORTCUTS, "CreateSession", "a{sv}",
                          lambda opts: (opts | {"session_handle_token": ("s", _token())},), declined, CALL_TIMEOUT,
                          HotkeyError)
        self.handle = str(created["session_handle"][1])
        shortcuts = [(sid, {"description": ("s", words), "preferred_trigger": ("s", trigger)})
                     for sid, words, trigger in self._shortcuts]
        bound = request(self._conn, GLOBAL_SHORTCUTS, "BindShortcuts", "oa(sa{sv})sa{sv}",
                        lambda opts: (self.handle, shortcuts, "", opts), declined, RESPONSE_TIMEOUT, HotkeyError)
        answer = bound.get("shortcuts", ("a(sa{sv})", []))[1]
        self.bound = {str(sid): str(props.get("trigger_description", ("s", ""))[1]) for sid, props in answer}
        if not self.bound:
            raise HotkeyError(f"the desktop bound none of the shortcuts: {BIND_COMMANDS}")

    def _listen(self, queue: Any) -> None:
        while not self._stop.is_set():
            try:
                signal = self._conn.recv_until_filtered(queue, timeout=0.2)
            except TimeoutError:
                continue
            session, shortcut_id = signal.body[0], signal.body[1]
            handler = self._handlers.get(str(shortcut_id))
            if str(session) == self.handle and handler is not None:
                handler()

    def stop(self) -> None:
        """Stop listening, end the portal session (the desktop releases the shortcuts) and close the connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._conn is None:
            return
        close_session(self._conn, self.handle)
        self.handle = ""
