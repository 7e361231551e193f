"""Real things the tests start and stop by their own handles: an Xvfb display and the target app."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_agent.capture.virtual_display import VirtualDisplay, stop_process

APP = Path(__file__).parent / "apps" / "target_app.py"

# One wide X screen split into two monitors: the primary (1280x800) at x=1024 and a second one
# (1024x768) at x=0, left of the primary, as on a desk with the laptop on the right.
SCREEN = "2304x800x24"
MONITORS = "1280x800+1024+0*,1024x768+0+0"


class Xvfb(VirtualDisplay):
    @staticmethod
    def start(size: str = SCREEN.rsplit("x", 1)[0], depth: int = 24) -> VirtualDisplay:
        return VirtualDisplay.start(size, depth)


@dataclass
class TargetApp:
    proc: subprocess.Popen[bytes]
    log: Path
    widgets: dict[str, list[int]] = field(default_factory=dict)

    @staticmethod
    def start(log: Path, env: dict[str, str], main: str = "1100,60", second: str = "",
              extra: tuple[str, ...] = ()) -> TargetApp:
        args = [sys.executable, str(APP), str(log), "--main", main, *extra]
        if second:
            args += ["--second", second]
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        app = TargetApp(proc, log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ready = [e for e in app.events() if e["event"] == "ready"]
            if ready:
                app.widgets = ready[0]["widgets"]
                time.sleep(0.3)
                return app
            if proc.poll() is not None:
                raise RuntimeError(f"target app exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.1)
        app.stop()
        raise RuntimeError("target app did not become ready")

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        out = [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [e for e in out if kind is None or e["event"] == kind]

    def stop(self) -> None:
        stop_process(self.proc)
