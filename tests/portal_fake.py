"""FAKE desktop portal, for tests only: org.freedesktop.portal.Desktop with RemoteDesktop, ScreenCast and
GlobalShortcuts on a private session bus, standing in for GNOME's and KDE's portals, which cannot run here (and
the wlroots portal, xdg-desktop-portal-wlr, refuses a screen cast on a GPU-less compositor: its upstream issue
289, and has no GlobalShortcuts at all).

Everything behind it is real: each output of a real headless sway is captured (grim) into a real PipeWire
video node (GStreamer's pipewiresink) that the agent reads through the PipeWire connection this portal hands
out, and the input calls become real input on sway through its virtual pointer and keyboard. Only the
person's answer to the desktop's dialog is faked: the first session "asks" (logged as `prompt`), a later
one with the restore token it handed out does not (`restored`), and `--decline` answers "cancelled".

GlobalShortcuts (FAKE too): BindShortcuts "asks" (logged as `shortcuts_prompt`) and binds each preferred
trigger on the real sway (`bindsym --no-repeat COMBO exec echo N > FIFO`), so a real key press on sway
reaches this process through a FIFO and becomes the portal's Activated signal to the session's owner (no
Deactivated: nothing here needs it). `--no-shortcuts` leaves the interface out, as xdg-desktop-portal-wlr does.

Run: python -m tests.portal_fake LOG_FILE [--decline] [--no-shortcuts]; the environment gives the bus
(DBUS_SESSION_BUS_ADDRESS), sway (WAYLAND_DISPLAY, SWAYSOCK) and PipeWire (PIPEWIRE_RUNTIME_DIR). Every call is
logged as a JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, HeaderFields, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

from desktop_agent.capture.wayland import WaylandConnection, parse_ppm
from desktop_agent.execution.wayland_input import WlrootsDriver
from desktop_agent.execution.wayland_keys import NAMED_KEYS
from desktop_agent.geometry import DesktopPoint

PATH = "/org/freedesktop/portal/desktop"
GLOBAL_SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
# The XDG shortcuts format's modifiers as sway's bindsym names them.
SWAY_MODIFIERS = {"CTRL": "Ctrl", "ALT": "Mod1", "SHIFT": "Shift", "LOGO": "Mod4", "NUM": "Mod2"}
MODIFIERS = {0xFFE1: "shift", 0xFFE2: "shift", 0xFFE3: "ctrl", 0xFFE4: "ctrl", 0xFFE9: "alt", 0xFFEA: "alt",
             0xFFEB: "super", 0xFFEC: "super", 0xFE03: "altgr"}


def _named_keysyms() -> dict[int, str]:
    from Xlib import XK

    out: dict[int, str] = {}
    for name, sym in NAMED_KEYS.items():
        value = XK.string_to_keysym(sym)
        if value and value not in out:
            out[value] = name
    return out


class Producer:
    """One sway output captured with grim about ten times a second into a PipeWire video node."""

    def __init__(self, output: Any, env: dict[str, str]) -> None:
        self.output = output
        self.name = f"fake-portal-{output.name}-{secrets.token_hex(3)}"
        w, h = output.pixel_width, output.pixel_height
        self.proc = subprocess.Popen(
            # compositor hands pipewiresink buffers from the sink's own pool: GStreamer's pipewiresink 0.3.65
            # crashes copying a buffer from anywhere else (fdsrc ! rawvideoparse straight into it).
            ["gst-launch-1.0", "-q", "fdsrc", "fd=0", "!", "rawvideoparse", f"width={w}", f"height={h}",
             "format=bgr", "framerate=10/1", "!", "compositor", "!", "video/x-raw,format=BGRx", "!",
             "pipewiresink", "mode=provide", "sync=false",
             f"stream-properties=props,media.class=Video/Source,node.name={self.name}"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            start_new_session=True)
        self.env = env
        self.stopped = threading.Event()
        threading.Thread(target=self._feed, daemon=True).start()

    def _feed(self) -> None:
        import numpy as np

        assert self.proc.stdin is not None
        while not self.stopped.is_set():
            done = subprocess.run(["grim", "-o", self.output.name, "-t", "ppm", "-"], env=self.env,
                                  capture_output=True, timeout=10, check=False)
            if done.returncode == 0:
                try:
                    self.proc.stdin.write(np.ascontiguousarray(parse_ppm(done.stdout)).tobytes())
                    self.proc.stdin.flush()
                except (BrokenPipeError, ValueError):
                    return
            self.stopped.wait(0.1)

    def node_id(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dump = subprocess.run(["pw-dump"], capture_output=True, env=self.env, timeout=10, check=False)
            for obj in json.loads(dump.stdout or b"[]"):
                props = (obj.get("info") or {}).get("props") or {}
                if props.get("node.name") == self.name:
                    return int(obj["id"])
            time.sleep(0.1)
        raise RuntimeError(f"no PipeWire node {self.name}")

    def stop(self) -> None:
        self.stopped.set()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.proc.kill()


class FakeShortcuts:
    """The FAKE GlobalShortcuts' keys: each bound trigger is a real sway binding whose command writes the
    binding's number into a FIFO this process reads."""

    def __init__(self, swaysock: str) -> None:
        self.swaysock = swaysock
        self.folder = Path(tempfile.mkdtemp(prefix="fake-portal-keys-"))
        self.folder.chmod(0o711)  # sway runs its commands as its own (unprivileged) user
        self.fifo = self.folder / "activated"
        os.mkfifo(self.fifo)
        self.fifo.chmod(0o666)
        self.bindings: list[tuple[str, str, str, str]] = []  # (session handle, shortcut id, owner, sway combo)

    def bind(self, session: str, shortcut_id: str, owner: str, trigger: str) -> str:
        """Bind `trigger` ("CTRL+ALT+space") on sway for this session's shortcut; its sway combo."""
        *mods, key = trigger.split("+")
        combo = "+".join([*(SWAY_MODIFIERS[m.upper()] for m in mods), key])
        self.bindings.append((session, shortcut_id, owner, combo))
        self._swaymsg("bindsym", "--no-repeat", combo, "exec", "echo", str(len(self.bindings) - 1), ">",
                      str(self.fifo))
        return combo

    def unbind(self, session: str) -> None:
        """Remove a closed session's bindings from sway."""
        for i, (held, _sid, _owner, combo) in enumerate(self.bindings):
            if held == session:
                self._swaymsg("unbindsym", "--no-repeat", combo)
                self.bindings[i] = ("", "", "", combo)

    def _swaymsg(self, *args: str) -> None:
        subprocess.run(["swaymsg", "-s", self.swaysock, "--", *args], check=True, capture_output=True, timeout=10)

    def pressed(self) -> Iterator[tuple[str, str, str]]:
        """(session handle, shortcut id, owner) of each bound combination sway reports pressed, as it comes."""
        fd = os.open(self.fifo, os.O_RDWR)  # read and write: never at end of file when no writer is open
        with os.fdopen(fd, "r", encoding="ascii") as lines:
            for line in lines:
                if line.strip().isdigit() and int(line) < len(self.bindings):
                    session, shortcut_id, owner, _combo = self.bindings[int(line)]
                    if session:
                        yield session, shortcut_id, owner


