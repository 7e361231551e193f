"""What parsing a screen returns: elements with pixel-exact boxes in the frame's image pixels."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from desktop_agent.geometry import Rect


class ElementKind(StrEnum):
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
    id: int
    kind: ElementKind
    bbox: Rect
    text: str
    confidence: float
    source: str  # "ocr", "detector" or "ocr+detector"
    lines: tuple[TextLine, ...] = ()  # the OCR lines that make up `text`, for sub-span grounding
    icon: tuple[tuple[str, float], ...] = ()  # the nearest known icon names (name, cosine), for people and planners
    icon_vector: tuple[float, ...] = ()  # the icon's meaning vector (icon_meaning.IconMeaning), for grounding

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind.value,
            "bbox": self.bbox.as_list(),
            "text": self.text,
            "confidence": round(self.confidence, 3),
            "source": self.source,
        }
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "incremental": self.incremental,
            "timings_ms": {k: round(v, 1) for k, v in self.timings.items()},
            "elements": [e.to_dict() for e in self.elements],
        }
