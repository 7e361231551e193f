"""Perceiving for the loop: every monitor read once it is still (pixels fused with the accessibility tree), and
a step's targets located there, or on the screen a model planner was shown."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from desktop_agent.agent.proposal import AgentSettings, Located
from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.capture.masked import blanked
from desktop_agent.capture.screen import Screen
from desktop_agent.errors import TargetNotFound
from desktop_agent.execution.verify import visible_change, wait_until_settled
from desktop_agent.geometry import DesktopRect, Monitor, Point, Rect
from desktop_agent.grounding.instruction import parse_instruction
from desktop_agent.grounding.locate import LocateResult, locate_target
from desktop_agent.perception.accessibility.fusion import TreeView
from desktop_agent.perception.accessibility.reader import PendingRead, TreeReader
from desktop_agent.perception.accessibility.visibility import ScreenWindow
from desktop_agent.perception.accessibility.x_windows import active_window
from desktop_agent.perception.elements import Element, ElementKind
from desktop_agent.perception.parser import ScreenParser
from desktop_agent.planning.actions import Target, WaitFor
from desktop_agent.planning.planner import ScreenView


def _add(timings: dict[str, float], key: str, ms: float) -> None:
    timings[key] = timings.get(key, 0.0) + ms


def point_target(target: Target, frame: ScreenFrame, p: Point, score: float, source: str, words: str,
                 parsed: object = None) -> Located:
    """A target at a bare point of a frame (a planner's point, a point the person picked): an 8 px box there."""
    box = Rect(p.x - 4, p.y - 4, p.x + 4, p.y + 4)
    el = Element(-1, ElementKind.CONTAINER, box, "", score, source)
    res = LocateResult(p, box, score, el, parse_instruction(words))
    return Located(target, frame, res, frame.geometry.to_desktop(p), parsed)  # type: ignore[arg-type]


class ScreenReader:
    """Reads all monitors of a `Screen` with one parser memory per monitor, and finds targets on them."""

    def __init__(self, screen: Screen, parser: ScreenParser, settings: AgentSettings, tree: TreeReader | None,
                 abort: threading.Event, windows: Callable[[], list[ScreenWindow] | None] | None = None) -> None:
        self.screen = screen
        self.parser = parser
        self.settings = settings
        self.tree = tree
        self.windows = windows  # the display's windows, to tell which has the focus (None: not known)
        self._abort = abort
        self._parsers: dict[int, ScreenParser] = {}
        self.plan_views: dict[int, ScreenView] = {}  # what a looking planner was shown this step
        self.last_views: list[ScreenView] = []  # what the last locate looked at (for an abstained step)

    def _parser_for(self, monitor: Monitor) -> ScreenParser:
        p = self._parsers.get(monitor.index)
        if p is None:
            # One memory per monitor (incremental parses), one set of models for all.
            p = self.parser if not self._parsers else ScreenParser(self.parser.ocr, self.parser.detector,
                                                                   self.parser.icons or False)
            self._parsers[monitor.index] = p
        return p

    def settled(self, monitor: Monitor) -> ScreenFrame:
        """The monitor's frame once two grabs agree (or the settle timeout passed)."""
        frames: list[ScreenFrame] = []

        def grab() -> np.ndarray:
            frames.append(self.screen.grab(monitor))
            return frames[-1].image

        wait_until_settled(grab, self.settings.settle_timeout, abort=self._abort.is_set)
        return frames[-1]

    def perceive(self, timings: dict[str, float]) -> list[ScreenView]:
        """Every monitor, settled and parsed (the app's own blanked windows hold no targets); adds the timings."""
        out = []
        layout = self.screen.layout()
        pending: PendingRead | None = None
        focus: DesktopRect | None = None
        for i, monitor in enumerate(layout.monitors):
            t0 = time.perf_counter()
            frame = self.settled(monitor)
            if i == 0:
                # Once the screen is still: the tree is read while the pixels are parsed.
                pending = self.tree.start(layout) if self.tree is not None else None
                focus = active_window(self.windows()) if self.windows is not None else None
            t1 = time.perf_counter()
            parsed = self._parser_for(monitor).parse(frame.image, tree=_tree_view(pending, frame))
            masks = blanked(self.screen, frame)
            if masks:
                parsed = replace(parsed, elements=[e for e in parsed.elements
                                                   if not any(m.contains(e.bbox.center) for m in masks)])
            parsed = replace(parsed, focus=_focus_in(focus, frame))
            t2 = time.perf_counter()
            _add(timings, "settle_capture", (t1 - t0) * 1000)
            _add(timings, "parse", (t2 - t1) * 1000)
            for k, v in parsed.timings.items():
                if k != "total":
                    _add(timings, f"parse_{k}", v)
            out.append(ScreenView(frame, parsed))
        return out

    def locate(self, target: Target, timings: dict[str, float], prefer: ElementKind | None = None) -> Located:
        """The best match for `target` over all monitors (or the element or point a model planner picked)."""
        if target.element_id is not None or target.x is not None:
            return self._locate_picked(target, timings)
        views = self.perceive(timings)
        self.last_views = views
        t0 = time.perf_counter()
        try:
            best: tuple[ScreenView, LocateResult] | None = None
            reasons = []
            for view in views:
                try:
                    res = locate_target(view.parsed, target.text or "", prefer=prefer)
                except TargetNotFound as exc:
                    reasons.append(str(exc))
                    continue
                if best is None or res.score > best[1].score:
                    best = (view, res)
            if best is None:
                raise TargetNotFound(reasons[0] if reasons else f"{target.describe()} is not on screen")
            view, res = best
            return Located(target, view.frame, res, view.frame.geometry.to_desktop(res.point), view.parsed)
        finally:
            _add(timings, "locate", (time.perf_counter() - t0) * 1000)

    def _locate_picked(self, target: Target, timings: dict[str, float]) -> Located:
        """A target a model planner picked on the screen it was shown: an element there, or (last resort)
        a point in that screenshot. Refused if the screen has changed under it since."""
        view = self.plan_views.get(target.monitor if target.monitor is not None else -1)
        if view is None:
            raise TargetNotFound(f"{target.describe()}: monitor {target.monitor} was not part of the planned screen")
        if target.element_id is not None:
            el = next((e for e in view.parsed.elements if e.id == target.element_id), None)
            if el is None:
                raise TargetNotFound(f"no element #{target.element_id} on the screen the planner saw")
            res = LocateResult(el.bbox.center, el.bbox, 1.0, el, parse_instruction(el.text or target.label or "?"))
            found = Located(target, view.frame, res, view.frame.geometry.to_desktop(res.point), view.parsed)
        else:
            assert target.x is not None and target.y is not None
            p = Point(target.x + 0.5, target.y + 0.5)
            if not (0 <= p.x < view.frame.width and 0 <= p.y < view.frame.height):
                raise TargetNotFound(f"{target.describe()} is off the screen of monitor {target.monitor}")
            found = point_target(target, view.frame, p, 0.0, "planner point", "point", view.parsed)
        t0 = time.perf_counter()
        now = self.screen.grab(view.frame.geometry.monitor)
        res = found.result
        region = res.element.bbox.expanded(6) if res.element.id >= 0 else res.bbox
        change = visible_change(view.frame.image, now.image, region)
        _add(timings, "locate", (time.perf_counter() - t0) * 1000)
        if change.changed and change.pixels > 0.25 * max(region.area, 1):
            raise TargetNotFound(f"{target.describe()} changed on screen since the planner looked "
                                 f"({change.pixels} px); not clicking a guess")
        return found

    def wait_for(self, action: WaitFor, timings: dict[str, float], check: Callable[[], None]) -> Located:
        """Look again until the target appears (`check` between looks: pause and stop), or time out."""
        timeout = min(action.timeout, self.settings.wait_for_timeout)
        deadline = time.monotonic() + timeout
        while True:
            check()
            try:
                return self.locate(action.target, timings)
            except TargetNotFound:
                if time.monotonic() > deadline:
                    raise TargetNotFound(f"{action.target.describe()} did not appear within {timeout:g} s") from None
                time.sleep(0.25)


def _focus_in(focus: DesktopRect | None, frame: ScreenFrame) -> Rect | None:
    """The focused window's box in the frame's pixels, clipped to it; None where it is not on that monitor."""
    if focus is None:
        return None
    return focus.to_image(frame.geometry).intersection(Rect(0, 0, frame.width, frame.height))


def _tree_view(pending: PendingRead | None, frame: ScreenFrame) -> Callable[[], TreeView | None] | None:
    """What the parser fuses for one frame: the pending read's view of it, if it comes back in time."""
    if pending is None:
        return None

    def view() -> TreeView | None:
        read = pending.result()
        return read.view(frame.geometry) if read is not None else None

    return view
