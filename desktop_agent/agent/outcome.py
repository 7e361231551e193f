"""What a sent step did: the verification record (with a toggle's state read back from the accessibility tree),
the step's effect in words, and the verdict: verified, unverified (no change, and that is no failure) or failed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop_agent.agent.proposal import PARTIAL_EXIT, Located
from desktop_agent.agent.risk import looks_selected
from desktop_agent.agent.secrecy import tree_element_at
from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.execution.change_words import NO_CHANGE, describe_change
from desktop_agent.execution.verify import (
    TOGGLE_ROLES,
    Change,
    StateChange,
    ValueChange,
    toggle_state,
    value_state,
)
from desktop_agent.geometry import ScreenLayout
from desktop_agent.perception.accessibility.atspi_constants import VALUE_ROLES
from desktop_agent.perception.accessibility.reader import TreeReader
from desktop_agent.perception.ocr import OcrEngine
from desktop_agent.planning.actions import Action, Click, Press, TypeText
from desktop_agent.planning.planner import HistoryEntry
from desktop_agent.runs.record import RunStatus, StepStatus
from desktop_agent.secret_fields import MASK


@dataclass(frozen=True)
class Verdict:
    """How a sent step ends: its status, the event's message and what the planner's history is told."""

    status: StepStatus
    message: str
    history: str


def toggle_after(tree: TreeReader | None, layout: Callable[[], ScreenLayout], action: Action,
                 targets: list[Located]) -> StateChange | None:
    """A clicked check box's (radio button's, switch's) checked state read back from the accessibility
    tree, against the fused element's before: one bounded read, for toggles the tree named only."""
    if tree is None or not isinstance(action, Click) or not targets:
        return None
    el = tree_element_at(targets[0])
    if el is None or el.role not in TOGGLE_ROLES:
        return None
    read = tree.read(layout())
    if read is None:
        return None
    return toggle_state(read.snapshot, targets[0].desktop, el.role, "", "checked" in el.states)


def value_after(tree: TreeReader | None, layout: Callable[[], ScreenLayout], action: Action,
                targets: list[Located], secrets: set[str]) -> ValueChange | None:
    """A text field's content read back from the accessibility tree after typing into it, against the fused
    element's before: one bounded read, for fields whose content the tree gave (never a password field's,
    never when the typed text is a secret)."""
    if tree is None or not isinstance(action, TypeText) or action.text == MASK or not targets:
        return None
    el = tree_element_at(targets[0])
    if el is None or el.role not in VALUE_ROLES or el.value is None:
        return None
    read = tree.read(layout())
    if read is None:
        return None
    return value_state(read.snapshot, targets[0].desktop, el.role, el.value, tuple(secrets))


def verify_record(change: Change, toggle: StateChange | ValueChange | None) -> tuple[dict[str, Any], Change]:
    """The step's `verify` JSON, and the change that counts (a toggle the app says flipped did its work)."""
    verify: dict[str, Any] = {"changed": change.changed, "pixels": change.pixels,
                              "bbox": change.bbox.as_list() if change.bbox else None, "detail": change.describe()}
    if toggle is not None:
        verify["tree"] = toggle.to_dict()
        verify["detail"] = f"{verify['detail']}; {toggle.describe()}"
        if toggle.changed and not change.changed:
            change = Change(True, 0, None)
    return verify, change


def change_words(ocr: OcrEngine, action: Action, targets: list[Located], change: Change, before: ScreenFrame | None,
                 after: ScreenFrame | None, toggle: StateChange | ValueChange | None, secrets: set[str]) -> str:
    """The step's effect in words, from the text read in the changed area before and after (secrets
    masked); the app's word for a toggle. Never fails the step: words it cannot find are left out."""
    if toggle is not None:
        return toggle.describe()
    if not change.changed or change.bbox is None or before is None or after is None:
        return NO_CHANGE if not change.changed else "the screen changed"
    first = targets[0] if targets and targets[0].monitor.index == after.geometry.monitor.index else None
    try:
        return describe_change(before.image, after.image, change.bbox, ocr,
                               first.result.bbox if first is not None else None,
                               typed_into=isinstance(action, TypeText) and first is not None,
                               secret_field=isinstance(action, TypeText) and action.text == MASK,
                               secrets=secrets).words
    except Exception:  # words are a courtesy: a failing read leaves the step's record as it is
        return ""


def unchanged_reason(action: Action, targets: list[Located], change: Change) -> str:
    """Why a step with no visible change still did its job, or '' where it failed."""
    if change.changed:
        return ""
    if isinstance(action, Press):
        # Shortcuts often act out of sight (save, copy): record it honestly, do not fail the run.
        return "no visible change (a shortcut may act out of sight)"
    if isinstance(action, Click) and action.action == "click" and targets and looks_selected(targets[0]):
        # Clicking what is already selected changes nothing: the step's aim already holds.
        return "no visible change: the target was already selected"
    return ""


def verdict(action: Action, targets: list[Located], change: Change) -> Verdict:
    """Verified where the screen changed; unverified where no change is no failure; else failed."""
    why = unchanged_reason(action, targets, change)
    if why:
        return Verdict(StepStatus.UNVERIFIED, why, f"done, {why}")
    if not change.changed:
        return Verdict(StepStatus.FAILED, "no visible effect", "failed: no visible effect")
    return Verdict(StepStatus.VERIFIED, change.describe(), "verified")


def run_summary(idx: int, history: list[HistoryEntry], message: str) -> tuple[RunStatus, str, int]:
    """How a run that got to its end after `idx` steps went: its status, message and exit code; partial where
    steps were skipped, with the counts in words."""
    skipped = sum(1 for h in history if h.outcome == "skipped")
    unseen = sum(1 for h in history if h.outcome.startswith("done, no visible change"))
    status, code = RunStatus.SUCCEEDED, 0
    if skipped:
        # The person's choice, but not every step ran: say so in the status and the exit code.
        status, code = RunStatus.PARTIAL, PARTIAL_EXIT
        message = message or f"{idx - skipped} steps ran and were verified, {skipped} skipped"
    if unseen and not message:
        message = (f"all {idx} steps ran; {idx - unseen} verified on screen, {unseen} with no visible "
                   "change (a shortcut acting out of sight, or a target already selected)")
    return status, message or f"all {idx} steps ran and were verified", code
