"""How a run reads to a person, the one formatting module of the CLI's printer, the app's controller and timeline,
and the HTML report: status words, stage names, durations, counts ("1 step", "2 steps"), where a step acted,
what a model answer cost, a run's totals, a step's outcome in words, its developer figures, and its pictures
(before and after crops of the area that changed, the whole target in view).

Every text here is plain text: the timeline shows it in plain labels, the report escapes it."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from desktop_agent.execution.change_words import NO_CHANGE
from desktop_agent.geometry import Rect
from desktop_agent.runs.record import RunStatus, TargetRecord, Usage
from desktop_agent.runs.store import RunRow, StepRow

# What the person reads for a record's status: `aborted` is a run (or step) they stopped.
STATUS_WORDS = {"aborted": "stopped", "sending": "sending input", "sent": "sent, not yet checked"}
STOPPED_BY_YOU = "Stopped by you"
# Messages that say no more than "stopped by you" (the loop's and the approval panel's).
_PLAIN_STOPS = ("run stopped on request", "stopped by you")

# The stages a step's time goes to, as the timings name them, in the order a step runs them.
STAGE_NAMES = {
    "settle_capture": "waiting for the screen to settle",
    "parse": "reading the screen",
    "parse_ocr_det": "finding text",
    "parse_ocr_rec": "reading text",
    "parse_detect": "finding controls",
    "parse_regions": "finding what changed",
    "parse_merge": "joining text and controls",
    "parse_icons": "naming icons",
    "parse_a11y_wait": "waiting for the accessibility tree",
    "parse_a11y_fuse": "joining the accessibility tree",
    "parse_total": "reading the screen, in all",
    "locate": "finding the target",
    "approval": "waiting for your approval",
    "pre_act_settle": "waiting for the screen before acting",
    "act": "sending the input",
    "verify": "checking the result",
    "outcome": "putting the result in words",
    "step": "the whole step",
}
USAGE_NAMES = {"prompt_tokens": "tokens sent to the model", "completion_tokens": "tokens of the model's answer",
               "model_ms": "the model's answer time", "cost_usd": "cost", "confidence": "the model's confidence"}
_PX_CHANGED = re.compile(r"^\d+ px changed")
_NO_VISIBLE = "no visible change"


def status_word(status: str) -> str:
    """A record's status as the person reads it ('stopped' for `aborted`)."""
    return STATUS_WORDS.get(status, status)


def tidy_counts(message: str) -> str:
    """A recorded message as a person reads it: 'all 1 steps ran and were verified' is 'the 1 step ran and
    was verified' (the record keeps its words: tools read them)."""
    message = re.sub(r"\ball 1 steps ran and were\b", "the 1 step ran and was", message)
    message = re.sub(r"\b1 steps ran and were\b", "1 step ran and was", message)
    return re.sub(r"\b1 steps\b", "1 step", message)


def outcome_words(status: str, message: str) -> str:
    """A run's outcome in words: 'Stopped by you' for a run the person stopped, else its message."""
    message = tidy_counts(message)
    if status != "aborted":
        return message
    if not message or message.lower().startswith(_PLAIN_STOPS):
        return STOPPED_BY_YOU
    return f"{STOPPED_BY_YOU} ({message})"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 step', '2 steps', '0 steps'."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def duration(ms: float) -> str:
    """A duration for people: '420 ms', '1.8 s', '2 min 05 s'."""
    if ms < 1000:
        return f"{ms:.0f} ms"
    s = ms / 1000
    if s < 60:
        return f"{s:.1f} s"
    return f"{int(s // 60)} min {int(s % 60):02d} s"


def place_words(x: object, y: object, monitor: object, at: str = "at") -> str:
    """Where a step acts: 'at (812, 44) on monitor 2' (`at`: 'at desktop' where the report says so)."""
    return f"{at} ({x}, {y}) on monitor {monitor}"


def target_place(target: TargetRecord, at: str = "at") -> str:
    """A recorded target's place in words (see `place_words`)."""
    return place_words(target.desktop[0], target.desktop[1], target.monitor, at)


def money(usd: float, places: int = 4) -> str:
    """A cost: '$0.0012'."""
    return f"${usd:.{places}f}"


def tokens_words(n: float) -> str:
    """A token count for people: '2,100 tokens'."""
    return f"{n:,.0f} tokens"


def answer_cost(usage: Usage) -> str:
    """What one model answer cost, as the CLI prints it: '1834+41 tokens, 900 ms, $0.0012' (no cost: left out)."""
    cost = f", {money(usage.cost_usd)}" if usage.cost_usd is not None else ""
    return (f"{usage.prompt_tokens:.0f}+{usage.completion_tokens:.0f} tokens, {usage.model_ms or 0:.0f} ms"
            f"{cost}")


def stage_name(key: str) -> str:
    """A timing's stage in words; one measured while planning says so."""
    if key.startswith("plan_"):
        return f"{stage_name(key[5:])} (for the plan)"
    return STAGE_NAMES.get(key, key.replace("_", " "))


