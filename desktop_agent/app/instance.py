"""One app per user and display, and commands to it from a second invocation: `desktop-agent app --summon`
shows the running app's command bar, `--stop-run` stops its run, and a second plain `desktop-agent app` summons
the running one instead of starting another tray icon. Where the desktop offers no global shortcuts (wlroots
compositors, a portal without GlobalShortcuts), the desktop's own key bindings run these commands.

The running app listens on a local socket (`qt_instance.py`, QLocalServer) in the user's runtime folder
(XDG_RUNTIME_DIR, readable by the user alone; else a 0700 folder of the user's in the temp folder), named after
the display; it answers only processes of the same user. This side is plain Python (no Qt): a command is one
line, the answer one line.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from desktop_agent.errors import AgentError

COMMANDS = ("summon", "stop-run", "ping")
ANSWER_TIMEOUT = 5.0


def _private_folder(path: Path) -> bool:
    """Whether `path` is a folder of this user's that no one else can enter."""
    try:
        st = path.stat()
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


def runtime_folder(environ: Mapping[str, str] | None = None) -> Path:
    """XDG_RUNTIME_DIR where it is the user's own; else `desktop-agent-UID` in the temp folder, made 0700."""
    env = os.environ if environ is None else environ
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime and _private_folder(Path(runtime)):
        return Path(runtime)
    folder = Path(tempfile.gettempdir()) / f"desktop-agent-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    if not _private_folder(folder):
        raise AgentError(f"{folder} is not a folder of this user's alone: remove it, or set XDG_RUNTIME_DIR")
    return folder


def instance_socket(environ: Mapping[str, str] | None = None) -> Path:
    """The running app's socket for this user and display (an app on another display is another app)."""
    env = os.environ if environ is None else environ
    display = env.get("WAYLAND_DISPLAY") or env.get("DISPLAY") or "none"
    tag = re.sub(r"[^A-Za-z0-9_.-]", "_", display)
    if len(tag) > 32:  # a socket's path is at most 107 bytes
        tag = hashlib.sha256(display.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return runtime_folder(env) / f"desktop-agent-{tag}.sock"


def send_command(command: str, path: Path | None = None, timeout: float = ANSWER_TIMEOUT) -> str | None:
    """Send `command` to the running app and return its one-line answer; None when no app is running here."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    path = path or instance_socket()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return None  # no socket, or one left by an app that ended without removing it
        except OSError as exc:
            raise AgentError(f"cannot reach the running app at {path}: {exc}") from None
        try:
            sock.sendall(command.encode("ascii") + b"\n")
            answer = b""
            while b"\n" not in answer and len(answer) < 4096:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except OSError as exc:  # socket.timeout included
            raise AgentError(f"the running app did not answer ({exc})") from None
    return answer.decode("utf-8", "replace").strip()
