"""`ScreenParser`: a frame in, elements out; repeated parses redo only what changed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.perception.detector import ElementDetector, Proposal
from desktop_agent.perception.elements import Element, ElementKind, ParseResult, TextLine
from desktop_agent.perception.glyphs import carried_glyphs, glyph_lines, keys_of
from desktop_agent.perception.heap import release_freed_memory
from desktop_agent.perception.icon_meaning import IconMeaning, shared_meaning
from desktop_agent.perception.icons import icon_crop
from desktop_agent.perception.learned_detector import default_detector
from desktop_agent.perception.merge import merge_elements
from desktop_agent.perception.ocr import OcrEngine, RapidOcrEngine, read_lines
from desktop_agent.perception.regions import changed_regions, content_blocks

if TYPE_CHECKING:
    from desktop_agent.perception.accessibility.fusion import TreeView

# Above this fraction of changed pixels a full parse is cheaper than bookkeeping.
INCREMENTAL_LIMIT = 0.35


@dataclass
class _Memory:
    image: np.ndarray
    lines: list[TextLine]
    proposals: list[Proposal]
    glyphs: list[TextLine]  # the signs among `lines` that glyphs.py read on keys


# Rows of context kept around a change: a line of text touched by it is read whole.
_STRIP_MARGIN = 40


class ScreenParser:
    """Runs OCR and the element detector on a frame and merges them. Keeps the last frame's text and
    proposals so that the next parse redoes only the band of the screen that changed."""

    def __init__(self, ocr: OcrEngine | None = None, detector: ElementDetector | None = None,
                 icons: IconMeaning | bool | None = True) -> None:
        self.ocr = ocr or RapidOcrEngine()
        self.detector = detector or default_detector()
        # True: the committed model if it is there; False/None: no icon meanings.
        self.icons: IconMeaning | None = shared_meaning() if icons is True else (icons or None)
        self._memory: _Memory | None = None
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget the last frame: the next parse reads the whole screen (caches of models stay)."""
        with self._lock:
            self._memory = None

    def clear_caches(self) -> None:
        """Forget the last frame and every cached recognition: the next parse starts cold."""
        self.reset()
        clear = getattr(self.ocr, "clear_cache", None)
        if clear is not None:
            clear()
        if self.icons is not None:
            self.icons.clear_cache()

    def parse(self, image: np.ndarray, incremental: bool = True,
              tree: TreeView | Callable[[], TreeView | None] | None = None) -> ParseResult:
        """The frame's elements. With `tree` (the accessibility tree's view of this frame, or a function
        that gives it once the pixels are parsed), tree and pixels are fused into one list; without it, or
        when the function gives None, the result is the vision parse alone, exactly."""
        with self._lock:
            result = self._parse(image, incremental)
            release_freed_memory()  # what the parse freed goes back to the system, not kept for the next
        if tree is None:
            return result
        t0 = time.perf_counter()
        view = tree() if callable(tree) else tree
        waited = (time.perf_counter() - t0) * 1000
        if view is None:
            result.timings["a11y_wait"] = waited
            return result
        from desktop_agent.perception.accessibility.fusion import fuse_elements

        t1 = time.perf_counter()
        elements, summary = fuse_elements(result.elements, view, image)
        timings = {**result.timings, "a11y_wait": waited, "a11y_fuse": (time.perf_counter() - t1) * 1000}
        timings["total"] = result.timings["total"] + waited + timings["a11y_fuse"]
        return replace(result, elements=elements, timings=timings, accessibility=summary)

    def _parse(self, image: np.ndarray, incremental: bool) -> ParseResult:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        h, w = image.shape[:2]
        mem = self._memory
        changed: list[Rect] | None = None
        if incremental and mem is not None and mem.image.shape == image.shape:
            changed = changed_regions(mem.image, image)
            if sum(r.area for r in changed) > INCREMENTAL_LIMIT * w * h:
                changed = None
        if changed is None or mem is None:
            lines, proposals = self._full(image, timings)
        else:
            lines, proposals = self._update(image, changed, mem, timings)
        t1 = time.perf_counter()
        signs = glyph_lines(self.ocr, image, lines, proposals)  # signs drawn alone on keys: glyphs.py
        if changed is not None and mem is not None:
            # Signs read before whose keys did not change stay read, with their keys: those inside the band
            # re-detected around a change (carried) and those kept outside it.
            kept = carried_glyphs(mem.glyphs, mem.image, image, lines + signs) + [g for g in mem.glyphs if g in lines]
            proposals = proposals + keys_of(kept, proposals)
            signs += kept
        lines = lines + [g for g in signs if g not in lines]
        timings["glyphs"] = (time.perf_counter() - t1) * 1000
        t2 = time.perf_counter()
        elements = merge_elements(lines, proposals)
        timings["merge"] = (time.perf_counter() - t2) * 1000
        if self.icons is not None:
            t3 = time.perf_counter()
            elements = self._name_icons(image, elements)
            timings["icons"] = (time.perf_counter() - t3) * 1000
        timings.setdefault("ocr_det", 0.0)
        timings.setdefault("ocr_rec", 0.0)
        timings["total"] = (time.perf_counter() - t0) * 1000
        self._memory = _Memory(image.copy(), lines, proposals, signs)
        return ParseResult(elements, w, h, timings, incremental=changed is not None)

    def _name_icons(self, image: np.ndarray, elements: list[Element]) -> list[Element]:
        """Give icon-only elements (icons, and framed controls with no text) their likely meanings."""
        assert self.icons is not None
        # One or two "characters" on a small control are usually OCR reading a glyph (a floppy as "り").
        idx = [i for i, e in enumerate(elements)
               if e.kind in (ElementKind.ICON, ElementKind.BUTTON, ElementKind.CHECKBOX, ElementKind.TAB,
                             ElementKind.MENU_ITEM)
               and (not e.text or (len(e.text.strip()) <= 2 and max(e.bbox.width, e.bbox.height) <= 64))
               and e.bbox.width <= 96 and e.bbox.height <= 96]
        if not idx:
            return elements
        vectors = self.icons.embed_icons([icon_crop(image, elements[i].bbox) for i in idx])
        out = list(elements)
        for i, v in zip(idx, vectors, strict=True):
            if v.any():
                out[i] = replace(out[i], icon=tuple(self.icons.describe(v)),
                                 icon_vector=tuple(float(f) for f in v))
        return out

    def _full(self, image: np.ndarray, timings: dict[str, float]) -> tuple[list[TextLine], list[Proposal]]:
        t0 = time.perf_counter()
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        blocks = content_blocks(gray)
        timings["regions"] = (time.perf_counter() - t0) * 1000
        lines = read_lines(self.ocr, image, blocks, timings) if blocks else []
        release_freed_memory()  # the detector's buffers, the largest of a parse, start from a trimmed heap
        t1 = time.perf_counter()
        proposals = self.detector.propose(image, gray)
        timings["detect"] = (time.perf_counter() - t1) * 1000
        return lines, proposals

    def _update(self, image: np.ndarray, changed: list[Rect], mem: _Memory, timings: dict[str, float]
                ) -> tuple[list[TextLine], list[Proposal]]:
        """Redo regions, OCR and proposals inside the full-width band around the changes only."""
        if not changed:
            timings.update(regions=0.0, detect=0.0)
            return list(mem.lines), list(mem.proposals)
        h, w = image.shape[:2]
        t0 = time.perf_counter()
        top, bottom, strip_gray, blocks, kept = _band(image, changed, mem.lines)
        strip_img = image[top:bottom]
        timings["regions"] = (time.perf_counter() - t0) * 1000
        lines = kept + (read_lines(self.ocr, image, blocks, timings) if blocks else [])
        t1 = time.perf_counter()
        inner = Rect(-1, top + 1 if top > 0 else -1, w + 1, bottom - 1 if bottom < h else h + 1)
        proposals = _band_proposals(mem.proposals, self.detector.propose(strip_img, strip_gray), changed, inner, top)
        timings["detect"] = (time.perf_counter() - t1) * 1000
        return lines, proposals


