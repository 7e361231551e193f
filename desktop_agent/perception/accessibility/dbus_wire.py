"""A lean D-Bus connection for the hot path of reading a tree: method calls written and replies read with
`struct`, many in flight at once. A read sends thousands of small calls; jeepney's general marshalling
costs about 0.2 ms a message on a busy machine, this about a tenth of that. Authentication and address
parsing stay jeepney's. Only what AT-SPI replies hold is decoded (basic types, arrays, structs, variants,
dicts); file descriptors are not supported."""

from __future__ import annotations

import selectors
import socket
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jeepney.bus import get_bus
from jeepney.io.blocking import prep_socket

METHOD_CALL, METHOD_RETURN, ERROR, SIGNAL = 1, 2, 3, 4
_FIELD_TYPES = {1: "o", 2: "s", 3: "s", 4: "s", 5: "u", 6: "s", 7: "s", 8: "g", 9: "u"}
_FIXED = {"y": ("B", 1), "b": ("I", 4), "n": ("h", 2), "q": ("H", 2), "i": ("i", 4), "u": ("I", 4),
          "x": ("q", 8), "t": ("Q", 8), "d": ("d", 8), "h": ("I", 4)}


def _pad(n: int, align: int) -> int:
    return (-n) % align


def _string(value: str, pos: int) -> bytes:
    raw = value.encode("utf-8")
    return b"\0" * _pad(pos, 4) + struct.pack("<I", len(raw)) + raw + b"\0"


def method_call(serial: int, destination: str, path: str, interface: str, member: str, signature: str = "",
                args: tuple[str | int, ...] = ()) -> bytes:
    """One little-endian METHOD_CALL. `signature` may hold only `s`, `u` and `i` arguments."""
    body = b""
    for code, value in zip(signature, args, strict=True):
        if code == "s":
            body += _string(str(value), len(body))
        elif code in "ui":
            body += b"\0" * _pad(len(body), 4) + struct.pack("<I" if code == "u" else "<i", int(value))
        else:
            raise ValueError(f"method_call cannot write a {code!r} argument")
    fields = b""
    header_fields = ((1, "o", path), (2, "s", interface), (3, "s", member), (6, "s", destination), (8, "g", signature))
    for field_code, kind, value in header_fields:
        if not value:
            continue
        fields += b"\0" * _pad(len(fields), 8) + bytes((field_code, 1, ord(kind), 0))
        if kind == "g":
            raw = value.encode("ascii")
            fields += bytes((len(raw),)) + raw + b"\0"
        else:
            fields += _string(value, 16 + len(fields))
    header = struct.pack("<cBBBIII", b"l", METHOD_CALL, 0, 1, len(body), serial, len(fields)) + fields
    return header + b"\0" * _pad(len(header), 8) + body


class _Reader:
    """Unmarshals values of a signature from a message's bytes."""

    def __init__(self, data: bytes, pos: int, endian: str) -> None:
        self.data, self.pos, self.endian = data, pos, endian

    def align(self, n: int) -> None:
        """Skip the padding up to the next multiple of `n` bytes."""
        self.pos += _pad(self.pos, n)

    def read(self, sig: str) -> list[Any]:
        """The values of a signature of complete types, in order."""
        out: list[Any] = []
        i = 0
        while i < len(sig):
            end = _type_end(sig, i)
            out.append(self.value(sig[i:end]))
            i = end
        return out

    def value(self, t: str) -> Any:
        """One value of the single complete type `t`."""
        c = t[0]
        if c in _FIXED:
            fmt, size = _FIXED[c]
            self.align(size)
            (v,) = struct.unpack_from(self.endian + fmt, self.data, self.pos)
            self.pos += size
            return bool(v) if c == "b" else v
        if c in "so":
            self.align(4)
            (n,) = struct.unpack_from(self.endian + "I", self.data, self.pos)
            s = self.data[self.pos + 4:self.pos + 4 + n].decode("utf-8", "replace")
            self.pos += 5 + n
            return s
        if c == "g":
            n = self.data[self.pos]
            s = self.data[self.pos + 1:self.pos + 1 + n].decode("ascii", "replace")
            self.pos += 2 + n
            return s
        if c == "v":
            sig = self.value("g")
            return (sig, self.value(sig))
        if c == "(":
            self.align(8)
            return tuple(self.read(t[1:-1]))
        if c == "a":
            self.align(4)
            (n,) = struct.unpack_from(self.endian + "I", self.data, self.pos)
            self.pos += 4
            elem = t[1:]
            self.align(_alignment(elem))
            end = self.pos + n
            if elem[0] == "{":
                d: dict[Any, Any] = {}
                while self.pos < end:
                    self.align(8)
                    k, v = self.read(elem[1:-1])
                    d[k] = v
                return d
            items = []
            while self.pos < end:
                items.append(self.value(elem))
            return items
        raise ValueError(f"cannot read D-Bus type {t!r}")


