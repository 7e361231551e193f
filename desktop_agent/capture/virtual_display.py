"""A virtual X display (Xvfb) started and stopped by its own handle, for headless runs, tests and benches."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from desktop_agent.errors import NoDisplayError


@dataclass
class VirtualDisplay:
    proc: subprocess.Popen[bytes]
    display: str  # e.g. ":5"

    @staticmethod
    def start(size: str = "1920x1080", depth: int = 24) -> VirtualDisplay:
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
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> VirtualDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