def _band(image: np.ndarray, changed: list[Rect], lines: list[TextLine]
          ) -> tuple[int, int, np.ndarray, list[Rect], list[TextLine]]:
    """The full-width band around the changes, widened until every line to read again lies whole inside it:
    its top and bottom rows, its grey pixels, the blocks to read again and the old lines to keep."""
    h = image.shape[0]
    top = max(0, int(min(r.y1 for r in changed)) - _STRIP_MARGIN)
    bottom = min(h, int(max(r.y2 for r in changed)) + _STRIP_MARGIN)
    while True:
        strip_gray = cv2.cvtColor(image[top:bottom], cv2.COLOR_BGR2GRAY)
        blocks = [b.translated(0, top) for b in content_blocks(strip_gray)]
        blocks, kept, dropped = _dirty_blocks(blocks, changed, lines)
        # A line to read again must lie whole inside the band: widen the band until it does.
        new_top = max(0, min([top, *(int(ln.bbox.y1) - _STRIP_MARGIN for ln in dropped)]))
        new_bottom = min(h, max([bottom, *(int(ln.bbox.y2) + _STRIP_MARGIN for ln in dropped)]))
        if (new_top, new_bottom) == (top, bottom):
            return top, bottom, strip_gray, blocks, kept
        top, bottom = new_top, new_bottom


