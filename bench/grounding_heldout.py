"""Text grounding on screens of our own that nothing was tuned on: a second check beside grounding-dev.

    .venv/bin/python bench/grounding_heldout.py [--pages 60] [--start 300000] [--folder bench/out/grounding-heldout]

Pages come from the detector's page generator (models/detector/pages.py) with seeds far from any used in
training (300000 on), rendered in Chromium at device scales 1-2 by models/detector/render.py --names
(through the training venv, .venv-train, which has Playwright; run models/detector/build.sh once to make
it). Targets are the buttons, links, tabs and menu items whose text occurs exactly once on the page; the
instruction is that text. A hit is a click point inside the control's box; an abstention is a miss. The
local stack alone (parse + locate), as `desktop-agent eval grounding` runs it. Besides hits, wrong clicks
(a click outside the control's box) and abstentions at locate's own threshold, it prints the risk-coverage
table over the score of locate's best candidate (evaluation/grounding.py's, the same thresholds).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_agent.capture.frame import load_image  # noqa: E402
from desktop_agent.errors import TargetNotFound  # noqa: E402
from desktop_agent.evaluation.grounding import Outcome, format_risk_coverage, risk_coverage  # noqa: E402
from desktop_agent.grounding.locate import MIN_SCORE, locate_target  # noqa: E402
from desktop_agent.perception.parser import ScreenParser  # noqa: E402


def render(folder: Path, pages: int, start: int) -> None:
    missing = [s for s in range(start, start + pages) if not (folder / f"{s:05d}.json").exists()]
    if not missing:
        return
    python = ROOT / ".venv-train" / "bin" / "python"
    if not python.exists():
        raise SystemExit("bench/grounding_heldout.py: no .venv-train (run models/detector/build.sh once)")
    subprocess.run([str(python), "render.py", str(folder.resolve()), "--pages", str(pages), "--start", str(start),
                    "--names"], cwd=ROOT / "models" / "detector", check=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=60)
    ap.add_argument("--start", type=int, default=300000)
    ap.add_argument("--folder", type=Path, default=ROOT / "bench" / "out" / "grounding-heldout")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args()
    a.folder.mkdir(parents=True, exist_ok=True)
    render(a.folder, a.pages, a.start)
    parser = ScreenParser()
    counts: Counter[str] = Counter()
    outcomes: list[Outcome] = []
    for seed in range(a.start, a.start + a.pages):
        record = json.loads((a.folder / f"{seed:05d}.json").read_text())
        parser.reset()
        parsed = parser.parse(load_image(a.folder / f"{seed:05d}.png"), incremental=False)
        for kind, x1, y1, x2, y2, name in record.get("names", []):
            try:
                res = locate_target(parsed, name, min_score=0.0)  # the best candidate, whatever its score
                inside = x1 <= res.point.x <= x2 and y1 <= res.point.y <= y2
                outcome = "abstained" if res.score < MIN_SCORE else "hit" if inside else "wrong"
                outcomes.append(Outcome(res.score, True, inside, ("all", kind)))
            except TargetNotFound:
                outcome = "abstained"
                outcomes.append(Outcome(None, True, False, ("all", kind)))
            for key in ("all", kind):
                counts[f"{key}:{outcome}"] += 1
                counts[f"{key}:n"] += 1
    figures: dict[str, Any] = {}
    print(f"{'targets':12} {'n':>5} {'hit':>7} {'wrong':>7} {'abstained':>9}")
    for key in ("all", "button", "link", "tab", "menu_item"):
        n = counts[f"{key}:n"]
        if not n:
            continue
        row = {k: counts[f"{key}:{k}"] / n for k in ("hit", "wrong", "abstained")}
        figures[key] = {"n": n, **{k: round(v, 4) for k, v in row.items()}}
        print(f"{key:12} {n:5d} {row['hit']:7.1%} {row['wrong']:7.1%} {row['abstained']:9.1%}")
    print(f"({a.pages} pages, seeds {a.start}-{a.start + a.pages - 1}; text instructions, local stack)")
    rows = risk_coverage(outcomes)
    print("\n".join(format_risk_coverage(rows)))
    figures["risk_coverage"] = [r.to_dict() for r in rows]
    if a.json:
        a.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
