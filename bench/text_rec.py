"""The screen text recognizer (models/text_rec) against rapidocr's recognizer, on the same line crops of real screens.

    python bench/text_rec.py --harvest DIR [--images DIR] [--json out.json]

Line boxes come from the package's own text detection (content blocks, then rapidocr's detector, as a parse
does); each box is read by both recognizers. Reported per set, in one run:
  (a) exact match with the accessible name, for lines alone inside a text-bearing control of a harvest
      (models/harvest/harvest_desktop.py output: images/ and samples.jsonl), for each recognizer and for the
      two together (ours, handed to rapidocr below the threshold);
  (b) agreement with rapidocr: the share of lines both read the same;
  (c) milliseconds per line, median over screens (all of a screen's lines in one call, cold caches);
  (d) the share of lines ours hands to rapidocr at its threshold, and how the lines it keeps fare.
`--images DIR` measures a folder of screenshots without names (b to d only), e.g. grounding-dev.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2

from desktop_agent.geometry import Rect
from desktop_agent.perception.ocr import RapidOcrEngine
from desktop_agent.perception.regions import content_blocks
from desktop_agent.perception.text_recognizer import TextRecognizer

TEXT_ROLES = {"push button", "toggle button", "menu item", "menu", "check menu item", "radio menu item", "label",
              "check box", "radio button", "page tab", "table column header", "column header", "list item",
              "table cell", "heading", "link", "combo box", "static", "text"}


def _norm(s: str) -> str:
    return " ".join(s.split())


def _name(s: str) -> str:
    """An accessible name as shown: Qt's mnemonic ampersand dropped ("&&" is a shown "&")."""
    return _norm(s.replace("&&", "\0").replace("&", "").replace("\0", "&"))


def _inside(line: Rect, box: Rect) -> bool:
    inter = line.intersection(box)
    return inter is not None and inter.area >= 0.8 * line.area


def measure(images: list[Path], names: dict[str, list[dict[str, Any]]], root: Path, ours: TextRecognizer,
            rapid: RapidOcrEngine) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    ms_ours: list[float] = []
    ms_rapid: list[float] = []
    for path in images:
        image = cv2.imread(str(path))
        if image is None:
            continue
        blocks = content_blocks(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
        boxes = rapid.detect(image, blocks) if blocks else []
        h, w = image.shape[:2]
        boxes = [b.clipped(w, h) for b in boxes if b.width >= 2 and b.height >= 2]
        if not boxes:
            continue
        crops = []
        for b in boxes:
            x1, y1, x2, y2 = b.int_box()
            crops.append(image[y1:y2, x1:x2])
        if not ms_ours:  # the first call of each pays for onnxruntime's warm-up: not counted
            rapid.recognize(image, boxes)
            ours.recognize(crops)
        rapid.clear_cache()
        t0 = time.perf_counter()
        theirs = rapid.recognize(image, boxes)
        t1 = time.perf_counter()
        mine = ours.recognize(crops)
        t2 = time.perf_counter()
        ms_rapid.append((t1 - t0) * 1000 / len(boxes))
        ms_ours.append((t2 - t1) * 1000 / len(boxes))
        controls = [s for s in names.get(str(path.relative_to(root)), []) if s.get("name") and s["role"] in TEXT_ROLES]
        for b, (rt, rs), (mt, ms) in zip(boxes, theirs, mine, strict=True):
            truth = None
            holders = [c for c in controls if _inside(b, Rect(*c["bbox"]))]
            # The control's name is the line's truth when the line is the only one inside that control, or
            # a menu item's leftmost of two (its label; the other is its shortcut).
            if len(holders) == 1:
                inside = [o for o in boxes if _inside(o, Rect(*holders[0]["bbox"]))]
                if len(inside) == 1 or (len(inside) == 2 and holders[0]["role"] == "menu item"
                                        and b.x1 == min(o.x1 for o in inside)):
                    truth = _name(holders[0]["name"])
            rows.append({"image": path.name, "rapid": _norm(rt), "rapid_score": rs, "ours": _norm(mt),
                         "ours_score": ms, "fallback": ours.needs_fallback(mt, ms), "truth": truth})
    return summarize(rows, ms_ours, ms_rapid)


def summarize(rows: list[dict[str, Any]], ms_ours: list[float], ms_rapid: list[float]) -> dict[str, Any]:
    def rate(xs: list[bool]) -> float | None:
        return round(sum(xs) / len(xs), 4) if xs else None

    kept = [r for r in rows if not r["fallback"]]
    named = [r for r in rows if r["truth"] is not None]
    named_kept = [r for r in named if not r["fallback"]]
    out: dict[str, Any] = {
        "screens": len(ms_ours), "lines": len(rows),
        "agreement_with_rapidocr": rate([r["ours"] == r["rapid"] for r in rows]),
        "ms_per_line_median": {"ours": round(statistics.median(ms_ours), 2) if ms_ours else None,
                               "rapidocr": round(statistics.median(ms_rapid), 2) if ms_rapid else None},
        "handed_to_rapidocr": rate([r["fallback"] for r in rows]),
        "kept_agreement_with_rapidocr": rate([r["ours"] == r["rapid"] for r in kept]),
    }
    if ms_ours and ms_rapid:
        out["speed_ratio_rapidocr_over_ours"] = round(statistics.median(ms_rapid) / statistics.median(ms_ours), 2)
    if named:
        out["named_lines"] = len(named)
        out["exact_vs_accessible_name"] = {
            "ours": rate([r["ours"] == r["truth"] for r in named]),
            "rapidocr": rate([r["rapid"] == r["truth"] for r in named]),
            "ours_with_fallback": rate([(r["rapid"] if r["fallback"] else r["ours"]) == r["truth"] for r in named]),
            "ours_kept_lines": rate([r["ours"] == r["truth"] for r in named_kept]),
            "rapidocr_on_the_same_kept_lines": rate([r["rapid"] == r["truth"] for r in named_kept]),
        }
    disagree = [r for r in rows if r["ours"] != r["rapid"]]
    out["examples_of_disagreement"] = [
        {k: r[k] for k in ("rapid", "ours", "ours_score", "truth")} for r in disagree[:: max(1, len(disagree) // 15)]
    ][:15]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--harvest", type=Path, action="append", default=[], help="a harvest_desktop.py output folder")
    ap.add_argument("--images", type=Path, action="append", default=[], help="a folder of screenshots (no names)")
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--threshold", type=float, default=None, help="default: the one in the model's metadata")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    ours = TextRecognizer(args.model, threshold=args.threshold)
    rapid = RapidOcrEngine()
    report: dict[str, Any] = {"threshold": ours.threshold}
    for h in args.harvest:
        names: dict[str, list[dict[str, Any]]] = defaultdict(list)
        with (h / "samples.jsonl").open(encoding="utf-8") as f:
            for line in f:
                s = json.loads(line)
                names[s["image"]].append(s)
        report[str(h)] = measure(sorted((h / "images").glob("*.png")), names, h, ours, rapid)
    for d in args.images:
        report[str(d)] = measure(sorted(d.glob("*.png")), {}, d, ours, rapid)
    text = json.dumps(report, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
