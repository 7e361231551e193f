"""A virtual X display (Xvfb) started and stopped by its own handle, for headless runs, tests and benches."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from desktop_agent.errors import NoDisplayError


def stop_process(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Terminate a child, then kill it if it has not gone within `grace` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class VirtualDisplay:
    """An Xvfb display for tests and the task suite, stopped by its handle."""

    proc: subprocess.Popen[bytes]
    display: str  # e.g. ":5"

    @staticmethod
    def start(size: str = "1920x1080", depth: int = 24) -> VirtualDisplay:
        """Start Xvfb with one screen of `size` and wait until it answers."""
        if shutil.which("Xvfb") is None:
            raise NoDisplayError("Xvfb is not installed: run scripts/setup.sh (Debian package xvfb)")
        r, w = os.pipe()
        proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0", f"{size}x{depth}", "-nolisten", "tcp", "-noreset"],
            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number:
            proc.kill()
            proc.wait()
            raise NoDisplayError("Xvfb did not start")
        return VirtualDisplay(proc, f":{number}")

    def stop(self) -> None:
        """Stop the Xvfb server."""
        stop_process(self.proc)

    def __enter__(self) -> VirtualDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
