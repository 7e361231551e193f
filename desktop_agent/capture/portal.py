"""The xdg-desktop-portal backend (GNOME, KDE Plasma and any desktop whose portal offers RemoteDesktop with
ScreenCast): one remote-desktop session that holds the screen cast of every monitor and the pointer and
keyboard, asked for once.

The first time, the desktop asks the person which screens to share and whether to allow control (its own
dialog; nothing is sent before they agree). The portal then gives a restore token, kept in the data folder
(`portal-restore-token`, readable by the user alone): later runs hand it back and the desktop restores the
same choice without asking, until the person revokes it in the desktop's settings. The token names a
permission the desktop already holds for this app; it is not a password, and it is never printed.

Frames come over PipeWire: for each monitor's stream a `gst-launch-1.0` process (GStreamer's `pipewiresrc`,
Debian packages gstreamer1.0-pipewire and gstreamer1.0-tools) writes raw BGRx frames into a pipe this
process reads (`pipewire_frames.py`). Input goes through the portal's Notify* calls (`execution/
portal_input.py`): the pointer in the stream's logical coordinates, keys as keysyms.

Calls follow the portal's documented API (org.freedesktop.portal.RemoteDesktop version 2, ScreenCast version
4); every answer the portal gives through a Request object's Response signal.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_agent.config import data_folder
from desktop_agent.errors import AgentError, NoDisplayError

BUS_NAME = "org.freedesktop.portal.Desktop"
OBJECT_PATH = "/org/freedesktop/portal/desktop"
REMOTE_DESKTOP = "org.freedesktop.portal.RemoteDesktop"
SCREEN_CAST = "org.freedesktop.portal.ScreenCast"
REQUEST = "org.freedesktop.portal.Request"
SESSION = "org.freedesktop.portal.Session"

DEVICE_KEYBOARD, DEVICE_POINTER = 1, 2
SOURCE_MONITOR = 1
CURSOR_HIDDEN, CURSOR_EMBEDDED = 1, 2
PERSIST_UNTIL_REVOKED = 2
RESPONSE_TIMEOUT = 300.0  # the person answers the desktop's dialog (the first time only)
CALL_TIMEOUT = 10.0
TOKEN_FILE = "portal-restore-token"


@dataclass(frozen=True)
class PortalStream:
    """One shared monitor: its PipeWire node and where it lies on the desktop (logical units)."""

    node: int
    left: int
    top: int
    width: int
    height: int


def portal_offers(environ: Mapping[str, str] | None = None) -> tuple[bool, str]:
    """(whether the session bus has a portal with RemoteDesktop and ScreenCast for monitors, why not)."""
    try:
        conn = _connect(environ)
    except NoDisplayError as exc:
        return False, str(exc)
    try:
        rd = _property(conn, REMOTE_DESKTOP, "AvailableDeviceTypes")
        sc = _property(conn, SCREEN_CAST, "AvailableSourceTypes")
    except AgentError as exc:
        return False, str(exc)
    finally:
        conn.close()
    if not (int(rd) & DEVICE_POINTER and int(rd) & DEVICE_KEYBOARD):
        return False, "the desktop's portal offers no remote pointer and keyboard"
    if not int(sc) & SOURCE_MONITOR:
        return False, "the desktop's portal cannot share monitors"
    return True, ""


def _connect(environ: Mapping[str, str] | None = None) -> Any:
    """A blocking connection to the session bus that can receive file descriptors."""
    env = os.environ if environ is None else environ
    if not env.get("DBUS_SESSION_BUS_ADDRESS") and not env.get("XDG_RUNTIME_DIR"):
        raise NoDisplayError("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS) to reach the desktop's portal")
    try:
        from jeepney.io.blocking import open_dbus_connection
    except ImportError as exc:  # pragma: no cover - jeepney is a dependency on Linux
        raise NoDisplayError(f"the Python package jeepney is missing: {exc}") from None
    try:
        return open_dbus_connection(env.get("DBUS_SESSION_BUS_ADDRESS") or "SESSION", enable_fds=True)
    except Exception as exc:
        raise NoDisplayError(f"cannot reach the D-Bus session bus: {exc}") from None


def _property(conn: Any, interface: str, name: str) -> Any:
    from jeepney import DBusAddress, new_method_call

    props = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface="org.freedesktop.DBus.Properties")
    try:
        reply = conn.send_and_get_reply(new_method_call(props, "Get", "ss", (interface, name)),
                                        timeout=CALL_TIMEOUT)
    except Exception as exc:
        raise AgentError(f"the desktop's portal did not answer: {exc}") from None
    if reply.header.message_type.name == "error":
        raise AgentError(f"the desktop's portal has no {interface.rsplit('.', 1)[-1]}: {_error_text(reply)}")
    return reply.body[0][1]


def _error_text(reply: Any) -> str:
    body = reply.body[0] if reply.body else ""
    return " ".join(str(body).split())[:200]


def token_path() -> Path:
    """Where the restore token is kept."""
    return data_folder() / TOKEN_FILE


def _read_token(path: Path) -> str:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return path.read_text(encoding="utf-8").strip()
    return ""


def _write_token(path: Path, token: str) -> None:
    """The token, readable by the user alone (written beside, then moved into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token)
    os.replace(tmp, path)


