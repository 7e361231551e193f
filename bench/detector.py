"""UI-element detector benchmark: recall and precision on held-out screens, recall of grounding-dev targets,
and the detector's latency on full screens.

    .venv/bin/python bench/detector.py [--held-out models/detector/data/test models/detector/data/qt-test]
                                       [--dev-set ../shared/datasets/grounding-dev]

- Held-out: screens rendered from seeds never used in training (models/detector/build.sh renders web
  pages into data/test and Qt windows into data/qt-test; figures per folder). A detection counts when
  its box has IoU >= 0.5 with a true box of the same class; recall is given overall, per class and for
  targets under 32 px (their longer side), plus precision.
- grounding-dev (measuring only): the share of target boxes that some detected box (any class) matches
  at IoU >= 0.5, for the learned detector alone, OpenCV's proposals alone, and both. A target there
  includes a control's visible label, so a check box's own box cannot match it: indicative.
- Latency: median of the learned detector (model and box snapping) on screens of 1920x1080 and
  2560x1440 (grounding-dev shots), with onnxruntime's threads set to the machine's cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_agent.geometry import Rect  # noqa: E402
from desktop_agent.perception.detector import OpenCvDetector  # noqa: E402
from desktop_agent.perception.learned_detector import CLASS_KINDS, CombinedDetector, LearnedDetector  # noqa: E402

KIND_CLASS = {kind: name for name, kind in CLASS_KINDS}


def held_out(det: LearnedDetector, folder: Path) -> dict[str, object]:
    tp: dict[str, int] = defaultdict(int)
    n_true: dict[str, int] = defaultdict(int)
    small_tp = small_n = n_pred = n_pred_ok = 0
    for js in sorted(folder.glob("*.json")):
        img = cv2.imread(str(js.with_suffix(".png")))
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        truth = [(k, Rect(*b)) for k, *b in json.loads(js.read_text())["boxes"]]
        preds = [(KIND_CLASS[p.kind], p.bbox) for p in det.propose(img, gray)]
        n_pred += len(preds)
        n_pred_ok += sum(any(k == tk and b.iou(tb) >= 0.5 for tk, tb in truth) for k, b in preds)
        for k, tb in truth:
            hit = any(k == pk and tb.iou(pb) >= 0.5 for pk, pb in preds)
            n_true[k] += 1
            tp[k] += hit
            if max(tb.width, tb.height) < 32:
                small_n += 1
                small_tp += hit
    total = sum(n_true.values())
    return {
        "screens": len(list(folder.glob("*.json"))),
        "boxes": total,
        "recall": sum(tp.values()) / max(1, total),
        "recall_under_32px": small_tp / max(1, small_n),
        "boxes_under_32px": small_n,
        "precision": n_pred_ok / max(1, n_pred),
        "recall_by_class": {k: round(tp[k] / n_true[k], 3) for k in sorted(n_true)},
    }


def dev_recall(dev: Path, detectors: dict[str, object]) -> dict[str, dict[str, float]]:
    samples = json.loads((dev / "annotations.json").read_text())
    by_image: dict[str, list[dict[str, object]]] = defaultdict(list)
    for s in samples:
        by_image[str(s["img_filename"])].append(s)
    hits: dict[str, dict[str, int]] = {name: defaultdict(int) for name in detectors}
    counts: dict[str, int] = defaultdict(int)
    for fn, group in by_image.items():
        img = cv2.imread(str(dev / fn))
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        boxes = {name: [p.bbox for p in d.propose(img, gray)] for name, d in detectors.items()}  # type: ignore[attr-defined]
        for s in group:
            tb = Rect(*s["bbox"])  # type: ignore[misc]
            keys = ["all", str(s["data_type"])] + (["under_32px"] if max(tb.width, tb.height) < 32 else [])
            for key in keys:
                counts[key] += 1
            for name, found in boxes.items():
                if any(tb.iou(b) >= 0.5 for b in found):
                    for key in keys:
                        hits[name][key] += 1
    return {name: {k: round(h[k] / counts[k], 3) for k in counts} | {"n_" + k: counts[k] for k in counts}
            for name, h in hits.items()}


def latency(det: LearnedDetector, dev: Path, repeat: int) -> dict[str, float]:
    out = {}
    for size in ("1920x1080", "2560x1440"):
        shots = sorted((dev / "images").glob(f"*__{size}.png"))[:4]
        times = []
        for shot in shots:
            img = cv2.imread(str(shot))
            gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            det.propose(img, gray)
            for _ in range(repeat):
                t = time.perf_counter()
                det.propose(img, gray)
                times.append((time.perf_counter() - t) * 1000)
        out[size] = round(statistics.median(times), 1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    data = ROOT / "models" / "detector" / "data"
    ap.add_argument("--held-out", type=Path, nargs="+", default=[data / "test", data / "qt-test"])
    ap.add_argument("--dev-set", type=Path, default=ROOT.parent / "shared" / "datasets" / "grounding-dev")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args()
    det = LearnedDetector()
    figures: dict[str, object] = {}
    for folder in a.held_out:
        if folder.is_dir():
            figures.setdefault("held_out", {})[folder.name] = held_out(det, folder)  # type: ignore[index]
        else:
            print(f"no held-out screens in {folder} (models/detector/build.sh renders them)")
    if a.dev_set.is_dir():
        figures["grounding_dev_target_recall"] = dev_recall(
            a.dev_set, {"learned": det, "opencv": OpenCvDetector(), "learned+opencv": CombinedDetector(det)})
        figures["latency_ms"] = latency(det, a.dev_set, a.repeat)
    print(json.dumps(figures, indent=2))
    if a.json:
        a.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
