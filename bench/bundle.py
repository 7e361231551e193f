"""Bundle figures: installed size, archive sizes, and cold start (launch to window ready).

    make bundle && .venv/bin/python bench/bundle.py [--repeat 5]

Cold start runs the bundled binary (`desktop-agent app`) on a fresh Xvfb display with a fresh home
folder and times until its window is mapped (the no-tray window: Xvfb has no tray). Prints medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_agent.capture.virtual_display import VirtualDisplay, stop_process  # noqa: E402
from desktop_agent.evaluation.task_env import mapped_windows  # noqa: E402


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def window_mapped(display: str, title: str) -> bool:
    return any(name == title for _, name in mapped_windows(display))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    dist = ROOT / "dist"
    bundle = dist / "desktop-agent"
    binary = bundle / "desktop-agent"
    if not binary.exists():
        print("no bundle: run `make bundle` first", file=sys.stderr)
        return 2
    print(f"installed size (the one-folder app, /opt/desktop-agent): {folder_mb(bundle):.0f} MB")
    for pattern in ("desktop-agent-*.tar.gz", "desktop-agent_*.deb"):
        for f in dist.glob(pattern):
            print(f"{f.name}: {f.stat().st_size / 1e6:.0f} MB")
    xvfb = VirtualDisplay.start("1920x1080")
    times = []
    try:
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as home:
                env = {"PATH": "/usr/bin:/bin", "HOME": home, "DISPLAY": xvfb.display, "LANG": "C.UTF-8"}
                t0 = time.perf_counter()
                proc = subprocess.Popen([str(binary), "app", "--no-hotkeys"], env=env, cwd=home,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    while not window_mapped(xvfb.display, "desktop-agent"):
                        if proc.poll() is not None or time.perf_counter() - t0 > 60:
                            raise RuntimeError("the app did not show its window")
                        time.sleep(0.02)
                    times.append(time.perf_counter() - t0)
                finally:
                    stop_process(proc)
    finally:
        xvfb.stop()
    print(f"cold start, launch to window ready: median {statistics.median(times):.2f} s "
          f"(min {min(times):.2f}, max {max(times):.2f}, {len(times)} runs)")
    return 0


if __name__ == "__main__":
    os.environ.pop("QT_QPA_PLATFORM", None)
    sys.exit(main())