def request(conn: Any, interface: str, method: str, signature: str, args: Any, declined: str,
            timeout: float = RESPONSE_TIMEOUT, error: Callable[[str], Exception] = NoDisplayError) -> dict[str, Any]:
    """Call a portal method that answers through a Request object and wait for its Response (the caller holds
    the connection alone meanwhile). `args` makes the call's arguments from its options (with the handle
    token); raises `error` with `declined` when the person says no, or with what went wrong."""
    from jeepney import DBusAddress, MatchRule, new_method_call
    from jeepney.bus_messages import message_bus

    handle_token = _token()
    sender = conn.unique_name[1:].replace(".", "_")
    path = f"{OBJECT_PATH}/request/{sender}/{handle_token}"
    rule = MatchRule(type="signal", interface=REQUEST, member="Response", path=path)
    address = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=interface)
    conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT)
    with conn.filter(rule) as queue:
        reply = conn.send_and_get_reply(
            new_method_call(address, method, signature, args({"handle_token": ("s", handle_token)})),
            timeout=CALL_TIMEOUT)
        if reply.header.message_type.name == "error":
            raise error(f"the desktop's portal refused {method}: {_error_text(reply)}")
        try:
            answer = conn.recv_until_filtered(queue, timeout=timeout)
        except TimeoutError:
            raise error(f"the desktop's portal gave no answer to {method} within {timeout:g} s") from None
    code, results = answer.body
    if code == 1:
        raise error(declined)
    if code != 0:
        raise error(f"the desktop's portal could not {method} (response {code})")
    return dict(results)


