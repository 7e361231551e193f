"""`desktop-agent eval grounding DIR`: predictions for a ScreenSpot-format folder, and their accuracy."""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_agent.capture.frame import load_image
from desktop_agent.errors import AgentError, TargetNotFound
from desktop_agent.grounding.locate import locate_target
from desktop_agent.perception.parser import ScreenParser


@dataclass
class GroundingReport:
    predictions: list[dict[str, Any]]
    groups: dict[str, list[int]] = field(default_factory=dict)  # key -> [hits, abstained, total]
    parse_ms: list[float] = field(default_factory=list)
    locate_ms: list[float] = field(default_factory=list)
    sample_ms: list[float] = field(default_factory=list)

    def accuracy(self, key: str = "all") -> float:
        hits, _, total = self.groups.get(key, [0, 0, 0])
        return 100.0 * hits / total if total else 0.0

    def format(self) -> str:
        lines = [f"{'group':28s} {'accuracy':>8s}  {'n':>5s}  abstained"]
        for key in sorted(self.groups):
            hits, abst, total = self.groups[key]
            lines.append(f"{key:28s} {100.0 * hits / total:7.1f}%  {total:5d}  {abst}")
        if self.sample_ms:
            lines.append(
                f"latency per sample: median {statistics.median(self.sample_ms):.0f} ms "
                f"(parse per image median {statistics.median(self.parse_ms):.0f} ms over {len(self.parse_ms)} images, "
                f"locate median {statistics.median(self.locate_ms):.2f} ms)"
            )
        lines.append(f"accuracy {self.accuracy():.1f}")
        return "\n".join(lines)


def load_samples(folder: Path) -> list[dict[str, Any]]:
    ann = folder / "annotations.json"
    if not ann.exists():
        raise AgentError(f"{folder} is not a ScreenSpot-format folder: {ann} is missing")
    try:
        data = json.loads(ann.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AgentError(f"{ann} is not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise AgentError(f"{ann} must hold a list of samples")
    return data


def _hit(sample: dict[str, Any], pred: dict[str, Any]) -> bool:
    if sample.get("bbox") is None:
        return bool(pred.get("abstain"))
    if pred.get("abstain"):
        return False
    x1, y1, x2, y2 = sample["bbox"]
    return bool(x1 <= pred["x"] <= x2 and y1 <= pred["y"] <= y2)


def evaluate_grounding(folder: Path, parser: ScreenParser,
                       progress: Callable[[int, int], None] | None = None) -> GroundingReport:
    samples = load_samples(folder)
    by_image: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in samples:
        by_image[s["img_filename"]].append(s)
    report = GroundingReport(predictions=[])
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    done = 0
    for img_name, group in by_image.items():
        image = load_image(folder / img_name)
        parser.reset()  # each image is a screen never seen: no reuse from the previous one
        t0 = time.perf_counter()
        parsed = parser.parse(image, incremental=False)
        parse_ms = (time.perf_counter() - t0) * 1000
        report.parse_ms.append(parse_ms)
        for s in group:
            t1 = time.perf_counter()
            try:
                res = locate_target(parsed, s["instruction"])
                x, y = res.point.rounded()
                pred: dict[str, Any] = {"id": s["id"], "x": x, "y": y}
            except TargetNotFound:
                pred = {"id": s["id"], "abstain": True}
            loc_ms = (time.perf_counter() - t1) * 1000
            report.locate_ms.append(loc_ms)
            report.sample_ms.append(parse_ms / len(group) + loc_ms)
            report.predictions.append(pred)
            hit = _hit(s, pred)
            keys = ["all", f"type:{s.get('data_type', '?')}", f"platform:{s.get('platform', '?')}"]
            if s.get("data_source"):
                keys.append(f"app:{s['data_source']}")
            for key in keys:
                g = groups[key]
                g[0] += hit
                g[1] += bool(pred.get("abstain"))
                g[2] += 1
            done += 1
            if progress:
                progress(done, len(samples))
    report.groups = dict(groups)
    return report


def write_predictions(report: GroundingReport, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for p in report.predictions:
            f.write(json.dumps(p) + "\n")
