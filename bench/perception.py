"""Perception benchmark: capture, parse (by stage), incremental parse and locate, per screen size; and
the accessibility tree's cost per parse on the task suite's apps.

    .venv/bin/python bench/perception.py [--dev-set ../shared/datasets/grounding-dev] [--repeat 3]
    .venv/bin/python bench/perception.py --tree-only [--repeat 3]   # the tree's cost alone

Screens are the grounding-dev screenshots at 1280x800, 1920x1080 and 2560x1440 (measuring only).
The tree's cost: each app of TREE_APPS alone on a 1280x800 Xvfb display with a private AT-SPI bus, as a
task of the suite shows it; per parse, the read (150 ms budget), the stacking order and the fusion with
that screen's vision elements (the read runs while the pixels are parsed, so what a step waits for is at
most what is left of it).
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

# The suite's apps whose trees the agent reads (GTK 3 and Qt 5), started as its tasks start them.
TREE_APPS = (["galculator"], ["mousepad"], ["geany"], ["pcmanfm"], ["gnumeric"], ["featherpad", "--standalone"],
             ["qpdfview"], ["lximage-qt"])

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


def tree_cost(parser: ScreenParser, repeat: int) -> dict[str, dict[str, float]]:
    """Milliseconds per parse that the accessibility tree costs on each app's screen (medians)."""
    import shutil
    import subprocess
    import tempfile

    import mss

    from desktop_agent.capture.virtual_display import stop_process
    from desktop_agent.geometry import FrameGeometry, Monitor
    from desktop_agent.perception.accessibility.atspi import AtspiSource
    from desktop_agent.perception.accessibility.atspi_bus import PrivateAtspiBus
    from desktop_agent.perception.accessibility.fusion import fuse_elements
    from desktop_agent.perception.accessibility.reader import TreeRead, TreeReader
    from desktop_agent.perception.accessibility.x_windows import StackingOrder

    out: dict[str, dict[str, float]] = {}
    for cmd in TREE_APPS:
        if shutil.which(cmd[0]) is None:
            continue
        home = tempfile.mkdtemp(prefix="bench-tree-")
        with VirtualDisplay.start("1280x800") as vd, PrivateAtspiBus.start(vd.display) as bus:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DBUS_", "QT_", "AT_SPI"))}
            env.pop("NO_AT_BRIDGE", None)
            env.update(bus.env(), HOME=home, LANG="C.UTF-8", GSETTINGS_BACKEND="memory",
                       QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1", QT_QPA_PLATFORM="xcb")
            procs = [subprocess.Popen(c, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for c in (["openbox", "--sm-disable"], cmd)]
            source = AtspiSource(bus_address=bus.address())
            stacking = StackingOrder(vd.display)
            reader = TreeReader(source, windows=stacking)
            try:
                deadline = time.monotonic() + 20
                while not any(w.pid == procs[1].pid and w.box for w in source.read(budget_s=2.0).windows):
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.3)
                else:
                    deadline = 0.0
                if deadline:  # publishes no tree here (a GTK 2 app without its bridge module): vision only
                    out[cmd[0]] = {}
                    continue
                time.sleep(1.5)
                reader.read()  # connected, app names known: as on every step after a run's first
                with mss.MSS(display=vd.display) as sct:
                    image = np.ascontiguousarray(np.asarray(sct.grab(sct.monitors[1]))[:, :, :3])
                geometry = FrameGeometry(Monitor(1, 0, 0, 1280, 800, 1.0, True), 1280, 800)
                vision = parser.parse(image, incremental=False).elements
                costs: dict[str, list[float]] = defaultdict(list)
                for _ in range(repeat * 5):
                    t0 = time.perf_counter()
                    snap = source.read(budget_s=0.15)
                    t1 = time.perf_counter()
                    windows = stacking()
                    t2 = time.perf_counter()
                    view = TreeRead(snap, windows).view(geometry)
                    _, summary = fuse_elements(vision, view, image)
                    t3 = time.perf_counter()
                    costs["read"].append((t1 - t0) * 1000)
                    costs["windows"].append((t2 - t1) * 1000)
                    costs["fuse"].append((t3 - t2) * 1000)
                    costs["total"].append((t3 - t0) * 1000)
                    costs["complete"].append(float(snap.complete))
                    costs["nodes"].append(len(snap.nodes))
                    costs["used"].append(summary["matched"] + summary["added"])
                out[cmd[0]] = {k: round(median(v), 1) for k, v in costs.items()}
            finally:
                reader.close()
                for proc in reversed(procs):
                    stop_process(proc)
                shutil.rmtree(home, ignore_errors=True)
    return out


def print_tree_cost(costs: dict[str, dict[str, float]]) -> None:
    print(f"{'app':12s} {'nodes':>6s} {'used':>5s} {'read':>6s} {'windows':>8s} {'fuse':>6s} {'total':>6s} complete")
    for app, c in costs.items():
        if not c:
            print(f"{app:12s} (no accessibility tree: pixels only)")
            continue
        print(f"{app:12s} {c['nodes']:6.0f} {c['used']:5.0f} {c['read']:6.1f} {c['windows']:8.1f} {c['fuse']:6.1f} "
              f"{c['total']:6.1f} {'yes' if c['complete'] >= 1 else 'partial'}")
    totals = [c["total"] for c in costs.values() if c]
    print(f"(milliseconds per parse, medians; the tree's cost over these screens: median {median(totals):.1f} ms; "
          "read = the AT-SPI read, budget 150 ms; windows = the X stacking order; fuse = visibility and fusion)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dev-set", default=str(ROOT.parent / "shared" / "datasets" / "grounding-dev"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--tree-only", action="store_true", help="only the accessibility tree's cost per parse")
    ap.add_argument("--no-tree", action="store_true", help="leave out the accessibility tree's cost")
    args = ap.parse_args()
    if args.tree_only:
        costs = tree_cost(ScreenParser(), args.repeat)
        if args.json:
            print(json.dumps({"tree_ms": costs}, indent=2))
        else:
            print_tree_cost(costs)
        return 0
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
    costs = {} if args.no_tree else tree_cost(parser, args.repeat)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {"model_load_ms": round(load_ms), "cpus": os.cpu_count(), "sizes": results,
              "peak_rss_mb": round(peak_mb), "tree_ms": costs}
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
    if costs:
        print_tree_cost(costs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
