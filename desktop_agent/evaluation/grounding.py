"""`desktop-agent eval grounding DIR`: predictions for a ScreenSpot-format folder, and their accuracy.

A sample that cannot be scored (a missing key, a wrong type, a bad bbox, an image that cannot be read)
is an *error sample*: counted, listed with its reason and written to the predictions as
`{"id", "error"}`, while every other sample is scored. A set that cannot be read at all, or holds no
samples, is refused (DatasetError) before any image is parsed.

Beside accuracy the report counts *wrong clicks*: a click outside the target's box, or any click on a
target that is not on screen (bbox null). Each prediction keeps the score of `locate`'s best candidate
(also when it abstains below MIN_SCORE), so the report also gives a risk-coverage table: at each score
threshold, the share of present targets that would be clicked, how many of those clicks are right, and the
wrong clicks that threshold lets through.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_agent.capture.frame import load_image
from desktop_agent.errors import AgentError, DatasetError, TargetNotFound, quote
from desktop_agent.grounding.instruction import MAX_INSTRUCTION_CHARS
from desktop_agent.grounding.locate import MIN_SCORE, locate_target
from desktop_agent.perception.parser import ScreenParser

MAX_ANNOTATIONS_BYTES = 256 * 1024 * 1024  # ScreenSpot-v2's annotations are a few MB
_OPTIONAL_TEXT = ("data_type", "platform", "data_source")
# Score thresholds of the risk-coverage table; MIN_SCORE is the one `locate` abstains below.
THRESHOLDS = tuple(sorted({0.0, 0.3, 0.5, 0.6, 0.7, MIN_SCORE, 0.8, 0.9, 0.95}))


@dataclass(frozen=True, slots=True)
class Outcome:
    """One scored sample as the risk-coverage table needs it."""

    score: float | None  # the best candidate's score; None when nothing on screen matched at all
    present: bool  # the target is on screen (a bbox)
    inside: bool  # the best candidate's point is inside the target's box (False when absent)
    keys: tuple[str, ...]  # the report groups it counts in


@dataclass(frozen=True, slots=True)
class RiskRow:
    """What clicking every candidate scored at least `threshold` would give."""

    threshold: float
    present: int  # targets on screen
    clicked: int  # ... of them clicked
    right: int  # ... of those clicks inside the box
    absent: int  # targets not on screen
    absent_clicked: int  # ... of them clicked (each a wrong click)

    @property
    def coverage(self) -> float:
        """The share of present targets clicked at this threshold."""
        return self.clicked / self.present if self.present else 0.0

    @property
    def click_accuracy(self) -> float:
        """The share of clicks that were right."""
        return self.right / self.clicked if self.clicked else 0.0

    @property
    def wrong(self) -> float:
        """Wrong clicks on present targets, as a share of present targets."""
        return (self.clicked - self.right) / self.present if self.present else 0.0

    @property
    def absent_rate(self) -> float:
        """The share of absent targets clicked anyway."""
        return self.absent_clicked / self.absent if self.absent else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data."""
        return {"threshold": round(self.threshold, 3), "present": self.present, "clicked": self.clicked,
                "right": self.right, "absent": self.absent, "absent_clicked": self.absent_clicked,
                "coverage": round(self.coverage, 4), "click_accuracy": round(self.click_accuracy, 4),
                "wrong": round(self.wrong, 4), "absent_clicked_rate": round(self.absent_rate, 4)}


def risk_coverage(outcomes: list[Outcome], thresholds: tuple[float, ...] = THRESHOLDS) -> list[RiskRow]:
    """For each threshold: a sample is clicked when its best candidate scores at least the threshold."""
    rows = []
    present = [o for o in outcomes if o.present]
    absent = [o for o in outcomes if not o.present]
    for t in thresholds:
        clicked = [o for o in present if o.score is not None and o.score >= t]
        rows.append(RiskRow(t, len(present), len(clicked), sum(o.inside for o in clicked), len(absent),
                            sum(o.score is not None and o.score >= t for o in absent)))
    return rows