def _band_proposals(old: list[Proposal], fresh: list[Proposal], changed: list[Rect], inner: Rect, top: int
                    ) -> list[Proposal]:
    """The proposals after the band (`inner`, rows from `top`) is detected again (`fresh`, in band pixels)."""
    # The band is detected again: its new proposals replace the old ones it holds whole. An old one cut
    # by the band's edge survives unless the change touches it; a new one cut by the edge is dropped
    # (that one is the old one, still in memory).
    proposals = [p for p in old if not _inside(p.bbox, inner) and not any(p.bbox.overlaps(c) for c in changed)]
    for p in fresh:
        q = Proposal(p.kind, p.bbox.translated(0, top), p.score)
        if _inside(q.bbox, inner) and not any(q.bbox.iou(o.bbox) > 0.9 for o in proposals):
            proposals.append(q)
    return proposals


def _inside(r: Rect, outer: Rect) -> bool:
    return outer.x1 <= r.x1 and outer.y1 <= r.y1 and r.x2 <= outer.x2 and r.y2 <= outer.y2


def _dirty_blocks(blocks: list[Rect], changed: list[Rect], lines: list[TextLine]
                  ) -> tuple[list[Rect], list[TextLine], list[TextLine]]:
    """The blocks to read again, the old lines to keep and the old lines dropped. A line is dropped when
    it touches a changed region or a block read again; a block is read again when it touches a dropped
    line, so that every dropped line is read anew. Each round checks only what the last one added."""
    line_boxes = [ln.bbox for ln in lines]
    dirty = _touching(blocks, changed, set())
    dropped = _touching(line_boxes, changed, set())
    new_blocks, new_lines = set(dirty), set(dropped)
    while new_blocks or new_lines:
        more_lines = _touching(line_boxes, [blocks[i] for i in new_blocks], dropped)
        dropped |= more_lines
        more_blocks = _touching(blocks, [line_boxes[j] for j in new_lines | more_lines], dirty)
        dirty |= more_blocks
        new_blocks, new_lines = more_blocks, more_lines
    kept = [ln for j, ln in enumerate(lines) if j not in dropped]
    return [blocks[i] for i in sorted(dirty)], kept, [lines[j] for j in sorted(dropped)]


def _touching(boxes: list[Rect], others: list[Rect], skip: set[int]) -> set[int]:
    """The indexes of `boxes`, except those in `skip`, that overlap any of `others`."""
    return {i for i, b in enumerate(boxes) if i not in skip and any(b.overlaps(o) for o in others)}
