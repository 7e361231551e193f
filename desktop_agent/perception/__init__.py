"""Local perception: OCR plus element detection, giving elements with pixel-exact boxes."""

from desktop_agent.perception.detector import ElementDetector, OpenCvDetector, Proposal
from desktop_agent.perception.elements import Element, ElementKind, ParseResult, TextLine
from desktop_agent.perception.ocr import OcrEngine, RapidOcrEngine
from desktop_agent.perception.parser import ScreenParser

__all__ = ["Element", "ElementDetector", "ElementKind", "OcrEngine", "OpenCvDetector", "ParseResult",
           "Proposal", "RapidOcrEngine", "ScreenParser", "TextLine"]