def format_risk_coverage(rows: list[RiskRow], default: float = MIN_SCORE) -> list[str]:
    """The table's lines; the threshold `locate` uses is marked with *."""
    if not rows:
        return []
    lines = [f"risk-coverage ({rows[0].present} present targets, {rows[0].absent} absent; "
             "a click when the best candidate scores >= threshold):",
             f"{'threshold':>10s} {'coverage':>9s} {'click acc':>9s} {'wrong':>7s} {'absent clicked':>15s}"]
    for r in rows:
        mark = "*" if abs(r.threshold - default) < 1e-9 else " "
        absent = f"{r.absent_rate:14.1%}" if r.absent else f"{'-':>14s}"
        click_acc = f"{r.click_accuracy:9.1%}" if r.clicked else f"{'-':>9s}"
        lines.append(f"{r.threshold:9.2f}{mark} {r.coverage:9.1%} {click_acc} {r.wrong:7.1%} {absent}")
    return lines


@dataclass(frozen=True)
class SampleError:
    """A sample that was not scored, and why."""

    index: int  # 1-based position in annotations.json
    id: str | int | None  # None when the sample has no usable id
    reason: str

    def line(self) -> str:
        """The error as one line of the report."""
        who = f"sample {self.index}" + (f" (id {quote(self.id, 40)})" if self.id is not None else "")
        return f"error {who}: {self.reason}"


