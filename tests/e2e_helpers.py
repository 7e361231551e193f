"""Running the real CLI against the real display, for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, home: Path, timeout: float = 120, stdin: int | None = subprocess.DEVNULL,
        env_extra: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DESKTOP_AGENT_HOME=str(home), PYTHONUNBUFFERED="1")
    env.update(env_extra or {})
    for k in drop:
        env.pop(k, None)
    return subprocess.run([sys.executable, "-m", "desktop_agent", *args], cwd=ROOT, env=env, stdin=stdin,
                          capture_output=True, text=True, timeout=timeout)
