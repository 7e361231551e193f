"""Set-of-marks: number the parsed elements of every monitor and draw the numbers on the screenshots
that go to the model, so that it answers with a number and our grounding supplies the pixels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from desktop_agent.perception.elements import Element, ElementKind
from desktop_agent.perception.icon_meaning import DESCRIBE_MIN
from desktop_agent.planning.planner import ScreenView

# Kinds a person acts on come first when a busy screen has more elements than the prompt can hold.
_PRIORITY = {ElementKind.BUTTON: 0, ElementKind.ICON: 0, ElementKind.INPUT: 0, ElementKind.CHECKBOX: 0,
             ElementKind.RADIO: 0, ElementKind.MENU_ITEM: 0, ElementKind.LINK: 0, ElementKind.TOGGLE: 0,
             ElementKind.DROPDOWN: 0, ElementKind.TAB: 0, ElementKind.SLIDER: 0, ElementKind.TEXT: 1,
             ElementKind.SCROLLBAR: 1, ElementKind.CONTAINER: 2}


@dataclass(frozen=True)
class Mark:
    """A numbered element the model sees on a screenshot (set-of-marks)."""

    number: int  # what the model sees and answers with, 1-based across all monitors
    view: ScreenView
    element: Element

    def label(self) -> str:
        """Words for the element in history lines and the timeline (its text, else its icon meaning)."""
        el = self.element
        if el.text:
            return el.text[:60]
        if el.icon and el.icon[0][1] >= DESCRIBE_MIN:
            return f"{el.icon[0][0]} icon"
        return f"unlabelled {el.kind.value}"


def assign_marks(views: Sequence[ScreenView], max_marks: int = 150) -> list[Mark]:
    """Number the elements of all monitors in reading order, keeping at most `max_marks` (actionable
    kinds first) so the prompt stays bounded on dense screens."""
    pool = [(v, e) for v in views for e in v.parsed.elements]
    if len(pool) > max_marks:
        pool.sort(key=lambda ve: (_PRIORITY.get(ve[1].kind, 1), -ve[1].confidence))
        pool = pool[:max_marks]
    pool.sort(key=lambda ve: (ve[0].monitor_index, round(ve[1].bbox.y1 / 8), ve[1].bbox.x1))
    return [Mark(i + 1, v, e) for i, (v, e) in enumerate(pool)]


def _mark_colour(number: int) -> tuple[int, int, int]:
    hues = [(75, 25, 230), (200, 130, 0), (60, 160, 60), (48, 130, 245), (180, 30, 145), (128, 128, 0)]  # BGR
    return hues[number % len(hues)]


def draw_marks(view: ScreenView, marks: Sequence[Mark], max_side: int = 1280) -> tuple[np.ndarray, float]:
    """The view's screenshot scaled to fit `max_side`, each element boxed and numbered. Returns the BGR
    image and the scale from frame pixels to image pixels."""
    img = view.frame.image
    h, w = img.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    size = (round(w * scale), round(h * scale))
    out = cv2.resize(img, size, interpolation=cv2.INTER_AREA) if scale < 1 else img.copy()
    out = np.ascontiguousarray(out[:, :, :3])
    font = cv2.FONT_HERSHEY_SIMPLEX
    for m in marks:
        if m.view is not view:
            continue
        x1, y1, x2, y2 = (round(v * scale) for v in m.element.bbox.int_box())
        colour = _mark_colour(m.number)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, 1)
        label = str(m.number)
        (tw, th), base = cv2.getTextSize(label, font, 0.4, 1)
        ty = y1 - 2 if y1 - th - 4 >= 0 else min(y2 + th + 2, out.shape[0] - 1)
        cv2.rectangle(out, (x1, ty - th - 2), (x1 + tw + 2, ty + base - 1), colour, -1)
        cv2.putText(out, label, (x1 + 1, ty - 1), font, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return out, scale


def encode_png(bgr: np.ndarray) -> bytes:
    """A BGR image as PNG bytes."""
    ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ValueError("could not encode the marked screenshot as PNG")
    return buf.tobytes()
