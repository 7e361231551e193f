"""The calibrated probability that a click on a candidate is right, learned on harvested screens of real
applications: for a text, models/locate's logistic regression over the evidence below (fitted on the
training apps, its abstain threshold chosen out of app for at most 2% wrong clicks); for an icon, the icon
model's own calibration (models/icon_embed), which offers an icon only above its own threshold.

The evidence is what `locate` knows of a candidate: how its text carries the name (exact, with spacing or
confusable glyphs folded, as whole words inside a longer text and how much of it, approximately), whether it
is named by the label beside it, its kind against the kind asked for, the OCR confidence, how long the name is,
how many other places on the screen carry the name as well (for a candidate in the window that has the focus,
those in that window).
No weight is written by hand: models/locate/fit.py learns them all.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from desktop_agent.config import ENV_NAMES, read_environment
from desktop_agent.geometry import Rect
from desktop_agent.grounding.instruction import Instruction, normalize
from desktop_agent.perception.elements import Element, ElementKind

CALIBRATION_PATH = Path(__file__).resolve().parents[2] / "models" / "locate" / "calibration.json"
CALIBRATION_ENV = ENV_NAMES["locate_calibration"]

_INTERACTIVE = {ElementKind.BUTTON, ElementKind.INPUT, ElementKind.CHECKBOX, ElementKind.RADIO,
                ElementKind.MENU_ITEM, ElementKind.LINK, ElementKind.TOGGLE, ElementKind.DROPDOWN, ElementKind.TAB,
                ElementKind.SLIDER, ElementKind.SCROLLBAR}
_MATCHES = ("exact", "spacing", "folded", "contains", "fuzzy")

# The kind asked for ("the Save button") and the case it is written in are left out: the harvested names the
# model learns from carry neither, so their weights would be guesses. They only order texts (Scored.score).
FEATURES = ("bias", *_MATCHES, "coverage", "similarity", "named_by_label", "interactive",
            "phrase", "ocr_confidence", "label_short", "rivals_whole", "rivals_partial", "lead", "rest_words",
            "rest_is_shortcut", *(f"words_if_{how}" for how in _MATCHES))
# A key combination or function key: what a menu row shows beside an item's name ("Save  Ctrl+S").
_SHORTCUT = re.compile(r"(?:(?:ctrl|control|alt|shift|super|meta|cmd|⌘)\s*[+-]\s*)+\S{1,9}|f(?:[1-9]|1[0-9]|2[0-4])")


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate target and the evidence for it."""

    score: float  # the hand-ordered match strength: only orders texts before the model weighs them
    whole: bool  # its text as a whole is the name
    element: Element
    box: Rect  # where to click: the span of text that carries the name, or the element
    how: str  # "exact", "spacing", "folded", "contains", "fuzzy" or "icon"
    coverage: float  # the share of its text that the name covers (1: all of it)
    similarity: float  # closeness of an approximate match, an icon's cosine; 1 otherwise
    via_label: bool  # a control named by the label beside it
    phrase: bool  # pieced together from several texts
    case_exact: bool  # written in the instruction exactly so, case included
    conf: float  # the least OCR (or detector) confidence behind it
    icon_logit: float = 0.0  # the icon model's calibrated log-odds (icons only)
    rest: str = ""  # its text beside the name, when the name is only part of it


def _near(a: Rect, b: Rect) -> bool:
    """Side by side or one above the other, at most about a line height apart."""
    h = min(a.height, b.height)
    return max(b.x1 - a.x2, a.x1 - b.x2) <= 2 * h and max(b.y1 - a.y2, a.y1 - b.y2) <= h


def same_target(a: Scored, b: Scored) -> bool:
    """Whether two candidates are one target: the same place, or a control and the label beside it that
    names it (a field and its "Name" label): a click on either is meant for the same control."""
    if a.box.contains(b.box.center) or b.box.contains(a.box.center):
        return True
    return (a.via_label != b.via_label and normalize(a.element.text) == normalize(b.element.text)
            and _near(a.element.bbox, b.element.bbox))


def shared(cands: list[Scored], p: np.ndarray) -> np.ndarray:
    """Each candidate's probability raised to that of the same target's likeliest candidate: which of a label
    and its control gets the click is then the hand-written order's call (the kind asked for: a field to
    type into), not a coin flip between two views of one target."""
    out = p.copy()
    for i, a in enumerate(cands):
        for j, b in enumerate(cands):
            if i != j and p[j] > out[i] and same_target(a, b):
                out[i] = p[j]
    return out