@dataclass
class GroundingReport:
    """The figures of one grounding evaluation: predictions, groups, risk-coverage, timings, errors."""

    predictions: list[dict[str, Any]]
    groups: dict[str, list[int]] = field(default_factory=dict)  # key -> [hits, abstained, total]
    parse_ms: list[float] = field(default_factory=list)
    locate_ms: list[float] = field(default_factory=list)
    sample_ms: list[float] = field(default_factory=list)
    errors: list[SampleError] = field(default_factory=list)
    total: int = 0  # samples in the set, scored or not
    wrong: dict[str, int] = field(default_factory=dict)  # key -> wrong clicks (outside the box, or on an absent one)
    outcomes: list[Outcome] = field(default_factory=list)
    done: int = 0  # samples handled, scored or errors (all of them unless interrupted)
    interrupted: bool = False  # stopped early (Ctrl+C): the figures are over the `done` samples only

    def accuracy(self, key: str = "all") -> float:
        """Right predictions in group `key`, in percent of its samples."""
        hits, _, total = self.groups.get(key, [0, 0, 0])
        return 100.0 * hits / total if total else 0.0

    def wrong_rate(self, key: str = "all") -> float:
        """Wrong clicks in group `key`, in percent of its samples."""
        total = self.groups.get(key, [0, 0, 0])[2]
        return 100.0 * self.wrong.get(key, 0) / total if total else 0.0

    def risk_coverage(self, key: str = "all", thresholds: tuple[float, ...] = THRESHOLDS) -> list[RiskRow]:
        """Group `key`'s accuracy and wrong clicks if clicks below each threshold abstained."""
        return risk_coverage([o for o in self.outcomes if key in o.keys], thresholds)

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready data: groups (accuracy, abstained, wrong clicks) and risk-coverage."""
        groups = {key: {"n": total, "hits": hits, "abstained": abst, "wrong": self.wrong.get(key, 0),
                        "accuracy": round(self.accuracy(key), 2), "wrong_rate": round(self.wrong_rate(key), 2)}
                  for key, (hits, abst, total) in sorted(self.groups.items())}
        curves = {key: [r.to_dict() for r in self.risk_coverage(key)]
                  for key in sorted(self.groups) if key == "all" or key.startswith("type:")}
        return {"groups": groups, "risk_coverage": curves, "min_score": MIN_SCORE,
                "errors": len(self.errors), "total": self.total, "done": self.done, "partial": self.interrupted}

    def partial_note(self) -> str:
        """Why the figures cover only part of the set ("" when they cover all of it)."""
        if not self.interrupted:
            return ""
        return f"PARTIAL: stopped after {self.done} of {self.total} samples; the figures are over those {self.done}"

    def _wrong_clicks_line(self) -> str:
        """The wrong clicks on present targets (outside their box) and on absent ones (any click)."""
        present = sum(o.present for o in self.outcomes)
        absent = len(self.outcomes) - present
        wrong_present = sum(o.present and o.score is not None and o.score >= MIN_SCORE and not o.inside
                            for o in self.outcomes)
        absent_clicked = sum(not o.present and o.score is not None and o.score >= MIN_SCORE for o in self.outcomes)
        parts = []
        if present:
            parts.append(f"{100.0 * wrong_present / present:.1f}% of present targets clicked outside their box "
                         f"({wrong_present}/{present})")
        if absent:
            parts.append(f"{100.0 * absent_clicked / absent:.1f}% of absent targets clicked "
                         f"({absent_clicked}/{absent})")
        return "wrong clicks: " + "; ".join(parts)

    def format(self) -> str:
        """The report as text: per group, the wrong clicks, risk-coverage, latency, errors, then accuracy."""
        lines = [self.partial_note()] if self.interrupted else []
        lines.append(f"{'group':28s} {'accuracy':>8s}  {'n':>5s}  abstained  wrong clicks")
        for key in sorted(self.groups):
            hits, abst, total = self.groups[key]
            lines.append(f"{key:28s} {100.0 * hits / total:7.1f}%  {total:5d}  {abst:9d}  "
                         f"{self.wrong_rate(key):11.1f}%")
        if self.outcomes:
            lines.append(self._wrong_clicks_line())
            lines += format_risk_coverage(self.risk_coverage())
        if self.sample_ms:
            lines.append(
                f"latency per sample: median {statistics.median(self.sample_ms):.0f} ms "
                f"(parse per image median {statistics.median(self.parse_ms):.0f} ms over {len(self.parse_ms)} images, "
                f"locate median {statistics.median(self.locate_ms):.2f} ms)"
            )
        if self.errors:
            lines += [e.line() for e in self.errors]
            lines.append(f"{len(self.errors)} of {self.done} samples are errors, not scored; "
                         f"accuracy is over the other {self.done - len(self.errors)}")
        partial = f" (PARTIAL: {self.done} of {self.total} samples)" if self.interrupted else ""
        lines.append(f"accuracy {self.accuracy():.1f}{partial}")
        return "\n".join(lines)


def load_samples(folder: Path) -> list[Any]:
    """The samples of `folder`/annotations.json, unchecked (see `check_sample`); DatasetError when the file
    cannot be read at all or holds no samples."""
    ann = folder / "annotations.json"
    if not folder.is_dir():
        raise DatasetError(f"{quote(str(folder), 200)} is not a folder: give a ScreenSpot-format folder "
                           "(annotations.json and its images)")
    if not ann.is_file():
        raise DatasetError(f"{folder} is not a ScreenSpot-format folder: {ann} is missing")
    try:
        if ann.stat().st_size > MAX_ANNOTATIONS_BYTES:
            raise DatasetError(f"{ann} is larger than {MAX_ANNOTATIONS_BYTES // 2**20} MB: split the set")
        text = ann.read_bytes().decode("utf-8-sig")
        data = json.loads(text)
    except OSError as exc:
        raise DatasetError(f"cannot read {ann}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{ann} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})") \
            from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{ann} is not valid JSON: {exc}") from None
    except RecursionError:
        raise DatasetError(f"{ann} nests too deeply to be a list of samples") from None
    if not isinstance(data, list):
        raise DatasetError(f"{ann} must hold a list of samples, not a JSON {type(data).__name__}")
    if not data:
        raise DatasetError(f"{ann} holds no samples: nothing to score")
    return data


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _sample_id(sample: Any) -> str | int | None:
    """The sample's id when it has a usable one (a string or an integer)."""
    if not isinstance(sample, dict):
        return None
    sid = sample.get("id")
    if isinstance(sid, bool) or not isinstance(sid, str | int):
        return None
    if isinstance(sid, str) and (not sid or _has_surrogates(sid)):
        return None
    return sid


def _check_bbox(bbox: Any) -> str | None:
    """Why a sample's `bbox` is not [x1, y1, x2, y2] or null, or None when it is."""
    if bbox is None:
        return None
    if (not isinstance(bbox, list) or len(bbox) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in bbox)):
        return f"'bbox' must be [x1, y1, x2, y2] (four numbers) or null, not {quote(json.dumps(bbox), 60)}"
    x1, y1, x2, y2 = bbox
    if x2 < x1 or y2 < y1:
        return f"'bbox' {bbox} has x2 < x1 or y2 < y1: it must be [x1, y1, x2, y2]"
    return None


