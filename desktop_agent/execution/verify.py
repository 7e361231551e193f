"""Waiting for the screen to settle, telling whether an action had a visible effect, and reading a toggle's
checked state from the accessibility tree after it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from desktop_agent.geometry import DesktopPoint, Rect
from desktop_agent.perception.accessibility.nodes import A11ySnapshot
from desktop_agent.perception.regions import difference_mask
from desktop_agent.secret_fields import MASK

# A text caret (1-2 px wide) blinks on its own; a change that thin is never an action's effect.
_CARET_MAX_WIDTH = 3
_MIN_CHANGED_PIXELS = 12


@dataclass(frozen=True, slots=True)
class Change:
    """What changed between two pictures: whether it counts, how many pixels, and where."""

    changed: bool
    pixels: int
    bbox: Rect | None

    def describe(self) -> str:
        """The change in words ('312 px changed in [...]', 'no visible change')."""
        if not self.changed:
            return "no visible change"
        if self.bbox is None:
            return f"{self.pixels} px changed"
        return f"{self.pixels} px changed in {self.bbox.as_list()}"


def visible_change(before: np.ndarray, after: np.ndarray, region: Rect | None = None) -> Change:
    """The change between `before` and `after` (in `region` only, when given), a blinking caret left out."""
    if before.shape != after.shape:
        h, w = after.shape[:2]
        return Change(True, h * w, Rect(0, 0, w, h))
    mask = difference_mask(before, after, threshold=16)
    if region is not None:
        h, w = mask.shape
        x1, y1, x2, y2 = region.clipped(w, h).int_box()
        window = np.zeros_like(mask)
        window[y1:y2, x1:x2] = mask[y1:y2, x1:x2]
        mask = window
    if not mask.any():
        return Change(False, 0, None)
    n, _, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(mask, np.ones((3, 3), np.uint8)), connectivity=8)
    total, box = 0, None
    for x, y, w, h, _area in stats[1:n]:
        if w <= _CARET_MAX_WIDTH + 2:  # the dilation widened it by 2
            continue
        count = int(mask[y:y + h, x:x + w].sum())
        total += count
        r = Rect(float(x), float(y), float(x + w), float(y + h))
        box = r if box is None else box.union(r)
    return Change(total >= _MIN_CHANGED_PIXELS, total, box)


def _dominant_colour(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """The most common colour of a set of BGR pixels (quantised to 8 levels a channel) and its share."""
    flat = pixels.reshape(-1, pixels.shape[-1]).astype(np.int32)
    if not len(flat):
        return np.zeros(3), 0.0
    keys = (flat[:, 0] // 32) * 64 + (flat[:, 1] // 32) * 8 + flat[:, 2] // 32
    counts = np.bincount(keys, minlength=512)
    top = int(counts.argmax())
    return flat[keys == top].mean(axis=0), float(counts[top]) / len(flat)


def shows_highlight(image: np.ndarray, box: Rect) -> bool:
    """Whether the item in `box` is drawn on a selection highlight: most of the box is one accent colour
    (saturated, as selection colours are) that differs clearly from the background a line above and
    below it."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box.clipped(w, h).int_box()
    bh = y2 - y1
    cy = (y1 + y2) // 2
    if bh < 6 or x2 - x1 < 4 or cy - bh - 1 < 0 or cy + bh + 1 > h:
        return False
    inside, share = _dominant_colour(image[y1:y2, x1:x2])
    if share < 0.5 or max(inside) - min(inside) < 0.25 * max(max(inside), 1):  # grey: not an accent
        return False
    around = np.concatenate([image[cy - bh - 1:cy - bh + 1, x1:x2].reshape(-1, image.shape[2]),
                             image[cy + bh - 1:cy + bh + 1, x1:x2].reshape(-1, image.shape[2])])
    outside, _ = _dominant_colour(around)
    return float(np.linalg.norm(inside - outside)) > 50


def wait_until_settled(grab: Callable[[], np.ndarray], timeout: float = 2.0, interval: float = 0.05,
                       abort: Callable[[], bool] | None = None) -> tuple[np.ndarray, bool]:
    """Capture until two frames in a row show no visible change (a blinking caret ignored). Returns the
    last frame and whether it settled before the timeout."""
    last = grab()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if abort is not None and abort():
            break
        time.sleep(interval)
        cur = grab()
        if not visible_change(last, cur).changed:
            return cur, True
        last = cur
    return last, False


# Controls whose effect the accessibility tree states exactly: their checked state.
TOGGLE_ROLES = frozenset({"check box", "radio button", "toggle button", "switch", "check menu item",
                          "radio menu item"})


@dataclass(frozen=True, slots=True)
class StateChange:
    """A toggle's checked state before an action (the fused element's) and after it (a fresh read)."""

    role: str
    name: str
    before: bool
    after: bool

    @property
    def changed(self) -> bool:
        """Whether the checked state flipped."""
        return self.before != self.after

    def describe(self) -> str:
        """The toggle's state in the app's words."""
        now = "checked" if self.after else "not checked"
        verb = "is now" if self.changed else "is still"
        return f"the app says {self.role} {self.name!r} {verb} {now}"

    def to_dict(self) -> dict[str, object]:
        """The state as the `verify` JSON's `tree` holds it."""
        return {"role": self.role, "name": self.name, "checked_before": self.before, "checked_after": self.after}


def toggle_state(snapshot: A11ySnapshot, point: DesktopPoint, role: str, name: str,
                 was_checked: bool) -> StateChange | None:
    """The checked state, after an action, of the toggle of `role` at `point` (the smallest such node there;
    the same name when it has one); None when the tree has no such node there."""
    hits = [n for n in snapshot.nodes
            if n.role == role and n.box is not None and n.box.contains(point) and (not name or n.name == name)]
    if not hits:
        return None
    node = min(hits, key=lambda n: n.box.area if n.box is not None else 0)
    return StateChange(role, node.name, was_checked, node.states.checked)


SHOWN_VALUE = 60  # characters of a field's content shown in a step's words


@dataclass(frozen=True, slots=True)
class ValueChange:
    """A text field's content before typing into it (the fused element's) and after (a fresh read). What it
    holds is shown with the run's secrets masked, and cut short."""

    role: str
    name: str
    before: str
    after: str
    secrets: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the field's content changed."""
        return self.before != self.after

    def _shown(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, MASK)
        return text if len(text) <= SHOWN_VALUE else text[: SHOWN_VALUE - 1] + "…"

    def describe(self) -> str:
        """The field's content in the app's words."""
        name = f" {self.name!r}" if self.name else ""
        if not self.changed:
            return f"the app says {self.role}{name} still holds {self._shown(self.after)!r}"
        return f"the app says {self.role}{name} now holds {self._shown(self.after)!r}"

    def to_dict(self) -> dict[str, object]:
        """The change as the `verify` JSON's `tree` holds it (secrets masked)."""
        return {"role": self.role, "name": self.name, "value_before": self._shown(self.before),
                "value_after": self._shown(self.after)}


def value_state(snapshot: A11ySnapshot, point: DesktopPoint, role: str, before: str,
                secrets: tuple[str, ...] = ()) -> ValueChange | None:
    """The content, after typing, of the field of `role` at `point` (the smallest such node there); None when
    the tree has no such node there or did not read its content."""
    hits = [n for n in snapshot.nodes if n.role == role and n.value is not None and n.box is not None
            and n.box.contains(point)]
    if not hits:
        return None
    node = min(hits, key=lambda n: n.box.area if n.box is not None else 0)
    return ValueChange(role, node.name, before, node.value or "", secrets)
