"""Fit when an icon match is worth a click, on real screens of the harvest's training apps.

    .venv/bin/python models/icon_embed/calibrate.py [--per-app N] build/harvest-train [more harvest folders]

For every harvested screen (models/harvest/harvest_desktop.py) the app's own parser reads the screenshot
(OCR, detector, icon vectors: what `locate` sees), and every named icon-only control of that screen (from
the accessibility tree) is asked for by its name: the nearest icon's cosine and lead (`icon_evidence`) and
whether a click on it would land in the control. Names of other applications' controls that this screen
does not carry are asked too (a click there is always wrong). A logistic regression of "right" on (cosine,
lead) gives the probability; the threshold is the least one that keeps wrong clicks at or under 2% of
present targets and clicks on absent names at or under 3%. Writes calibration.json and adds the fit's
figures to metrics.json. Only training apps' screens are used: held-out apps stay unseen.
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "models" / "harvest"))

from to_grounding_set import _kind  # noqa: E402

from desktop_agent.capture.frame import frame_from_file  # noqa: E402
from desktop_agent.geometry import Rect  # noqa: E402
from desktop_agent.grounding.instruction import parse_instruction  # noqa: E402
from desktop_agent.grounding.locate import icon_evidence  # noqa: E402
from desktop_agent.perception.parser import ScreenParser  # noqa: E402

MAX_WRONG = 0.02
MAX_ABSENT = 0.03


def questions(folders: list[Path], seed: int = 3, per_app: int = 0) -> list[tuple[Path, str, Rect | None]]:
    """(screenshot, name, target box or None when absent) for the harvested screens; with `per_app`, at most
    that many screens of each app (those showing a named icon-only control, drawn at random)."""
    by_image: dict[Path, list[dict[str, object]]] = defaultdict(list)
    for folder in folders:
        for line in (folder / "samples.jsonl").read_text(encoding="utf-8").splitlines():
            s = json.loads(line)
            by_image[folder / s["image"]].append(s)
    if per_app:
        pick = random.Random(seed)
        by_app: dict[str, list[Path]] = defaultdict(list)
        for image, items in sorted(by_image.items()):
            if any(_kind(i) == "icon" for i in items):
                by_app[str(items[0]["app"])].append(image)
        keep = {im for ims in by_app.values() for im in pick.sample(ims, min(per_app, len(ims)))}
        by_image = defaultdict(list, {k: v for k, v in by_image.items() if k in keep})
    icon_names: dict[str, set[str]] = defaultdict(set)
    out: list[tuple[Path, str, Rect | None]] = []
    for image, items in sorted(by_image.items()):
        counts = Counter(str(i.get("name") or "").strip().casefold() for i in items)
        for i in items:
            name = str(i.get("name") or "").strip()
            if _kind(i) == "icon" and counts[name.casefold()] == 1:
                out.append((image, name, Rect(*i["bbox"])))  # type: ignore[misc]
                icon_names[str(i["app"])].add(name)
    rng = random.Random(seed)
    for image, items in sorted(by_image.items()):
        app = str(items[0]["app"])
        here = {str(i.get("name") or "").strip().casefold() for i in items}
        pool = sorted(n for a, ns in icon_names.items() if a != app for n in ns if n.casefold() not in here)
        out += [(image, n, None) for n in rng.sample(pool, min(4, len(pool)))]
    return out


def features(qs: list[tuple[Path, str, Rect | None]]) -> list[tuple[float, float, bool, bool]]:
    """(cosine, lead, right, present) per question, from the app's own parse of each screenshot."""
    parser = ScreenParser()
    rows = []
    parsed: dict[Path, object] = {}
    for image, name, box in qs:
        if image not in parsed:
            parsed.clear()
            parsed[image] = parser.parse(frame_from_file(image).image, incremental=False)
        ev = icon_evidence(parsed[image], parse_instruction(name).label)  # type: ignore[arg-type]
        if not ev:
            rows.append((0.0, 0.0, False, box is not None))
            continue
        el, cos, lead = ev[0]
        rows.append((cos, lead, box is not None and box.contains(el.bbox.center), box is not None))
    return rows


def fit(rows: list[tuple[float, float, bool, bool]]) -> dict[str, float]:
    x = np.array([[r[0], r[1], 1.0] for r in rows])
    y = np.array([float(r[2]) for r in rows])
    w = np.zeros(3)
    for _ in range(60):  # Newton's method, a little ridge
        p = 1 / (1 + np.exp(-x @ w))
        h = (x * (p * (1 - p))[:, None]).T @ x + 1e-3 * np.eye(3)
        w -= np.linalg.solve(h, x.T @ (p - y) + 1e-3 * w)
    p = 1 / (1 + np.exp(-x @ w))
    present = np.array([r[3] for r in rows])
    threshold = 0.99
    for t in np.linspace(0.05, 0.99, 95):
        clicked = p >= t
        wrong = (clicked & present & (y == 0)).sum() / max(present.sum(), 1)
        absent = (clicked & ~present).sum() / max((~present).sum(), 1)
        if wrong <= MAX_WRONG and absent <= MAX_ABSENT:
            threshold = float(t)
            break
    return {"a": float(w[0]), "b": float(w[1]), "c": float(w[2]), "threshold": round(threshold, 3),
            "max_wrong": MAX_WRONG}


def summary(rows: list[tuple[float, float, bool, bool]], cal: dict[str, float]) -> dict[str, float]:
    p = np.array([1 / (1 + np.exp(-(cal["a"] * r[0] + cal["b"] * r[1] + cal["c"]))) for r in rows])
    right = np.array([r[2] for r in rows])
    present = np.array([r[3] for r in rows])
    clicked = p >= cal["threshold"]
    return {"present": int(present.sum()), "absent": int((~present).sum()),
            "nearest_icon_right": round(float(right[present].mean()), 4),
            "clicked_right": round(float((clicked & right)[present].mean()), 4),
            "clicked_wrong": round(float((clicked & ~right)[present].mean()), 4),
            "absent_clicked": round(float(clicked[~present].mean()), 4)}


def main(argv: list[str]) -> int:
    """calibrate.py [--per-app N] HARVEST_FOLDER ..."""
    per_app = 0
    if argv[:1] == ["--per-app"]:
        per_app, argv = int(argv[1]), argv[2:]
    folders = [Path(a) for a in argv]
    qs = questions(folders, per_app=per_app)
    print(f"{len(qs)} questions on {len({q[0] for q in qs})} screens", flush=True)
    rows = features(qs)
    cal = fit(rows)
    fitted = summary(rows, cal)
    print(json.dumps({"calibration": cal, "on_training_apps": fitted}, indent=2))
    (HERE / "calibration.json").write_text(json.dumps(cal, indent=2) + "\n")
    metrics_path = HERE / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    metrics["calibration"] = cal
    metrics["calibrated_on"] = {"screens": len({q[0] for q in qs}),
                                "apps": sorted({q[0].name.split("__")[0] for q in qs}), **fitted}
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
