"""Fusing the accessibility tree with the vision parse, without a bus: which name, role and box win, what
is dropped (covered, off the monitor, blank pixels), the vision path unchanged without a tree, and a tree
that is slow or missing costing no more than its budget."""

from __future__ import annotations

import time
from typing import Any

import cv2
import numpy as np

from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.geometry import FrameGeometry, Monitor, Rect, ScreenLayout
from desktop_agent.grounding.locate import locate_target
from desktop_agent.perception.accessibility import (
    A11yNode,
    A11ySnapshot,
    A11yStates,
    A11yWindow,
    AccessibilityUnavailable,
    DesktopRect,
    FakeAccessibilitySource,
)
from desktop_agent.perception.accessibility.fusion import fuse_elements, name_agrees, tree_view
from desktop_agent.perception.accessibility.reader import SLACK_S, TreeReader
from desktop_agent.perception.accessibility.visibility import ScreenWindow
from desktop_agent.perception.elements import Element, ElementKind, ParseResult, TextLine
from desktop_agent.perception.parser import ScreenParser
from desktop_agent.planning.marks import Mark
from desktop_agent.planning.planner import ScreenView
from desktop_agent.planning.prompt import element_line

# A monitor right of another one, captured at scale 2: desktop boxes land in its pixels shifted and doubled.
MONITOR = Monitor(2, 1000, 0, 400, 300, 2.0, True, "right")
GEOMETRY = FrameGeometry(MONITOR, 800, 600)
WINDOW = A11yWindow("Editor", "frame", DesktopRect(1000, 0, 1400, 300), "editor", 42, active=True)
OTHER = A11yWindow("Dialog", "dialog", DesktopRect(1300, 200, 1400, 300), "other", 43)
STACK = [ScreenWindow(DesktopRect(1000, 0, 1400, 300), 42), ScreenWindow(DesktopRect(1300, 200, 1400, 300), 43)]


def _node(i: int, role: str, name: str, box: DesktopRect, window: A11yWindow = WINDOW,
          states: A11yStates | None = None) -> A11yNode:
    return A11yNode(i, role, name, states or A11yStates(), box, window, None if role in ("frame", "dialog") else 0, 1)


def _nodes() -> list[A11yNode]:
    return [
        _node(0, "frame", "Editor", WINDOW.box),  # type: ignore[arg-type]
        _node(1, "push button", "Bold", DesktopRect(1010, 10, 1030, 30)),  # icon-only: vision sees a glyph
        _node(2, "push button", "Save", DesktopRect(1040, 10, 1090, 30), states=A11yStates(enabled=False)),  # "Sove"
        _node(3, "push button", "gtk-ok", DesktopRect(1100, 10, 1150, 30)),  # the pixels say "Cancel"
        _node(4, "check box", "Wrap lines", DesktopRect(1010, 50, 1120, 70), states=A11yStates(checked=True)),
        _node(5, "push button", "Stale", DesktopRect(1200, 100, 1240, 120)),  # nothing drawn there
        _node(6, "push button", "Drawn", DesktopRect(1200, 50, 1240, 70)),  # drawn, the detector missed it
        _node(7, "push button", "Covered", DesktopRect(1310, 250, 1340, 270)),  # under the dialog
        _node(8, "dialog", "Dialog", OTHER.box, window=OTHER),  # type: ignore[arg-type]
        _node(9, "push button", "Elsewhere", DesktopRect(500, 10, 540, 30)),  # on the other monitor
    ]


def _image() -> np.ndarray:
    img = np.full((600, 800, 3), 240, np.uint8)
    cv2.rectangle(img, (400, 100), (480, 140), (30, 30, 30), 2)  # "Drawn" at 1200,50 -> 400,100 at scale 2
    cv2.rectangle(img, (630, 510), (670, 530), (30, 30, 30), 2)  # under the dialog's window: its own pixels
    return img


def _el(i: int, kind: ElementKind, box: Rect, text: str = "", source: str = "detector") -> Element:
    lines = (TextLine(box, text, 0.8),) if text else ()
    return Element(i, kind, box, text, 0.8, source, lines)


def _vision() -> list[Element]:
    return [
        _el(1, ElementKind.ICON, Rect(22, 22, 58, 58)),  # the Bold glyph, inside node 1 (20,20,60,60)
        _el(2, ElementKind.BUTTON, Rect(80, 20, 180, 60), "Sove", "ocr+detector"),
        _el(3, ElementKind.TEXT, Rect(210, 26, 290, 54), "Cancel", "ocr"),
        _el(4, ElementKind.CHECKBOX, Rect(22, 104, 38, 136), "Wrap lines", "ocr+detector"),
        _el(5, ElementKind.TEXT, Rect(20, 400, 200, 430), "Some text no node has", "ocr"),
    ]


def _fused() -> tuple[list[Element], dict[str, Any]]:
    snap = FakeAccessibilitySource(_nodes()).read()
    return fuse_elements(_vision(), tree_view(snap, STACK, GEOMETRY), _image())