def _check_instruction(ins: Any) -> str | None:
    """Why a sample's instruction cannot be located, or None when it can."""
    if not isinstance(ins, str) or not ins.strip():
        return f"'instruction' must be non-empty text, not {quote(ins, 60)}"
    if _has_surrogates(ins):
        return "'instruction' holds an unpaired surrogate (\\ud800-\\udfff): not text"
    if len(ins) > MAX_INSTRUCTION_CHARS:
        return f"'instruction' is {len(ins)} characters long: at most {MAX_INSTRUCTION_CHARS}"
    return None


def _check_optional_text(sample: dict[str, Any]) -> str | None:
    """Why one of the sample's optional labels (data_type, platform, ...) is not short text, or None."""
    for key in _OPTIONAL_TEXT:
        value = sample.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 100 or _has_surrogates(value)):
            return f"{key!r} must be short text, not {quote(value, 40)}"
    return None


def check_sample(sample: Any) -> str | None:
    """Why `sample` cannot be scored, or None when it can."""
    if not isinstance(sample, dict):
        return f"a sample must be a JSON object, not a JSON {type(sample).__name__}"
    missing = [k for k in ("id", "img_filename", "instruction", "bbox") if k not in sample]
    if missing:
        extra = " (null when the target is not on screen)" if missing == ["bbox"] else ""
        return f"missing key{'s' if len(missing) > 1 else ''} {', '.join(repr(k) for k in missing)}{extra}"
    if _sample_id(sample) is None:
        return f"'id' must be a non-empty string or an integer, not {quote(sample['id'], 40)}"
    img = sample["img_filename"]
    if not isinstance(img, str) or not img.strip() or _has_surrogates(img) or "\0" in img:
        return f"'img_filename' must be a file name, not {quote(img, 60)}"
    return _check_instruction(sample["instruction"]) or _check_bbox(sample["bbox"]) or _check_optional_text(sample)


def _hit(sample: dict[str, Any], pred: dict[str, Any]) -> bool:
    """Whether a prediction is right: inside the target's box, or abstaining where the target is absent."""
    if sample.get("bbox") is None:
        return bool(pred.get("abstain"))
    if pred.get("abstain"):
        return False
    x1, y1, x2, y2 = sample["bbox"]
    return bool(x1 <= pred["x"] <= x2 and y1 <= pred["y"] <= y2)


class _Scoring:
    """One evaluation's running state: the report, the per-group counts, and the progress over the samples."""

    def __init__(self, samples: list[Any], progress: Callable[[int, int], None] | None) -> None:
        self.samples = samples
        self.progress = progress
        self.report = GroundingReport(predictions=[], total=len(samples))
        self.groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.wrong: dict[str, int] = defaultdict(int)
        self.done = 0
        # Ids as score.py compares them (as text); a repeated id gets no error line in the predictions, which
        # would stand for the other sample's.
        self.id_counts: dict[str, int] = defaultdict(int)
        for s in samples:
            sid = _sample_id(s)
            if sid is not None:
                self.id_counts[str(sid)] += 1

    def step(self) -> None:
        """One more sample done (scored or an error)."""
        self.done += 1
        if self.progress:
            self.progress(self.done, len(self.samples))

    def error(self, index: int, sample: Any, reason: str) -> None:
        """Sample `index` cannot be scored: listed with why (and in the predictions, when its id is unique)."""
        sid = _sample_id(sample)
        self.report.errors.append(SampleError(index, sid, reason))
        if sid is not None and self.id_counts[str(sid)] == 1:
            self.report.predictions.append({"id": sid, "error": reason})
        self.step()

    def by_image(self) -> dict[str, list[tuple[int, dict[str, Any]]]]:
        """The samples that can be scored, by image (in order); the others are errors."""
        out: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        first: dict[str, int] = {}
        for i, s in enumerate(self.samples, 1):
            why = check_sample(s)
            if why is None and str(s["id"]) in first:
                why = f"its id repeats sample {first[str(s['id'])]}'s"
            elif why is None:
                first[str(s["id"])] = i
            if why:
                self.error(i, s, why)
            else:
                out[s["img_filename"]].append((i, s))
        return out

    def count(self, s: dict[str, Any], pred: dict[str, Any], score: float | None, inside: bool) -> None:
        """A scored sample into its groups: all, its type, its platform and its app."""
        hit = _hit(s, pred)
        keys = ["all", f"type:{s.get('data_type') or '?'}", f"platform:{s.get('platform') or '?'}"]
        if s.get("data_source"):
            keys.append(f"app:{s['data_source']}")
        clicked = not pred.get("abstain")
        for key in keys:
            g = self.groups[key]
            g[0] += hit
            g[1] += not clicked
            g[2] += 1
            self.wrong[key] += clicked and not hit
        self.report.outcomes.append(Outcome(score, s["bbox"] is not None, inside, tuple(keys)))