@dataclass(frozen=True)
class RunTotals:
    """A run's steps, time, tokens and cost."""

    steps: int
    seconds: float | None  # None: the run has no end and no steps that ended
    tokens: int
    cost_usd: float | None  # None: no step reported a cost

    def words(self) -> str:
        """'3 steps · 12.4 s · 2,400 tokens · $0.0012'."""
        parts = [count(self.steps, "step")]
        if self.seconds is not None:
            parts.append(duration(self.seconds * 1000))
        if self.tokens:
            parts.append(tokens_words(self.tokens))
            parts.append(money(self.cost_usd) if self.cost_usd is not None else "cost not reported")
        return " · ".join(parts)


def run_totals(run: RunRow, steps: list[StepRow], now: float | None = None) -> RunTotals:
    """Steps, time (to the end, or to now for a run in progress), tokens and cost of one run."""
    end: float | None = run.ended_at
    if end is None and run.status == RunStatus.RUNNING:
        end = now if now is not None else time.time()
    elif end is None:
        end = max((s.ended_at or 0.0 for s in steps), default=0.0) or None
    seconds = max(0.0, end - run.started_at) if end else None
    usages = [Usage.of(s.usage) for s in steps]
    tokens = int(sum(u.tokens for u in usages))
    costs = [u.cost_usd for u in usages if u.cost_usd is not None]
    return RunTotals(len(steps), seconds, tokens, sum(costs) if costs else None)


def step_words(s: StepRow) -> str:
    """The action in plain words, with where it acted: 'Click "Save" at (812, 44) on monitor 2'."""
    words = s.description
    if s.target:
        target = TargetRecord.of(s.target)
        words += f" {target_place(target)}"
        el = target.element
        source = {"both": "the pixels and the app's accessibility tree",
                  "accessibility": "the app's accessibility tree"}
        if el.get("origin") in source:  # where the target's name came from (absent: the pixels alone)
            words += f", found by {source[el['origin']]} ({el.get('role', '?')})"
    return words


def step_summary(s: StepRow) -> str:
    """A step's figures a person reads: how long it took, the model's time, tokens and cost."""
    parts = []
    usage = Usage.of(s.usage)
    if "step" in s.timings:
        parts.append(f"took {duration(s.timings['step'])}")
    if usage.model_ms is not None:
        parts.append(f"model {duration(usage.model_ms)}")
    if usage.tokens:
        parts.append(tokens_words(usage.tokens))
    if usage.cost_usd is not None:
        parts.append(money(usage.cost_usd))
    return " · ".join(parts)


def step_details(s: StepRow) -> list[tuple[str, str]]:
    """A step's developer figures, (name, value) rows: every stage timing under its name and key, the model's
    usage, what verification measured, and the target's score."""
    rows = [(f"{stage_name(k)} ({k})", duration(v)) for k, v in s.timings.items()]
    for k, v in s.usage.items():
        if k == "cost_usd":
            value = money(v, 6)
        elif k == "confidence":
            value = f"{v:.0%}"
        elif k == "model_ms":
            value = duration(v)
        else:
            value = f"{v:,.0f}"
        rows.append((f"{USAGE_NAMES.get(k, k.replace('_', ' '))} ({k})", value))
    checked = s.verify or {}
    if checked.get("detail"):
        rows.append(("verification (detail)", str(checked["detail"])))
    if checked.get("bbox"):
        rows.append(("changed area (bbox)", str(checked["bbox"])))
    if s.target:
        rows.append(("target score (score)", str(s.target.get("score", "?"))))
        rows.append(("target box (bbox)", str(s.target.get("bbox"))))
    return rows


def step_outcome(s: StepRow) -> str:
    """What a step did, in words: its recorded outcome, else what its record says in a person's words
    (a bare pixel count reads 'the screen changed'); its error after it. Empty: nothing to tell."""
    v = s.verify or {}
    words = s.outcome or ""
    detail = str(v.get("detail", ""))
    if words == NO_CHANGE and detail.startswith(_NO_VISIBLE) and len(detail) > len(_NO_VISIBLE):
        words += detail[len(_NO_VISIBLE):]  # why that is no failure: "(a shortcut may act out of sight)"
    if not words:
        if detail:
            words = "the screen changed" if _PX_CHANGED.match(detail) and v.get("changed", True) else detail
        elif "answer" in v:
            words = f"you answered: {v['answer']}"
        elif v.get("found"):
            words = "it is on the screen"
    if s.error:
        return f"{words}\nError: {s.error}" if words else f"Error: {s.error}"
    return words


# -- pictures --------------------------------------------------------------------------------------------
_MIN_CROP = (220, 100)
_TARGET_MARGIN = 24
_CHANGE_MARGIN = 16
# A target and a change further apart than this are shown apart: one crop of both would be too small to read.
_ONE_CROP_MAX = (820, 460)
TARGET_BGR = (170, 0, 255)
CHANGE_BGR = (40, 160, 40)


@dataclass(frozen=True, eq=False)
class Picture:
    """One of a step's pictures: a caption and a cropped, marked image."""

    caption: str  # "Before", "After", "The target"
    image: np.ndarray  # BGR, already cropped and marked