def test_the_tree_names_what_it_agrees_on_and_the_pixels_win_elsewhere() -> None:
    fused, summary = _fused()
    by_text = {e.text: e for e in fused}
    bold = by_text["Bold"]  # an icon-only button: the tree's name becomes its text
    assert bold.origin == "both" and bold.role == "push button" and bold.kind == ElementKind.BUTTON
    assert bold.bbox == Rect(20, 20, 60, 60)  # the node's box, in the frame's pixels (offset and scale)
    save = by_text["Save"]  # an OCR slip corrected; the OCR line stays for sub-span grounding
    assert save.origin == "both" and save.lines[0].text == "Sove"
    assert "gtk-ok" not in by_text and by_text["Cancel"].role == "push button"  # disagreeing: pixels win
    wrap = by_text["Wrap lines"]
    assert wrap.kind == ElementKind.CHECKBOX and "checked" in wrap.states
    assert by_text["Some text no node has"].origin == "vision"  # vision fills in what the tree lacks
    drawn = by_text["Drawn"]  # missed by the detector, drawn on screen: the tree adds it
    assert drawn.origin == "accessibility" and drawn.source == "accessibility"
    # Nothing drawn under it (stale), under another window, on another monitor: not offered.
    assert not {"Stale", "Covered", "Elsewhere"} & set(by_text)
    assert summary["blank"] == 1 and summary["added"] == 1 and summary["hidden"] >= 2
    assert [e.id for e in fused] == list(range(1, len(fused) + 1))
    # The exact name is what locate matches: the glyph's button is found by its accessible name.
    res = locate_target(ParseResult(fused, 800, 600), "Bold")
    assert res.element is bold and bold.bbox.contains(res.point)


def test_name_agreement_allows_slips_and_glyphs_not_other_words() -> None:
    assert name_agrees("Save", "Sove") and name_agrees("Open File…", "Open File...")
    assert name_agrees("Pause", "II") and name_agrees("Bold", "")
    assert not name_agrees("OK", "Cancel") and not name_agrees("", "Cancel")
    assert name_agrees("5", "5") and not name_agrees("5", "6") and name_agrees("OK", "")


def test_json_shows_origin_only_for_a_fused_parse(parser: ScreenParser) -> None:
    img = np.full((300, 400, 3), 245, np.uint8)
    cv2.putText(img, "Apply", (30, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20, 20, 20), 2)
    cv2.rectangle(img, (20, 30), (130, 75), (60, 60, 60), 1)
    plain = parser.parse(img, incremental=False)
    slow = parser.parse(img, incremental=False, tree=lambda: None)  # the tree was not back in time
    assert [e.to_dict() for e in slow.elements] == [e.to_dict() for e in plain.elements]
    assert "accessibility" not in plain.to_dict() and all("origin" not in e for e in plain.to_dict()["elements"])
    geo = FrameGeometry(Monitor(1, 0, 0, 400, 300, 1.0, True), 400, 300)
    win = A11yWindow("W", "frame", DesktopRect(0, 0, 400, 300), "w", 7)
    nodes = [A11yNode(0, "frame", "W", A11yStates(), win.box, win, None, 0),
             A11yNode(1, "push button", "Apply", A11yStates(), DesktopRect(20, 30, 130, 75), win, 0, 1)]
    view = tree_view(FakeAccessibilitySource(nodes).read(), [ScreenWindow(DesktopRect(0, 0, 400, 300), 7)], geo)
    fused = parser.parse(img, incremental=False, tree=view).to_dict()
    assert fused["accessibility"]["matched"] == 1
    apply = next(e for e in fused["elements"] if e["text"] == "Apply")
    assert apply["origin"] == "both" and apply["role"] == "push button" and apply["states"] == ["enabled"]
    assert all("origin" in e for e in fused["elements"])


def test_a_slow_tree_is_not_waited_for_and_a_missing_one_not_asked_again() -> None:
    slow = FakeAccessibilitySource(_nodes(), delay_s=0.1)
    reader = TreeReader(slow, budget_s=0.2, windows=lambda: STACK)
    read = reader.read()
    assert read is not None and len(read.snapshot.nodes) == len(_nodes())

    class Hung(FakeAccessibilitySource):  # an application that never answers, past any budget
        def read(self, budget_s: float = 0.15, within: ScreenLayout | None = None) -> A11ySnapshot:
            self.reads += 1
            time.sleep(2.0)
            return super().read(budget_s)

    hung = Hung(_nodes())
    reader = TreeReader(hung, budget_s=0.1, windows=lambda: STACK)
    t0 = time.monotonic()
    pending = reader.start()
    assert pending.result() is None and time.monotonic() - t0 < 0.1 + SLACK_S + 0.05
    assert reader.start().result() is None and hung.reads == 1  # the last read is still out: no second one

    class Missing(FakeAccessibilitySource):
        def read(self, budget_s: float = 0.15, within: ScreenLayout | None = None) -> A11ySnapshot:
            self.reads += 1
            raise AccessibilityUnavailable("no AT-SPI bus")

    missing = Missing()
    reader = TreeReader(missing, windows=lambda: STACK)
    assert reader.read() is None and "no AT-SPI bus" in reader.unavailable
    assert reader.read() is None and missing.reads == 1


