"""FAKE desktop portal, for tests only: org.freedesktop.portal.Desktop with RemoteDesktop and ScreenCast on a
private session bus, standing in for GNOME's and KDE's portals, which cannot run here (and the wlroots
portal, xdg-desktop-portal-wlr, refuses a screen cast on a GPU-less compositor: its upstream issue 289).

Everything behind it is real: each output of a real headless sway is captured (grim) into a real PipeWire
video node (GStreamer's pipewiresink) that the agent reads through the PipeWire connection this portal hands
out, and the input calls become real input on sway through its virtual pointer and keyboard. Only the
person's answer to the desktop's dialog is faked: the first session "asks" (logged as `prompt`), a later
one with the restore token it handed out does not (`restored`), and `--decline` answers "cancelled".

Run: python -m tests.portal_fake LOG_FILE [--decline]; the environment gives the bus (DBUS_SESSION_BUS_ADDRESS),
sway (WAYLAND_DISPLAY, SWAYSOCK) and PipeWire (PIPEWIRE_RUNTIME_DIR). Every call is logged as a JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
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


class FakePortal:
    def __init__(self, log: Path, decline: bool) -> None:
        self.log_file = log
        self.decline = decline
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

    def serve(self) -> None:
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
                self.conn.send(new_error(msg, "org.freedesktop.DBus.Error.Failed", "s", (str(exc),)))

    def handle(self, msg: Any, member: str) -> None:
        body = msg.body
        if member == "Get":
            values = {"AvailableDeviceTypes": ("u", 3), "AvailableSourceTypes": ("u", 1), "version": ("u", 2)}
            self.conn.send(new_method_return(msg, "v", (values[body[1]],)))
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
            self.conn.send(new_method_return(msg, "h", (sock,)))
            sock.close()
            self.log(event="pipewire_remote")
        elif member == "Close":
            self._close()
            self.conn.send(new_method_return(msg))
        elif member.startswith("Notify"):
            self._input(member, body[2:])
            self.conn.send(new_method_return(msg))
        else:
            self.conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,)))

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
        self.conn.send(new_method_return(msg, "o", (path,)))
        time.sleep(0.05)  # the caller subscribed before calling; the answer comes after the handle
        signal_msg = new_signal(DBusAddress(path, interface="org.freedesktop.portal.Request"), "Response",
                                "ua{sv}", (code, results))
        self.conn.send(signal_msg)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("log", type=Path)
    ap.add_argument("--decline", action="store_true")
    args = ap.parse_args()
    portal = FakePortal(args.log, args.decline)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        portal.serve()
    finally:
        portal._close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