class FakePortal:
    def __init__(self, log: Path, decline: bool, shortcuts: bool = True) -> None:
        self.log_file = log
        self.decline = decline
        self.send_lock = threading.Lock()  # the shortcuts' thread sends signals too
        self.shortcuts = FakeShortcuts(os.environ["SWAYSOCK"]) if shortcuts else None
        self.shortcut_sessions: set[str] = set()
        self.conn = open_dbus_connection(os.environ["DBUS_SESSION_BUS_ADDRESS"], enable_fds=True)
        reply = self.conn.send_and_get_reply(message_bus.RequestName("org.freedesktop.portal.Desktop"))
        assert reply.body[0] == 1, reply.body
        self.tokens: set[str] = set()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.producers: list[Producer] = []
        self.wayland = WaylandConnection()
        self.driver = WlrootsDriver()
        self.named = _named_keysyms()
        self.held: list[str] = []
        self.streams: dict[int, Any] = {}

    def log(self, **event: Any) -> None:
        with self.log_file.open("a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")

    def send(self, msg: Any) -> None:
        with self.send_lock:
            self.conn.send(msg)

    def serve(self) -> None:
        if self.shortcuts is not None:
            threading.Thread(target=self._activations, daemon=True).start()
        self.log(event="ready")
        while True:
            msg = self.conn.receive()
            if msg.header.message_type != MessageType.method_call:
                continue
            member = msg.header.fields.get(HeaderFields.member)
            try:
                self.handle(msg, member)
            except Exception as exc:
                self.log(event="error", method=member, error=f"{type(exc).__name__}: {exc}")
                self.send(new_error(msg, "org.freedesktop.DBus.Error.Failed", "s", (str(exc),)))

    def handle(self, msg: Any, member: str) -> None:
        body = msg.body
        interface = msg.header.fields.get(HeaderFields.interface)
        if member == "Get":
            if body[0] == GLOBAL_SHORTCUTS and self.shortcuts is None:  # as xdg-desktop-portal-wlr: no such thing
                self.send(new_error(msg, "org.freedesktop.DBus.Error.InvalidArgs", "s",
                                    (f"No such interface '{GLOBAL_SHORTCUTS}'",)))
                return
            values = {"AvailableDeviceTypes": ("u", 3), "AvailableSourceTypes": ("u", 1),
                      "version": ("u", 1 if body[0] == GLOBAL_SHORTCUTS else 2)}
            self.send(new_method_return(msg, "v", (values[body[1]],)))
        elif interface == GLOBAL_SHORTCUTS and self.shortcuts is not None:
            self._shortcuts_call(msg, member, body)
        elif member == "Close" and msg.header.fields.get(HeaderFields.path) in self.shortcut_sessions:
            session = str(msg.header.fields[HeaderFields.path])
            self.shortcut_sessions.discard(session)
            if self.shortcuts is not None:
                self.shortcuts.unbind(session)
            self.log(event="shortcuts_closed")
            self.send(new_method_return(msg))
        elif member == "CreateSession":
            handle = f"{PATH}/session/{self._sender(msg)}/{body[0]['session_handle_token'][1]}"
            self.sessions[handle] = {}
            self._respond(msg, body[0], 0, {"session_handle": ("s", handle)})
        elif member in ("SelectDevices", "SelectSources"):
            self.sessions[body[0]].update({k: v[1] for k, v in body[1].items() if k != "handle_token"})
            self._respond(msg, body[1], 0, {})
        elif member == "Start":
            self._start(msg, body)
        elif member == "OpenPipeWireRemote":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(str(Path(os.environ["PIPEWIRE_RUNTIME_DIR"]) / "pipewire-0"))
            self.send(new_method_return(msg, "h", (sock,)))
            sock.close()
            self.log(event="pipewire_remote")
        elif member == "Close":
            self._close()
            self.send(new_method_return(msg))
        elif member.startswith("Notify"):
            self._input(member, body[2:])
            self.send(new_method_return(msg))
        else:
            self.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,)))

    def _shortcuts_call(self, msg: Any, member: str, body: Any) -> None:
        """GlobalShortcuts: CreateSession, BindShortcuts (the person "confirms"; bound on sway), ListShortcuts."""
        assert self.shortcuts is not None
        if member == "CreateSession":
            handle = f"{PATH}/session/{self._sender(msg)}/{body[0]['session_handle_token'][1]}"
            self.shortcut_sessions.add(handle)
            self.log(event="shortcuts_session")
            self._respond(msg, body[0], 0, {"session_handle": ("s", handle)})
        elif member == "BindShortcuts":
            session, shortcuts, _parent, options = body
            asked = [(sid, props.get("description", ("s", ""))[1], props.get("preferred_trigger", ("s", ""))[1])
                     for sid, props in shortcuts]
            self.log(event="shortcuts_prompt", shortcuts=asked)
            if self.decline:
                self._respond(msg, options, 1, {})
                return
            owner = str(msg.header.fields[HeaderFields.sender])
            bound = []
            for sid, words, trigger in asked:
                combo = self.shortcuts.bind(session, sid, owner, trigger) if trigger else ""
                bound.append((sid, {"description": ("s", words), "trigger_description": ("s", combo)}))
            self.log(event="shortcuts_bound", shortcuts=[(sid, props["trigger_description"][1])
                                                         for sid, props in bound])
            self._respond(msg, options, 0, {"shortcuts": ("a(sa{sv})", bound)})
        elif member == "ListShortcuts":
            listed = [(sid, {"trigger_description": ("s", combo)})
                      for held, sid, _owner, combo in self.shortcuts.bindings if held == body[0]]
            self._respond(msg, body[1], 0, {"shortcuts": ("a(sa{sv})", listed)})
        else:
            self.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,)))

    def _activations(self) -> None:
        """Each bound combination really pressed on sway: the Activated signal, to the session's owner."""
        assert self.shortcuts is not None
        for session, shortcut_id, owner in self.shortcuts.pressed():
            self.log(event="shortcut_activated", id=shortcut_id)
            signal_msg = new_signal(DBusAddress(PATH, interface=GLOBAL_SHORTCUTS), "Activated", "osta{sv}",
                                    (session, shortcut_id, int(time.time() * 1000), {}))
            signal_msg.header.fields[HeaderFields.destination] = owner
            self.send(signal_msg)

    def _start(self, msg: Any, body: Any) -> None:
        session = self.sessions[body[0]]
        token = session.get("restore_token", "")
        asked = token not in self.tokens
        self.log(event="prompt" if asked else "restored", types=session.get("types"),
                 persist_mode=session.get("persist_mode"), multiple=session.get("multiple"))
        if asked and self.decline:
            self._respond(msg, body[2], 1, {})
            return
        self._close()
        env = dict(os.environ)
        streams = []
        for output in self.wayland.outputs():
            producer = Producer(output, env)
            self.producers.append(producer)
            node = producer.node_id()
            self.streams[node] = output
            streams.append((node, {"position": ("(ii)", (output.left, output.top)),
                                   "size": ("(ii)", (output.width, output.height)),
                                   "source_type": ("u", 1)}))
        new_token = secrets.token_hex(8)
        self.tokens.add(new_token)
        self._respond(msg, body[2], 0, {"devices": ("u", 3), "streams": ("a(ua{sv})", streams),
                                        "restore_token": ("s", new_token)})

    def _close(self) -> None:
        for p in self.producers:
            p.stop()
        self.producers.clear()
        self.streams.clear()

    def _input(self, member: str, args: Any) -> None:
        self.log(event="input", method=member, args=list(args))
        if member == "NotifyPointerMotionAbsolute":
            node, x, y = args
            out = self.streams[node]
            self.driver.move(DesktopPoint(out.left + int(x), out.top + int(y)))
        elif member == "NotifyPointerButton":
            code, state = args
            self.driver._button(code, bool(state))
        elif member == "NotifyPointerAxisDiscrete":
            _axis, steps = args
            self.driver.scroll(None, -steps)
        elif member == "NotifyKeyboardKeysym":
            self._key(*args)

    def _key(self, keysym: int, state: int) -> None:
        if keysym in MODIFIERS:
            name = MODIFIERS[keysym]
            if state:
                self.held.append(name)
            elif name in self.held:
                self.held.remove(name)
            return
        if not state:
            return
        named = self.named.get(keysym)
        char = chr(keysym - 0x01000000) if keysym >= 0x01000000 else (chr(keysym) if keysym < 0x100 else "")
        if self.held or named:
            self.driver.press([*self.held, named or char])
        elif char:
            self.driver.type_text(char)

    @staticmethod
    def _sender(msg: Any) -> str:
        return str(msg.header.fields[HeaderFields.sender])[1:].replace(".", "_")

    def _respond(self, msg: Any, options: dict[str, Any], code: int, results: dict[str, Any]) -> None:
        path = f"{PATH}/request/{self._sender(msg)}/{options['handle_token'][1]}"
        self.send(new_method_return(msg, "o", (path,)))
        time.sleep(0.05)  # the caller subscribed before calling; the answer comes after the handle
        signal_msg = new_signal(DBusAddress(path, interface="org.freedesktop.portal.Request"), "Response",
                                "ua{sv}", (code, results))
        self.send(signal_msg)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("log", type=Path)
    ap.add_argument("--decline", action="store_true")
    ap.add_argument("--no-shortcuts", action="store_true")
    args = ap.parse_args()
    portal = FakePortal(args.log, args.decline, shortcuts=not args.no_shortcuts)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        portal.serve()
    finally:
        portal._close()
        if portal.shortcuts is not None:
            shutil.rmtree(portal.shortcuts.folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