def test_the_planner_is_told_role_and_state() -> None:
    fused, _ = _fused()
    wrap = next(e for e in fused if e.text == "Wrap lines")
    view = ScreenView(ScreenFrame(_image(), GEOMETRY), ParseResult(fused, 800, 600))
    line = element_line(Mark(4, view, wrap), 1.0, 60)
    assert '"Wrap lines"' in line and line.endswith("{check box, checked}")
    save = next(e for e in fused if e.text == "Save")
    assert "{push button, disabled}" in element_line(Mark(2, view, save), 1.0, 60)


def test_an_app_that_reports_logical_units_is_scaled_to_its_window() -> None:
    # GTK 3 under GDK_SCALE=2 reports half-size boxes; X stacks its window at device pixels.
    geo = FrameGeometry(Monitor(1, 0, 0, 800, 600, 1.0, True), 800, 600)
    win = A11yWindow("W", "frame", DesktopRect(50, 40, 350, 290), "w", 7)
    nodes = [A11yNode(0, "frame", "W", A11yStates(), win.box, win, None, 0),
             A11yNode(1, "push button", "Bold", A11yStates(), DesktopRect(60, 50, 80, 70), win, 0, 1)]
    snap = FakeAccessibilitySource(nodes).read()
    x_window = ScreenWindow(DesktopRect(98, 56, 702, 582), 7)  # decorations included: a title bar, borders
    seen = {fn.node.name: fn.box for fn in tree_view(snap, [x_window], geo).nodes}
    assert seen["Bold"] == Rect(120, 100, 160, 140)
    # At scale 1 the same boxes stay as they are.
    same = ScreenWindow(DesktopRect(48, 16, 352, 292), 7)
    assert {fn.node.name: fn.box for fn in tree_view(snap, [same], geo).nodes}["Bold"] == Rect(60, 50, 80, 70)


def test_a_menu_row_takes_its_name_without_the_shortcut_and_a_loose_ocr_box_is_not_doubled() -> None:
    geo = FrameGeometry(Monitor(1, 0, 0, 400, 300, 1.0, True), 400, 300)
    win = A11yWindow("W", "frame", DesktopRect(0, 0, 400, 300), "w", 7)
    nodes = [A11yNode(0, "frame", "W", A11yStates(), win.box, win, None, 0),
             A11yNode(1, "menu item", "Go to Line...", A11yStates(), DesktopRect(10, 10, 300, 32), win, 0, 1),
             A11yNode(2, "list item", "Item 01", A11yStates(), DesktopRect(14, 106, 390, 120), win, 0, 1)]
    view = tree_view(FakeAccessibilitySource(nodes).read(), [ScreenWindow(DesktopRect(0, 0, 400, 300), 7)], geo)
    vision = [_el(1, ElementKind.TEXT, Rect(20, 12, 120, 30), "Go to Line...", "ocr"),
              _el(2, ElementKind.TEXT, Rect(240, 12, 290, 30), "Ctrl+L", "ocr"),
              _el(3, ElementKind.TEXT, Rect(10, 100, 67, 123), "Item 01", "ocr")]  # taller than its row
    img = np.full((300, 400, 3), 240, np.uint8)
    cv2.putText(img, "Item 01", (20, 118), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (20, 20, 20), 1)
    fused, _ = fuse_elements(vision, view, img)
    row = next(e for e in fused if e.role == "menu item")
    assert row.text == "Go to Line..." and [ln.text for ln in row.lines] == ["Go to Line...", "Ctrl+L"]
    assert [e.text for e in fused].count("Item 01") == 1
    assert locate_target(ParseResult(fused, 400, 300), "Go to Line...").element is row


def test_a_row_over_several_pieces_names_only_the_piece_that_carries_its_name() -> None:
    geo = FrameGeometry(Monitor(1, 0, 0, 400, 300, 1.0, True), 400, 300)
    win = A11yWindow("W", "frame", DesktopRect(0, 0, 400, 300), "w", 7)
    nodes = [A11yNode(0, "frame", "W", A11yStates(), win.box, win, None, 0),
             A11yNode(1, "list item", "report.pdf", A11yStates(selected=True), DesktopRect(10, 50, 390, 70), win, 0, 1)]
    view = tree_view(FakeAccessibilitySource(nodes).read(), [ScreenWindow(DesktopRect(0, 0, 400, 300), 7)], geo)
    vision = [_el(1, ElementKind.ICON, Rect(12, 52, 28, 68)),
              _el(2, ElementKind.TEXT, Rect(32, 52, 110, 68), "report.pdf", "ocr"),
              _el(3, ElementKind.TEXT, Rect(300, 52, 340, 68), "12 kB", "ocr")]
    fused, _ = fuse_elements(vision, view, np.full((300, 400, 3), 240, np.uint8))
    by_text = {e.text: e for e in fused}
    assert by_text["report.pdf"].role == "list item" and by_text["report.pdf"].bbox == Rect(32, 52, 110, 68)
    assert by_text["12 kB"].origin == "vision" and len(fused) == 3
