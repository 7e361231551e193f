"""The running app's side of `instance.py`: a QLocalServer on the user's socket that takes one-line commands
(summon, stop-run, ping) from processes of the same user and answers each in one line."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from desktop_agent.app.instance import COMMANDS, send_command
from desktop_agent.errors import AgentError


def _peer_uid(sock: QLocalSocket) -> int | None:
    """The user id of the process at the other end (SO_PEERCRED), or None where it cannot be told."""
    fd = int(sock.socketDescriptor())
    if fd < 0 or not hasattr(socket, "SO_PEERCRED"):
        return None
    with contextlib.suppress(OSError), socket.fromfd(fd, socket.AF_UNIX, socket.SOCK_STREAM) as dup:
        _pid, uid, _gid = struct.unpack("3i", dup.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                             struct.calcsize("3i")))
        return int(uid)
    return None


class InstanceServer(QObject):
    """Listens at `path` and hands each command to `handler`, whose one-line answer goes back."""

    def __init__(self, path: Path, handler: Callable[[str], str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self._handler = handler
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)  # the socket file: 0600
        self._server.newConnection.connect(self._accept)
        self.error = ""

    def listen(self) -> bool:
        """Start listening; False (with `error`) when another app already answers here or the socket cannot be made.
        A socket left by an app that ended without removing it is replaced."""
        if self._server.listen(str(self.path)):
            return True
        try:
            alive = send_command("ping", self.path, timeout=2.0) is not None
        except AgentError:  # connected, but no answer: someone listens there
            alive = True
        if alive:
            self.error = f"another desktop-agent app already listens at {self.path}"
            return False
        QLocalServer.removeServer(str(self.path))  # stale: nobody listens there
        if self._server.listen(str(self.path)):
            return True
        self.error = f"cannot listen at {self.path}: {self._server.errorString()}"
        return False

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            uid = _peer_uid(sock)
            if uid is not None and uid != os.getuid():  # the folder and the socket's mode already keep them out
                sock.abort()
                sock.deleteLater()
                continue
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(sock.deleteLater)

    def _read(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            if sock.bytesAvailable() > 256:  # no command is this long
                sock.abort()
            return
        command = bytes(sock.readLine().data()).decode("utf-8", "replace").strip()
        answer = self._handler(command) if command in COMMANDS else f"error: unknown command {command[:40]!r}"
        sock.write((answer.replace("\n", " ") + "\n").encode("utf-8"))
        sock.flush()
        sock.disconnectFromServer()

    def close(self) -> None:
        """Stop listening and remove the socket."""
        self._server.close()
