"""What parsing a screen returns: elements with pixel-exact boxes in the frame's image pixels."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from desktop_agent.geometry import Rect


class ElementKind(StrEnum):
    """What an element is on screen: text, a button, an icon, a field, a check box, ..."""

    TEXT = "text"
    BUTTON = "button"
    ICON = "icon"
    INPUT = "input"
    CHECKBOX = "checkbox"
    RADIO = "radio"
    MENU_ITEM = "menu_item"
    LINK = "link"
    TOGGLE = "toggle"
    DROPDOWN = "dropdown"
    TAB = "tab"
    SLIDER = "slider"
    SCROLLBAR = "scrollbar"
    CONTAINER = "container"


@dataclass(frozen=True, slots=True)
class TextLine:
    """One OCR line: its box in image pixels, its text and the recognizer's confidence."""

    bbox: Rect
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class Element:
    """One UI element of a parsed screen: its kind, box in image pixels, text, confidence and where it came from."""

    id: int
    kind: ElementKind
    bbox: Rect
    text: str
    confidence: float
    source: str  # "ocr", "detector" or "ocr+detector"
    lines: tuple[TextLine, ...] = ()  # the OCR lines that make up `text`, for sub-span grounding
    icon: tuple[tuple[str, float], ...] = ()  # the nearest known icon names (name, cosine), for people and planners
    icon_vector: tuple[float, ...] = ()  # the icon's meaning vector (icon_meaning.IconMeaning), for grounding
    # Where the element came from: "vision" (the pixels alone), "accessibility" (the platform's tree alone,
    # checked against the pixels) or "both" (a tree node matched to a detected element).
    origin: str = "vision"
    role: str = ""  # the accessibility role ("push button", "check box", ...) where the tree named one
    states: tuple[str, ...] = ()  # the tree's states that are set ("enabled", "checked", "focused", ...)
    value: str | None = None  # a text field's content as the tree gives it (never a password field's)

    @property
    def enabled(self) -> bool:
        """False only where the tree says the control is disabled (vision cannot tell)."""
        return not self.role or "enabled" in self.states

    def to_dict(self, origin: bool = False) -> dict[str, Any]:
        """The JSON form. The accessibility fields appear on elements the tree contributed to, and `origin`
        on every element when `origin` is asked (a fused parse); a vision-only parse reads as before."""
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind.value,
            "bbox": self.bbox.as_list(),
            "text": self.text,
            "confidence": round(self.confidence, 3),
            "source": self.source,
        }
        if origin or self.origin != "vision":
            out["origin"] = self.origin
        if self.role:
            out["role"] = self.role
            out["states"] = list(self.states)
        if self.value is not None:
            out["value"] = self.value
        if self.icon:
            out["icon"] = [{"name": n, "score": round(p, 3)} for n, p in self.icon]
        return out


@dataclass(slots=True)
class ParseResult:
    """The elements of one frame, and where the time went (milliseconds by stage)."""

    elements: list[Element]
    width: int
    height: int
    timings: dict[str, float] = field(default_factory=dict)
    incremental: bool = False
    # What the accessibility tree contributed (None: vision only, no tree was given): its source, whether
    # the read was complete and in time, and how many of its nodes were used, added and left out.
    accessibility: dict[str, Any] | None = None
    # The box of the window that has the focus, in this frame's pixels, where the platform says which it is
    # (None: not known, or on another monitor). A control there is what a person means before a same-named
    # one in a window behind it (the main window under its dialog).
    focus: Rect | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as `parse --json` prints it: size, timings and elements."""
        fused = self.accessibility is not None
        out: dict[str, Any] = {
            "width": self.width,
            "height": self.height,
            "incremental": self.incremental,
            "timings_ms": {k: round(v, 1) for k, v in self.timings.items()},
            "elements": [e.to_dict(origin=fused) for e in self.elements],
        }
        if fused:
            out["accessibility"] = self.accessibility
        return out