def _apart(c: Scored, o: Scored, focus: Rect | None) -> bool:
    """Whether `o` is in another window than `c` while `c` is in the one that has the focus (`focus`): then
    `o` is not a rival of `c`. The person works in the focused window (a dialog's "OK", not a toolbar's
    behind it), and a rival is counted within one window, as on the single-window screens the weights were
    learned from."""
    return focus is not None and focus.contains(c.box.center) and not focus.contains(o.box.center)


def features(ins: Instruction, cands: list[Scored], focus: Rect | None = None) -> np.ndarray:
    """One row of FEATURES per candidate. Rivals are the other texts, elsewhere on the screen, that carry
    the name too (as a whole, or in part or approximately), not counting those outside the focused window
    (`focus`, where known) for a candidate inside it; `lead` is how far this candidate's match is ahead
    of the best of them. The rest of a text that carries the name in part is counted in words, and told apart
    when it is a key combination (a menu row's "Ctrl+S")."""
    texts = [c for c in cands if c.how != "icon"]
    words = len(ins.label.split())
    rows = np.zeros((len(cands), len(FEATURES)), np.float64)
    for i, c in enumerate(cands):
        others = [o for o in texts if o is not c and not same_target(o, c) and not _apart(c, o, focus)]
        f = _evidence_features(ins, c, others) | _match_features(c, words)
        rows[i] = [f[name] for name in FEATURES]
    return rows


def _evidence_features(ins: Instruction, c: Scored, others: list[Scored]) -> dict[str, float]:
    """The features of candidate `c` but its kind of match, given its rivals `others`."""
    best_other = max((o.score for o in others), default=0.0)
    is_icon = c.how == "icon"
    return {
        "bias": 1.0,
        "coverage": c.coverage if not is_icon else 0.0,
        "similarity": c.similarity if c.how == "fuzzy" else 0.0,
        "named_by_label": float(c.via_label), "interactive": float(c.element.kind in _INTERACTIVE),
        "phrase": float(c.phrase), "ocr_confidence": 0.0 if is_icon else c.conf,
        "label_short": float(len(ins.label) <= 3),
        "rivals_whole": math.log1p(sum(o.whole for o in others)),
        "rivals_partial": math.log1p(sum(not o.whole and o.score >= 0.72 for o in others)),
        "lead": 0.0 if is_icon else max(-0.5, min(0.5, c.score - best_other)),
        "rest_words": math.log1p(len(c.rest.split())),
        "rest_is_shortcut": float(bool(c.rest) and _SHORTCUT.fullmatch(c.rest.casefold()) is not None),
    }


def _match_features(c: Scored, words: int) -> dict[str, float]:
    """The features of how candidate `c` carries a name of `words` words: its kind of match, and the name's
    length for that kind."""
    f = {how: float(c.how == how) for how in _MATCHES}
    # Spacing or OCR-confusable glyphs aside the text is the name: an exact read (the harvest has few
    # such reads to learn their own weights from; theirs add to exact's).
    f["exact"] = float(c.how in ("exact", "spacing", "folded"))
    # How long the name is means something else for each kind of match: a long name read exactly is
    # sure, a long name matched approximately or by its meaning much less.
    for how in _MATCHES:
        f[f"words_if_{how}"] = min(words, 4) / 4 if c.how == how else 0.0
    return f


@dataclass(frozen=True, slots=True)
class LocateCalibration:
    """p(right) = sigmoid(weights . features); clicks at `threshold` or above."""

    weights: dict[str, float]
    threshold: float

    def probabilities(self, ins: Instruction, cands: list[Scored], focus: Rect | None = None) -> np.ndarray:
        """A text's probability from this model (rivals counted as `features` says, given the focused
        window's box `focus`); an icon's is the icon model's own calibrated one."""
        w = np.array([self.weights.get(name, 0.0) for name in FEATURES])
        z = np.where([c.how == "icon" for c in cands], [c.icon_logit for c in cands],
                     features(ins, cands, focus) @ w)
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))))


def load_calibration(path: Path) -> LocateCalibration:
    """The locate calibration (weights and threshold) stored at `path`."""
    meta = json.loads(path.read_text(encoding="utf-8"))
    return LocateCalibration({str(k): float(v) for k, v in meta["weights"].items()}, float(meta["threshold"]))


@lru_cache(maxsize=1)
def shared_calibration() -> LocateCalibration:
    """The shipped calibration (or the one named by DESKTOP_AGENT_LOCATE_CALIBRATION)."""
    return load_calibration(read_environment().path("locate_calibration", CALIBRATION_PATH))
