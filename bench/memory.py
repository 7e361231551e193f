"""Whole processes: time and peak memory of `desktop-agent parse` against rapidocr alone, and the memory of
the idle app with its models loaded.

    .venv/bin/python bench/memory.py [--dev-set ../shared/datasets/grounding-dev] [--screens 5]

`parse`: `desktop-agent parse IMAGE` as its own process (start, models, parse, print), on the densest
screens of grounding-dev at 1920x1080 and 2560x1440 (most text lines first; measuring only), against a
process that runs rapidocr alone (its own detector, classifier off, recognizer) on the same image, in the
same run. Peak RSS is the process's own (getrusage of the child).
The idle app: `desktop-agent app --no-tray --task 'click "WORD"'` on a 1920x1080 Xvfb display showing the
densest 1920x1080 screen (WORD: a word read once on it); the run loads the models, parses the screen and
waits for the person's approval: its RSS then is what the app holds while it sits there. Prints medians
(and the worst peak).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_agent.capture.virtual_display import VirtualDisplay, stop_process  # noqa: E402
from desktop_agent.evaluation.task_env import mapped_windows  # noqa: E402

SIZES = ("1920x1080", "2560x1440")
RAPIDOCR_ALONE = """
import logging, sys
logging.getLogger("RapidOCR").setLevel(logging.ERROR)
from rapidocr import RapidOCR
out = RapidOCR(params={"Global.use_cls": False, "Global.log_level": "error"})(sys.argv[1])
print(len(out.txts or ()))
"""
SHOW_IMAGE = """
import sys
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel()
pixmap = QPixmap(sys.argv[1])
label.setPixmap(pixmap)
label.setFixedSize(pixmap.size())
label.setWindowFlag(Qt.WindowType.FramelessWindowHint)
label.setWindowTitle("screen")
label.move(0, 0)
label.show()
app.exec()
"""


def timed_process(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process run to its end."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed: {proc.stderr.read().decode()[-400:] if proc.stderr else ''}")
    if proc.stderr:
        proc.stderr.close()
    return wall, usage.ru_maxrss / 1024


def densest(dev: Path, size: str, n: int) -> list[Path]:
    """The `n` screens of this size with the most annotated targets (a stand-in for the most text)."""
    samples = json.loads((dev / "annotations.json").read_text())
    counts = Counter(s["img_filename"] for s in samples if f"__{size}.png" in s["img_filename"])
    return [dev / name for name, _ in counts.most_common(n)]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def a_label_on(screen: Path) -> str:
    """A word the parser reads once on this screen: the app's task clicks it, so its run parses the screen."""
    out = subprocess.run([sys.executable, "-m", "desktop_agent", "parse", str(screen), "--json"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    elements = json.loads(out)["elements"]
    texts = Counter(e["text"] for e in elements if e.get("text"))
    # in the screen's left half: the app's own timeline window docks on the right
    return next(e["text"] for e in elements if texts[e.get("text")] == 1 and e["text"].isalpha()
                and len(e["text"]) >= 4 and e["bbox"][2] < 900)


def idle_app(screen: Path) -> float:
    """RSS (MB) of the app waiting for approval of its first step, models loaded, the screen parsed."""
    task = f'click "{a_label_on(screen)}"'
    xvfb = VirtualDisplay.start("1920x1080")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as home:
            from desktop_agent.app.settings import AppSettings, save_settings

            # nothing approved without asking (the run waits at its first step); no welcome window
            ini = Path(home) / "app.ini"
            save_settings(AppSettings(auto_approve=[], data_folder=home, first_run_done=True), str(ini))
            env = dict(os.environ, DISPLAY=xvfb.display, QT_QPA_PLATFORM="xcb", DESKTOP_AGENT_HOME=home,
                       HOME=home)
            procs.append(subprocess.Popen([sys.executable, "-c", SHOW_IMAGE, str(screen)], env=env))
            log = open(Path(home) / "app.log", "wb")  # noqa: SIM115 (closed below)
            app = subprocess.Popen([sys.executable, "-m", "desktop_agent", "app", "--no-tray", "--no-hotkeys",
                                    "--settings", str(ini), "--task", task], env=env, cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=log)
            procs.append(app)
            deadline = time.monotonic() + 120
            while not any(name == "desktop-agent: approve this step?" for _, name in mapped_windows(xvfb.display)):
                if app.poll() is not None or time.monotonic() > deadline:
                    log.close()
                    tail = (Path(home) / "app.log").read_text(errors="replace")[-600:]
                    raise SystemExit(f"the app never asked to approve {task}: {tail}")
                time.sleep(0.2)
            time.sleep(2)  # settled: the parse's buffers freed
            rss = rss_mb(app.pid)
            log.close()
            return rss
    finally:
        for p in reversed(procs):
            stop_process(p)
        xvfb.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dev-set", default=str(ROOT.parent / "shared" / "datasets" / "grounding-dev"))
    ap.add_argument("--screens", type=int, default=5, help="the densest N screens of each size")
    ap.add_argument("--app-only", action="store_true", help="only the idle app")
    args = ap.parse_args()
    dev = Path(args.dev_set)
    ours = [sys.executable, "-m", "desktop_agent", "parse"]
    alone = [sys.executable, "-c", RAPIDOCR_ALONE]
    if not args.app_only:
        print(f"{'screen':10s} {'n':>2s} {'parse s':>8s} {'rapidocr s':>10s} {'ratio':>6s} "
              f"{'parse MB':>9s} {'(max)':>6s} {'rapidocr MB':>11s}")
    for size in () if args.app_only else SIZES:
        rows = []
        for image in densest(dev, size, args.screens):
            t_ours, m_ours = timed_process([*ours, str(image)])
            t_alone, m_alone = timed_process([*alone, str(image)])
            rows.append((t_ours, t_alone, t_ours / t_alone, m_ours, m_alone))
        med = [statistics.median(col) for col in zip(*rows, strict=True)]
        print(f"{size:10s} {len(rows):2d} {med[0]:8.2f} {med[1]:10.2f} {med[2]:6.2f} {med[3]:9.0f} "
              f"{max(r[3] for r in rows):6.0f} {med[4]:11.0f}")
    idle = idle_app(densest(dev, "1920x1080", 1)[0])
    print(f"idle app (models loaded, a 1920x1080 screen parsed, waiting for approval): RSS {idle:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
