"""Learn when a click is right: fit `locate`'s calibrated model on grounding sets of training apps.

    .venv/bin/python models/locate/fit.py SET [SET ...]      (ScreenSpot-format sets, e.g. from
                                                              models/harvest/to_grounding_set.py)

Every sample of the sets (text and icon targets with their true boxes, and names not on the screen) is looked
for on the app's own parse of its screenshot, as `locate` does; each candidate it weighs (the strongest texts,
the nearest icons) becomes a row of evidence (desktop_agent/grounding/calibration.FEATURES) labelled with
whether a click on it lands in the target. A ridge logistic regression over those rows gives the weights.

The abstain threshold is chosen out of app: for each app, the model is fitted on the other apps and its best
candidate per sample is scored on this one; the threshold is the least probability at which those out-of-app
clicks are wrong for at most 2% of present targets and land on at most 3% of absent ones. So the threshold
holds on an app the weights never saw, which is what a user's app is.

Writes models/locate/calibration.json (weights, threshold) and metrics.json (out-of-app figures per app and
a risk-coverage table). Only training apps may be given: the held-out apps stay unseen.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from collections import defaultdict
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from desktop_agent.capture.frame import load_image  # noqa: E402
from desktop_agent.grounding.calibration import FEATURES, features, same_target  # noqa: E402
from desktop_agent.grounding.instruction import parse_instruction  # noqa: E402
from desktop_agent.grounding.locate import candidates  # noqa: E402
from desktop_agent.perception.elements import Element  # noqa: E402
from desktop_agent.perception.icon_meaning import model_dir  # noqa: E402
from desktop_agent.perception.parser import ScreenParser  # noqa: E402

MAX_WRONG = 0.02
MAX_ABSENT = 0.03
RIDGE = 1.0


@dataclass
class Question:
    app: str
    kind: str  # the sample's data_type: text, icon or absent
    present: bool
    x: np.ndarray  # candidates x FEATURES
    right: np.ndarray  # per candidate: a click there lands in the target
    same: np.ndarray  # candidates x candidates: one target (`calibration.same_target`)
    whole: np.ndarray  # per candidate: its whole text is the name (taken first, as `locate.choice_order`)
    icon_p: np.ndarray  # per candidate: an icon's own calibrated probability; NaN for a text (this model's)


def _samples(folder: Path) -> list[tuple[Path, dict[str, object]]]:
    out = [(folder / s["img_filename"], s) for s in json.loads((folder / "annotations.json").read_text())]
    absent = folder / "absent" / "annotations.json"
    if absent.exists():
        out += [(folder / "absent" / s["img_filename"], s) for s in json.loads(absent.read_text())]
    return out


def _icon_model_stamp() -> str:
    d = model_dir()
    return hashlib.sha256((d / "icon_encoder.onnx").read_bytes() + (d / "icon_text.npz").read_bytes()).hexdigest()


def _key(image: Path) -> str:
    return hashlib.sha1(image.read_bytes()).hexdigest()


def _parses(images: list[Path], cache: Path) -> dict[str, object]:
    """The parser's reading of each screenshot, kept in `cache` (parsing is most of the time). When the icon
    model changed since, only the icons are named again (OCR and the detector do not depend on it)."""
    done: dict[str, object] = pickle.loads(cache.read_bytes()) if cache.exists() else {}
    # Keyed by the image's content: a screenshot copied into another set is not parsed again.
    done = {(_key(Path(k)) if "/" in k else k): v for k, v in done.items() if "/" not in k or Path(k).exists()}
    images_by_key = {_key(i): i for i in images}
    for parsed in done.values():  # written by an older Element: its new fields take their defaults
        parsed.elements = [Element(**{f.name: getattr(e, f.name) for f in fields(Element)  # type: ignore[attr-defined]
                                      if hasattr(e, f.name)}) for e in parsed.elements]  # type: ignore[attr-defined]
    stamp_file = cache.with_suffix(".icon-model")
    parser = ScreenParser()
    stamp = _icon_model_stamp()
    if done and (not stamp_file.exists() or stamp_file.read_text() != stamp):
        print(f"icon model changed: naming the icons of {len(done)} cached screens again", flush=True)
        for key, parsed in list(done.items()):
            if key not in images_by_key:
                del done[key]  # a screen no set asks about now
                continue
            # The parser's own step that names icons; the rest of the cached parse stands.
            parsed.elements = parser._name_icons(load_image(images_by_key[key]),  # type: ignore[attr-defined]
                                                 parsed.elements)  # type: ignore[attr-defined]
        cache.write_bytes(pickle.dumps(done))
    stamp_file.write_text(stamp)
    todo = sorted(images_by_key.keys() - done.keys())
    for n, key in enumerate(todo, 1):
        parser.reset()
        done[key] = parser.parse(load_image(images_by_key[key]), incremental=False)
        if n % 20 == 0 or n == len(todo):
            print(f"parsed {n}/{len(todo)}", flush=True)
            cache.write_bytes(pickle.dumps(done))
    return done


def _inside(box: object, x: float, y: float) -> bool:
    if not isinstance(box, list):
        return False
    x1, y1, x2, y2 = box
    return bool(x1 <= x <= x2 and y1 <= y <= y2)


def questions(folders: list[Path], cache: Path) -> list[Question]:
    samples = [t for f in folders for t in _samples(f)]
    keys = {img: _key(img) for img in {img for img, _ in samples}}
    parses = _parses(list(keys), cache)
    out = []
    for img, s in samples:
        ins, cands = candidates(parses[keys[img]], parse_instruction(str(s["instruction"])))  # type: ignore[arg-type]
        box = s.get("bbox")
        right = np.array([_inside(box, c.box.center.x, c.box.center.y) for c in cands], np.bool_)
        x = features(ins, cands) if cands else np.zeros((0, len(FEATURES)))
        same = np.array([[i != j and same_target(a, b) for j, b in enumerate(cands)] for i, a in enumerate(cands)],
                        np.bool_).reshape(len(cands), len(cands))
        out.append(Question(str(s.get("data_source", "?")), str(s.get("data_type", "?")), box is not None, x, right,
                            same, np.array([c.whole for c in cands], np.bool_),
                            np.array([1 / (1 + np.exp(-c.icon_logit)) if c.how == "icon" else np.nan for c in cands])))
    return out


def fit(qs: list[Question]) -> np.ndarray:
    """Ridge logistic regression of `right` on the evidence of every text candidate, by Newton's method
    (icons have their own calibration, models/icon_embed)."""
    texts = [np.isnan(q.icon_p) for q in qs]
    x = np.concatenate([q.x[t] for q, t in zip(qs, texts, strict=True)])
    y = np.concatenate([q.right[t] for q, t in zip(qs, texts, strict=True)]).astype(float)
    w = np.zeros(x.shape[1])
    reg = RIDGE * np.eye(x.shape[1])
    reg[0, 0] = 1e-6  # the bias is not shrunk
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -40, 40)))
        h = (x * (p * (1 - p))[:, None]).T @ x + reg
        step = np.linalg.solve(h, x.T @ (p - y) + reg @ w)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def best(q: Question, w: np.ndarray) -> tuple[float, bool]:
    """The best candidate's probability and whether a click on it is right (0, False with none)."""
    if not len(q.x):
        return 0.0, False
    p = np.where(np.isnan(q.icon_p), 1 / (1 + np.exp(-np.clip(q.x @ w, -40, 40))), q.icon_p)
    p = np.where(q.same, p[None, :], 0.0).max(axis=1, initial=0.0).clip(min=p)  # as `calibration.shared`
    k = min(range(len(p)), key=lambda i: (not q.whole[i], -p[i]))  # as `locate.choice_order`
    return float(p[k]), bool(q.right[k])