def _monitor_of(path: str | None) -> str | None:
    m = re.search(r"-m(\d+)\.png$", path or "")
    return m.group(1) if m else None


def _box(values: Any) -> Rect | None:
    try:
        x1, y1, x2, y2 = (float(v) for v in values)
    except (TypeError, ValueError):
        return None
    return Rect(x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None


def crop_box(boxes: list[tuple[Rect, float]], width: int, height: int) -> Rect:
    """The crop holding every box with its margin, at least a readable minimum, inside the image."""
    out = boxes[0][0].expanded(boxes[0][1])
    for b, margin in boxes[1:]:
        out = out.union(b.expanded(margin))
    grow_x = max(0.0, _MIN_CROP[0] - out.width) / 2
    grow_y = max(0.0, _MIN_CROP[1] - out.height) / 2
    out = Rect(out.x1 - grow_x, out.y1 - grow_y, out.x2 + grow_x, out.y2 + grow_y)
    # Slide back inside the image rather than cut the box.
    dx = max(0.0, -out.x1) - max(0.0, out.x2 - width)
    dy = max(0.0, -out.y1) - max(0.0, out.y2 - height)
    return out.translated(dx, dy).clipped(width, height)


def _cut(image: np.ndarray, box: Rect, marks: list[tuple[Rect, tuple[int, int, int]]]) -> np.ndarray:
    x1, y1, x2, y2 = box.int_box()
    crop = image[y1:y2, x1:x2].copy()
    for r, colour in marks:
        a, b, c, d = r.int_box()
        cv2.rectangle(crop, (a - x1 - 3, b - y1 - 3), (c - x1 + 2, d - y1 + 2), colour, 2)
    return crop


def step_pictures(home: Path, s: StepRow) -> list[Picture]:
    """A step's pictures: before and after crops of one area holding the whole target (with margin) and the
    changed area; where the two lie far apart (or on other monitors), the target's crop, then before and
    after crops of the changed area. Steps with neither a target nor a change have none."""
    before = _screenshot(home, s.before_path)
    after = _screenshot(home, s.after_path)
    target = _target_box(s.target)
    v = s.verify or {}
    change = _box(v.get("bbox")) if v.get("changed") else None
    if before is not None and after is not None and _same_screen(before, after, s) and (target or change):
        return _paired_pictures(before, after, target, change)
    out: list[Picture] = []
    if before is not None and target is not None:
        out.append(_target_picture(before, target))
    if after is not None and change is not None:
        h, w = after.shape[:2]
        out.append(Picture("After", _cut(after, crop_box([(change, _CHANGE_MARGIN)], w, h), [(change, CHANGE_BGR)])))
    return out


def _screenshot(home: Path, path: str | None) -> np.ndarray | None:
    """A recorded screenshot's pixels (None: none recorded, or the file is gone)."""
    return cv2.imread(str(home / path)) if path and (home / path).exists() else None


def _same_screen(before: np.ndarray, after: np.ndarray, s: StepRow) -> bool:
    """Whether the step's before and after screenshots are of one monitor, at one size."""
    return before.shape == after.shape and _monitor_of(s.before_path) == _monitor_of(s.after_path)


def _target_box(target: dict[str, Any] | None) -> Rect | None:
    """The whole target: the element's box with the text's box and the box the click point is in."""
    box = _box(target.get("element_bbox") or target.get("bbox")) if target else None
    for key in ("bbox", "action_bbox"):  # the text's box and the box the click point is in
        if box is not None and target and target.get(key):
            more = _box(target[key])
            box = box.union(more) if more is not None else box
    return box


def _target_picture(before: np.ndarray, target: Rect) -> Picture:
    """The target's crop of the screen before the step, the target marked."""
    h, w = before.shape[:2]
    return Picture("The target", _cut(before, crop_box([(target, _TARGET_MARGIN)], w, h), [(target, TARGET_BGR)]))


def _paired_pictures(before: np.ndarray, after: np.ndarray, target: Rect | None, change: Rect | None
                     ) -> list[Picture]:
    """Before and after crops of one area holding the target and the change (screenshots of one size); the
    target's crop, then the change's, where one area holding both would be too large."""
    boxes = [(b, m) for b, m in ((target, _TARGET_MARGIN), (change, _CHANGE_MARGIN)) if b is not None]
    h, w = after.shape[:2]
    one = crop_box(boxes, w, h)  # type: ignore[arg-type]
    if target is None or change is None or (one.width <= _ONE_CROP_MAX[0] and one.height <= _ONE_CROP_MAX[1]):
        marks_before = [(target, TARGET_BGR)] if target is not None else []
        marks_after = [(change, CHANGE_BGR)] if change is not None else []
        return [Picture("Before", _cut(before, one, marks_before)), Picture("After", _cut(after, one, marks_after))]
    area = crop_box([(change, _CHANGE_MARGIN)], w, h)
    return [_target_picture(before, target), Picture("Before", _cut(before, area, [])),
            Picture("After", _cut(after, area, [(change, CHANGE_BGR)]))]