def _predict(parsed: Any, s: dict[str, Any]) -> tuple[dict[str, Any], float | None, bool]:
    """The prediction for one sample, its score (None: nothing to click) and whether its point is in the bbox."""
    inside = False
    try:
        # The best candidate whatever its score, for the risk-coverage table; below MIN_SCORE
        # the prediction abstains, as `locate` does.
        res = locate_target(parsed, s["instruction"], min_score=0.0)
    except TargetNotFound:
        return {"id": s["id"], "abstain": True}, None, False
    x, y = res.point.rounded()
    if s["bbox"] is not None:
        bx1, by1, bx2, by2 = s["bbox"]
        inside = bool(bx1 <= x <= bx2 and by1 <= y <= by2)
    pred: dict[str, Any] = ({"id": s["id"], "x": x, "y": y} if res.score >= MIN_SCORE
                            else {"id": s["id"], "abstain": True})
    pred["score"] = round(res.score, 4)
    return pred, res.score, inside


def _score_image(scoring: _Scoring, folder: Path, parser: ScreenParser, img_name: str,
                 group: list[tuple[int, dict[str, Any]]]) -> None:
    """Parse one image once and score each of its samples."""
    report = scoring.report
    try:
        image = load_image(folder / img_name)
    except AgentError as exc:  # missing, damaged, too large: its samples are errors, the rest go on
        for i, s in group:
            scoring.error(i, s, str(exc))
        return
    parser.reset()  # each image is a screen never seen: no reuse from the previous one
    t0 = time.perf_counter()
    parsed = parser.parse(image, incremental=False)
    parse_ms = (time.perf_counter() - t0) * 1000
    report.parse_ms.append(parse_ms)
    for _, s in group:
        t1 = time.perf_counter()
        pred, score, inside = _predict(parsed, s)
        loc_ms = (time.perf_counter() - t1) * 1000
        report.locate_ms.append(loc_ms)
        report.sample_ms.append(parse_ms / len(group) + loc_ms)
        report.predictions.append(pred)
        scoring.count(s, pred, score, inside)
        scoring.step()


def evaluate_grounding(folder: Path, parser: ScreenParser, progress: Callable[[int, int], None] | None = None,
                       samples: list[Any] | None = None) -> GroundingReport:
    """Score every sample of `folder` (`samples`: its annotations, when already loaded). Ctrl+C
    (KeyboardInterrupt) stops it early: the report then holds what was done, marked `interrupted`."""
    scoring = _Scoring(load_samples(folder) if samples is None else samples, progress)
    by_image = scoring.by_image()
    try:
        for img_name, group in by_image.items():
            _score_image(scoring, folder, parser, img_name, group)
    except KeyboardInterrupt:  # the samples done so far are kept, scored and reported as partial
        scoring.report.interrupted = True
    report = scoring.report
    report.done = scoring.done
    report.groups = dict(scoring.groups)
    report.wrong = dict(scoring.wrong)
    return report


def write_predictions(report: GroundingReport, out: Path) -> None:
    """The predictions as JSON lines, one per sample (score.py's format)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for p in report.predictions:
            f.write(json.dumps(p) + "\n")