def _alignment(t: str) -> int:
    if t[0] in "({":
        return 8
    if t[0] in _FIXED:
        return _FIXED[t[0]][1]
    return 1 if t[0] in "gv" else 4


def _type_end(sig: str, i: int) -> int:
    """Index just past the single complete type starting at sig[i]."""
    c = sig[i]
    if c == "a":
        return _type_end(sig, i + 1)
    if c in "({":
        depth, j = 0, i
        while True:
            if sig[j] in "({":
                depth += 1
            elif sig[j] in ")}":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
    return i + 1


@dataclass(frozen=True, slots=True)
class Reply:
    """A D-Bus reply: its kind, the serial it answers, its body, and the error name if any."""

    kind: int  # METHOD_RETURN or ERROR (signals come through with reply_serial 0)
    reply_serial: int
    body: tuple[Any, ...]
    error: str = ""


def _parse(msg: bytes) -> Reply:
    endian = "<" if msg[0:1] == b"l" else ">"
    kind = msg[1]
    _body_len, _serial, fields_len = struct.unpack_from(endian + "III", msg, 4)
    r = _Reader(msg, 16, endian)
    fields: dict[int, Any] = {}
    while r.pos < 16 + fields_len:
        r.align(8)
        code = msg[r.pos]
        r.pos += 1
        sig = r.value("g")
        value = r.value(sig)
        if code in _FIELD_TYPES:
            fields[code] = value
    r.pos = 16 + fields_len
    r.align(8)
    body = tuple(r.read(fields.get(8, ""))) if kind in (METHOD_RETURN, ERROR) else ()
    return Reply(kind, int(fields.get(5, 0)), body, str(fields.get(4, "")))


class WireConnection:
    """A connection to one bus: `send` raw calls, `replies` until a deadline."""

    def __init__(self, address: str, timeout: float) -> None:
        self.sock: socket.socket = prep_socket(get_bus(address), timeout=timeout)
        self._buf = bytearray()
        self._serial = 0
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.sock, selectors.EVENT_READ)
        hello = self.next_serial()
        self.send([method_call(hello, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "Hello")], time.monotonic() + timeout)
        for reply in self.replies(time.monotonic() + timeout):
            if reply.reply_serial == hello:
                self.unique_name = str(reply.body[0]) if reply.body else ""
                return
        self.close()
        raise TimeoutError(f"the bus at {address} did not answer Hello within {timeout:g} s")

    def next_serial(self) -> int:
        """The next message serial (1 to 2^32 - 2, wrapping)."""
        self._serial = self._serial % 0xFFFFFFFE + 1
        return self._serial

    def send(self, messages: list[bytes], deadline: float) -> None:
        """Send the messages at once, before `deadline` (time.monotonic)."""
        self.sock.settimeout(max(0.001, deadline - time.monotonic()))
        self.sock.sendall(b"".join(messages))

    def replies(self, deadline: float) -> Iterator[Reply]:
        """Replies and errors as they arrive, until `deadline` (the caller stops iterating when done)."""
        while True:
            while len(self._buf) >= 16:
                endian = "<" if self._buf[0:1] == b"l" else ">"
                body_len, _s, fields_len = struct.unpack_from(endian + "III", self._buf, 4)
                total = 16 + fields_len + _pad(16 + fields_len, 8) + body_len
                if len(self._buf) < total:
                    break
                msg = bytes(self._buf[:total])
                del self._buf[:total]
                if msg[1] in (METHOD_RETURN, ERROR):
                    yield _parse(msg)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._selector.select(remaining):
                return
            self.sock.settimeout(None)
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionResetError("the bus closed the connection")
            self._buf += chunk

    def close(self) -> None:
        """Close the socket."""
        self._selector.close()
        self.sock.close()