def risk_table(outcomes: list[tuple[float, bool, bool]], thresholds: list[float]) -> list[dict[str, float]]:
    rows = []
    present = [o for o in outcomes if o[2]]
    absent = [o for o in outcomes if not o[2]]
    for t in thresholds:
        clicked = [o for o in present if o[0] >= t]
        rows.append({"threshold": t, "right": round(sum(o[1] for o in clicked) / max(len(present), 1), 4),
                     "wrong": round(sum(not o[1] for o in clicked) / max(len(present), 1), 4),
                     "absent_clicked": round(sum(o[0] >= t for o in absent) / max(len(absent), 1), 4)})
    return rows


def choose_threshold(outcomes: list[tuple[float, bool, bool]]) -> float:
    for t in np.round(np.arange(0.05, 0.991, 0.01), 2):
        r = risk_table(outcomes, [float(t)])[0]
        if r["wrong"] <= MAX_WRONG and r["absent_clicked"] <= MAX_ABSENT:
            return float(t)
    return 0.99


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="+", type=Path)
    ap.add_argument("--cache", type=Path, default=HERE / "data" / "parses.pkl")
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    qs = questions(args.sets, args.cache)
    apps = sorted({q.app for q in qs})
    print(f"{len(qs)} questions ({sum(q.present for q in qs)} present) from {len(apps)} apps", flush=True)
    out_of_app: list[tuple[float, bool, bool]] = []
    per_app: dict[str, list[tuple[float, bool, bool]]] = defaultdict(list)
    per_kind: dict[str, list[tuple[float, bool, bool]]] = defaultdict(list)
    for app in apps:
        w = fit([q for q in qs if q.app != app])
        for q in qs:
            if q.app == app:
                p, right = best(q, w)
                per_app[app].append((p, right, q.present))
                per_kind[q.kind].append((p, right, q.present))
        out_of_app += per_app[app]
    threshold = choose_threshold(out_of_app)
    w = fit(qs)
    cal = {"weights": {name: round(float(v), 5) for name, v in zip(FEATURES, w, strict=True)},
           "threshold": threshold, "max_wrong": MAX_WRONG, "max_absent_clicked": MAX_ABSENT, "fitted_on": apps}
    grid = [0.3, 0.5, 0.6, 0.7, threshold, 0.8, 0.9, 0.95]
    metrics = {"out_of_app": {"all": risk_table(out_of_app, [threshold])[0],
                              **{f"kind:{k}": risk_table(o, [threshold])[0] for k, o in sorted(per_kind.items())},
                              **{a: risk_table(o, [threshold])[0] for a, o in per_app.items()}},
               "out_of_app_risk_coverage": risk_table(out_of_app, sorted(set(grid))),
               "questions": len(qs), "present": sum(q.present for q in qs)}
    (args.out / "calibration.json").write_text(json.dumps(cal, indent=2) + "\n")
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps({"calibration": cal, **metrics}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