class PortalSession:
    """One remote-desktop session with the screen cast of every monitor; `notify` sends input into it.
    Safe for one caller at a time per method; the connection's replies are matched under a lock."""

    def __init__(self, environ: Mapping[str, str] | None = None, token_file: Path | None = None) -> None:
        self._conn = _connect(environ)
        self._lock = threading.Lock()
        self._token_file = token_file or token_path()
        self.handle = ""
        self.streams: list[PortalStream] = []
        self.devices = 0
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        token = _read_token(self._token_file)
        created = self._request(REMOTE_DESKTOP, "CreateSession", "a{sv}",
                                lambda opts: (opts | {"session_handle_token": ("s", _token())},))
        self.handle = str(created["session_handle"][1])
        devices: dict[str, tuple[str, Any]] = {"types": ("u", DEVICE_KEYBOARD | DEVICE_POINTER),
                                               "persist_mode": ("u", PERSIST_UNTIL_REVOKED)}
        if token:
            devices["restore_token"] = ("s", token)
        self._request(REMOTE_DESKTOP, "SelectDevices", "oa{sv}", lambda opts: (self.handle, opts | devices))
        sources = {"types": ("u", SOURCE_MONITOR), "multiple": ("b", True), "cursor_mode": ("u", CURSOR_HIDDEN)}
        self._request(SCREEN_CAST, "SelectSources", "oa{sv}", lambda opts: (self.handle, opts | sources))
        started = self._request(REMOTE_DESKTOP, "Start", "osa{sv}", lambda opts: (self.handle, "", opts))
        self.devices = int(started.get("devices", ("u", 0))[1])
        self.streams = [_stream(node, props) for node, props in started.get("streams", ("a(ua{sv})", []))[1]]
        if not self.streams:
            raise NoDisplayError("the desktop shared no monitor: choose the screens to share when it asks")
        if self.devices & DEVICE_POINTER == 0:
            raise NoDisplayError("the desktop did not allow remote control of the pointer: allow it when it asks")
        new_token = started.get("restore_token", ("s", ""))[1]
        if new_token:
            _write_token(self._token_file, str(new_token))

    def _request(self, interface: str, method: str, signature: str, args: Any) -> dict[str, Any]:
        """Call a portal method that answers through a Request object, and wait for its Response."""
        with self._lock:
            return request(self._conn, interface, method, signature, args,
                           "the person declined to share the screen and allow control; nothing was sent")

    def pipewire_fd(self) -> int:
        """A new connection to PipeWire that sees this session's streams (one per reader: a connection
        cannot be shared between processes). The caller owns the descriptor."""
        from jeepney import DBusAddress, new_method_call

        address = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=SCREEN_CAST)
        with self._lock:
            reply = self._conn.send_and_get_reply(new_method_call(address, "OpenPipeWireRemote", "oa{sv}",
                                                                  (self.handle, {})), timeout=CALL_TIMEOUT)
        if reply.header.message_type.name == "error":
            raise AgentError(f"the desktop's portal gave no PipeWire connection: {_error_text(reply)}")
        fd = reply.body[0]
        return int(fd.to_raw_fd()) if hasattr(fd, "to_raw_fd") else int(fd)

    def notify(self, method: str, signature: str, *args: Any) -> None:
        """Send one input call (NotifyPointerMotionAbsolute, NotifyKeyboardKeysym, ...) and wait for its reply,
        so input arrives in order."""
        from jeepney import DBusAddress, new_method_call

        address = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=REMOTE_DESKTOP)
        with self._lock:
            reply = self._conn.send_and_get_reply(
                new_method_call(address, method, "oa{sv}" + signature, (self.handle, {}, *args)),
                timeout=CALL_TIMEOUT)
        if reply.header.message_type.name == "error":
            raise AgentError(f"the desktop's portal refused {method}: {_error_text(reply)}")

    def close(self) -> None:
        """End the session (the desktop stops sharing and takes back control) and close the connection."""
        close_session(self._conn, self.handle)
        self.handle = ""


def close_session(conn: Any, handle: str) -> None:
    """Close the portal session `handle` (when there is one) and then the connection, whatever answers."""
    from jeepney import DBusAddress, new_method_call

    if handle:
        with contextlib.suppress(Exception):
            conn.send_and_get_reply(new_method_call(
                DBusAddress(handle, bus_name=BUS_NAME, interface=SESSION), "Close"), timeout=CALL_TIMEOUT)
    with contextlib.suppress(Exception):
        conn.close()


def _token() -> str:
    return "desktop_agent_" + secrets.token_hex(8)


def _stream(node: int, props: dict[str, tuple[str, Any]]) -> PortalStream:
    """A stream's node and place; a monitor stream without a position is at the origin."""
    x, y = props.get("position", ("(ii)", (0, 0)))[1]
    w, h = props.get("size", ("(ii)", (0, 0)))[1]
    if w <= 0 or h <= 0:
        raise NoDisplayError(f"the desktop's portal gave stream {node} no size")
    return PortalStream(int(node), int(x), int(y), int(w), int(h))


_shared: dict[str, tuple[PortalSession, int]] = {}
_shared_lock = threading.Lock()


def shared_session() -> PortalSession:
    """The process's one portal session (the screen and the input driver share it: one dialog, one
    permission); each caller gives it back with `release_session`, and the last one closes it."""
    key = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    with _shared_lock:
        held = _shared.get(key)
        session = held[0] if held else PortalSession()
        _shared[key] = (session, (held[1] if held else 0) + 1)
        return session


def release_session(session: PortalSession) -> None:
    """Give back a session from `shared_session`; the last holder's release ends it."""
    with _shared_lock:
        for key, (held, count) in list(_shared.items()):
            if held is session:
                if count > 1:
                    _shared[key] = (held, count - 1)
                    return
                del _shared[key]
                break
    session.close()
