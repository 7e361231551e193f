"""Perception benchmark: capture, parse (by stage), incremental parse and locate, per screen size.

    .venv/bin/python bench/perception.py [--dev-set ../shared/datasets/grounding-dev] [--repeat 3]

Screens are the grounding-dev screenshots at 1280x800, 1920x1080 and 2560x1440 (measuring only).
"Cold" parses start with nothing cached (models loaded). "Incremental" parses follow a parse of the
same screen after less than 10% of it changed (a panel of new text drawn over it). Capture is timed
with mss on an Xvfb display of each size. Prints medians; the README quotes them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_agent.capture.frame import load_image  # noqa: E402
from desktop_agent.capture.virtual_display import VirtualDisplay  # noqa: E402
from desktop_agent.errors import TargetNotFound  # noqa: E402
from desktop_agent.grounding.locate import locate_target  # noqa: E402
from desktop_agent.perception.parser import ScreenParser  # noqa: E402

SIZES = ("1280x800", "1920x1080", "2560x1440")
WORDS = ["Saved", "draft", "Upload", "complete", "Invoice", "pending", "Export", "finished", "Sync", "error",
         "Retry", "later", "Settings", "changed", "Report", "ready", "Queue", "empty", "Backup", "running"]


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def capture_ms(size: str, repeat: int) -> float:
    import mss

    with VirtualDisplay.start(size) as vd:
        old = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = vd.display
        try:
            w, h = (int(v) for v in size.split("x"))
            times = []
            with mss.MSS() as sct:
                for _ in range(repeat * 5):
                    t0 = time.perf_counter()
                    shot = sct.grab({"left": 0, "top": 0, "width": w, "height": h})
                    np.frombuffer(shot.bgra, np.uint8).reshape(h, w, 4)[:, :, :3].copy()
                    times.append((time.perf_counter() - t0) * 1000)
        finally:
            if old is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = old
    return median(times)


def changed_copy(image: np.ndarray, seed: int, panel: bool = True) -> tuple[np.ndarray, float]:
    """Draw a panel of three new text lines over about 6% of the screen (panel=True), or replace one
    status line (panel=False: about 0.5%)."""
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    pw, ph = (int(w * 0.3), int(h * 0.2)) if panel else (int(w * 0.2), int(h * 0.03))
    x, y = int(rng.integers(0, w - pw)), int(rng.integers(0, h - ph))
    out = image.copy()
    cv2.rectangle(out, (x, y), (x + pw, y + ph), (250, 250, 250), -1)
    cv2.rectangle(out, (x, y), (x + pw, y + ph), (120, 120, 120), 1)
    scale = h / 1400
    for i in range(3 if panel else 1):
        text = " ".join(rng.choice(WORDS, 3)) + f" {int(rng.integers(10, 999))}"
        baseline = y + int((i + 1) * ph / 4) if panel else y + int(ph * 0.75)
        cv2.putText(out, text, (x + 12, baseline), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (30, 30, 30), max(1, round(scale * 2)), cv2.LINE_AA)
    return out, pw * ph / (w * h)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dev-set", default=str(ROOT.parent / "shared" / "datasets" / "grounding-dev"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    dev = Path(args.dev_set)
    samples = json.loads((dev / "annotations.json").read_text())
    by_image: dict[str, list[dict]] = defaultdict(list)
    for s in samples:
        by_image[s["img_filename"]].append(s)

    t0 = time.perf_counter()
    parser = ScreenParser()
    load_ms = (time.perf_counter() - t0) * 1000
    results = {}
    for size in SIZES:
        images = sorted(k for k in by_image if f"__{size}.png" in k)
        stages: dict[str, list[float]] = defaultdict(list)
        inc_total: list[float] = []
        line_total: list[float] = []
        locate_ms: list[float] = []
        changed_fraction = []
        for name in images:
            image = load_image(dev / name)
            for r in range(args.repeat):
                parser.clear_caches()
                res = parser.parse(image)
                for k, v in res.timings.items():
                    stages[k].append(v)
                edited, frac = changed_copy(image, seed=r * 1000 + len(inc_total))
                changed_fraction.append(frac)
                inc = parser.parse(edited)
                assert inc.incremental
                inc_total.append(inc.timings["total"])
                one_line, _ = changed_copy(edited, seed=r * 1000 + len(inc_total) + 500, panel=False)
                line = parser.parse(one_line)
                line_total.append(line.timings["total"])
            for s in by_image[name]:
                t1 = time.perf_counter()
                with contextlib.suppress(TargetNotFound):
                    locate_target(res, s["instruction"])
                locate_ms.append((time.perf_counter() - t1) * 1000)
        results[size] = {
            "screens": len(images),
            "capture_ms": round(capture_ms(size, args.repeat), 1),
            "parse_cold_ms": {k: round(median(v), 1) for k, v in stages.items()},
            "parse_cold_max_ms": round(max(stages["total"]), 1),
            "parse_incremental_ms": round(median(inc_total), 1),
            "parse_one_line_ms": round(median(line_total), 1),
            "changed_fraction": round(median(changed_fraction), 3),
            "locate_ms": round(median(locate_ms), 2),
        }
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {"model_load_ms": round(load_ms), "cpus": os.cpu_count(), "sizes": results,
              "peak_rss_mb": round(peak_mb)}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"models loaded in {load_ms:.0f} ms; {os.cpu_count()} CPUs; peak RSS {peak_mb:.0f} MB")
    head = (f"{'screen':10s} {'n':>3s} {'capture':>8s} {'regions':>8s} {'ocr det':>8s} {'ocr rec':>8s} "
            f"{'elements':>8s} {'merge':>6s} {'icons':>6s} {'parse':>7s} {'(max)':>7s} {'panel':>7s} {'line':>6s} "
            f"{'locate':>7s}")
    print(head)
    for size, r in results.items():
        p = r["parse_cold_ms"]
        print(f"{size:10s} {r['screens']:3d} {r['capture_ms']:8.1f} {p['regions']:8.1f} {p['ocr_det']:8.1f} "
              f"{p['ocr_rec']:8.1f} {p['detect']:8.1f} {p['merge']:6.1f} {p.get('icons', 0.0):6.1f} {p['total']:7.0f} "
              f"{r['parse_cold_max_ms']:7.0f} {r['parse_incremental_ms']:7.1f} {r['parse_one_line_ms']:6.1f} "
              f"{r['locate_ms']:7.2f}")
    print("(milliseconds, medians over the screens; parse = cold, models loaded, nothing cached, (max) its "
          "slowest screen;\n panel = parse again after a panel of 3 new text lines covered "
          f"{100 * results[SIZES[1]]['changed_fraction']:.0f}% of the screen; line = after one status line changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
