"""Frames of one PipeWire video stream, read through GStreamer's `pipewiresrc` in a `gst-launch-1.0` process
that writes raw BGRx frames into a pipe; a thread keeps the newest. The frame size comes from the caps the
pipeline negotiates (printed by `gst-launch-1.0 -v`), so a stream's pixel size need not be known in advance.

A compositor sends a frame when the screen changes, so the newest frame is the screen as it is now; a capture
waits briefly for one newer than its call (the change an input just made) before it takes the newest."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import subprocess
import threading
import time
import weakref

import numpy as np

from desktop_agent.errors import AgentError, NoDisplayError

GST_LAUNCH = "gst-launch-1.0"
FIRST_FRAME_TIMEOUT = 10.0
FRESH_WAIT = 0.15  # how long a capture waits for a frame newer than its call
_CAPS = re.compile(r"capsfilter\d*\.GstPad:src: caps = video/x-raw.*?width=\(int\)(\d+), height=\(int\)(\d+)")


def missing_tools() -> list[str]:
    """What reading PipeWire streams needs that is not installed (Debian/Ubuntu package names)."""
    out = []
    if shutil.which(GST_LAUNCH) is None:
        out.append("gstreamer1.0-tools (gst-launch-1.0)")
    gst_inspect = shutil.which("gst-inspect-1.0")
    if gst_inspect is not None:
        for element, package in (("pipewiresrc", "gstreamer1.0-pipewire"),
                                 ("videoconvert", "gstreamer1.0-plugins-base")):
            found = subprocess.run([gst_inspect, element], capture_output=True, timeout=20, check=False)
            if found.returncode != 0:
                out.append(f"{package} (GStreamer's {element})")
    return out


class PipeWireStream:
    """The newest frame of PipeWire node `node`, read over the connection `fd` (this object owns it)."""

    def __init__(self, fd: int, node: int) -> None:
        exe = shutil.which(GST_LAUNCH)
        if exe is None:
            os.close(fd)
            raise NoDisplayError("gst-launch-1.0 is not installed: it reads the screen cast (Debian packages "
                                 "gstreamer1.0-tools and gstreamer1.0-pipewire)")
        read_end, write_end = os.pipe()
        # The stream says it takes video: a session manager (WirePlumber) links a stream to its target only
        # when both carry the same media type, and pipewiresrc sets none by itself.
        cmd = [exe, "-v", "pipewiresrc", f"fd={fd}", f"path={node}", "always-copy=true",
               "stream-properties=props,media.type=Video,media.category=Capture,media.role=Screen", "!",
               "videoconvert", "!", "video/x-raw,format=BGRx", "!", "fdsink", f"fd={write_end}", "sync=false"]
        try:
            self._proc = subprocess.Popen(cmd, pass_fds=(fd, write_end), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            os.close(write_end)
            os.close(fd)
        self.node = node
        _LIVE.add(self)
        self._pipe = os.fdopen(read_end, "rb", buffering=0)
        self._size: tuple[int, int] | None = None
        self._sized = threading.Event()
        self._frame: np.ndarray | None = None
        self._frame_at = 0.0
        self._new_frame = threading.Condition()
        self._error = ""
        self._said: list[str] = []
        threading.Thread(target=self._read_caps, name=f"pipewire-caps-{node}", daemon=True).start()
        threading.Thread(target=self._read_frames, name=f"pipewire-frames-{node}", daemon=True).start()

    def _read_caps(self) -> None:
        """The pipeline's messages: the negotiated frame size, and what it said should it stop."""
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            line = raw.decode(errors="replace")
            m = _CAPS.search(line)
            if m:
                self._size = (int(m.group(1)), int(m.group(2)))
                self._sized.set()
            elif "ERROR" in line or "WARN" in line or "error" in line:
                self._said = [*self._said[-3:], " ".join(line.split())]
        self._sized.set()

    def _read_frames(self) -> None:
        try:
            while True:
                self._sized.wait()
                if self._size is None:
                    return
                w, h = self._size
                data = _read_exactly(self._pipe, w * h * 4)
                if data is None:
                    return
                image = np.frombuffer(data, dtype=np.uint8).reshape(h, w, 4)[:, :, :3]
                with self._new_frame:
                    self._frame = np.ascontiguousarray(image)
                    self._frame_at = time.monotonic()
                    self._new_frame.notify_all()
        except Exception as exc:  # the stream went away: the next capture says so
            self._error = f"{type(exc).__name__}: {exc}"
        finally:
            with self._new_frame:
                self._new_frame.notify_all()

    def frame(self) -> np.ndarray:
        """The newest frame (BGR), one newer than this call if the stream sends one within FRESH_WAIT, and at
        least the first frame (waiting for it up to FIRST_FRAME_TIMEOUT)."""
        asked = time.monotonic()
        with self._new_frame:
            deadline = asked + (FIRST_FRAME_TIMEOUT if self._frame is None else FRESH_WAIT)
            while self._frame_at <= asked and self._alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._new_frame.wait(left)
            if self._frame is None:
                raise AgentError(f"the screen cast (PipeWire node {self.node}) sent no frame: {self._why()}")
            return self._frame

    def _alive(self) -> bool:
        return self._proc.poll() is None and not self._error

    def _why(self) -> str:
        if self._proc.poll() is not None:
            return f"gst-launch-1.0 ended ({self._proc.returncode}): {' '.join(self._said[-2:])[:200]}"
        return self._error or f"none within {FIRST_FRAME_TIMEOUT:g} s"

    def close(self) -> None:
        """Stop the pipeline and close the pipe."""
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, 15)
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, 9)
                self._proc.wait()
        for f in (self._pipe, self._proc.stdout):
            with contextlib.suppress(Exception):
                if f is not None:
                    f.close()


# Every open stream, closed at exit if its owner did not: gst-launch runs in a session of its own (a Ctrl+C
# meant for us must not end it first), so it would outlive this process, waiting on a cast that has ended.
_LIVE: weakref.WeakSet[PipeWireStream] = weakref.WeakSet()


@atexit.register
def _close_live_streams() -> None:
    for stream in list(_LIVE):
        stream.close()


def _read_exactly(pipe: object, n: int) -> bytes | None:
    """`n` bytes from the pipe, or None at its end."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = pipe.readinto(view[got:])  # type: ignore[attr-defined]
        if not k:
            return None
        got += k
    return bytes(buf)
