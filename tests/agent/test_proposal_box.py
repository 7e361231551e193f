"""What the approval panel and the overlay frame is where the input goes: for every step of the task suite's
reference runs (their targets as recorded, tests/agent/data), the box shown holds the input point, and so
does the overlay's frame around it. A labelled control ("Remember me", "Strip trailing spaces") is clicked on
its label, not on its 16 px glyph, and the frame says so."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from desktop_agent.agent.proposal import Located, StepProposal
from desktop_agent.app.qt_approval import frame_edges
from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.evaluation.reference import task_fingerprint
from desktop_agent.evaluation.task_suite import load_suite
from desktop_agent.geometry import DesktopPoint, DesktopRect, FrameGeometry, Monitor, Point, Rect
from desktop_agent.grounding.instruction import parse_instruction
from desktop_agent.grounding.locate import LocateResult
from desktop_agent.perception.elements import Element, ElementKind
from desktop_agent.planning.actions import Click, Target
from desktop_agent.planning.planner import PlannedStep
from tests.agent.reference_targets import DATA, NO_VERIFIED_RUN


def located(t: dict[str, Any], screens: list[dict[str, Any]]) -> Located:
    """A recorded target as the loop handed it to the approver (the frame's pixels are not kept: black)."""
    s = next(s for s in screens if s["index"] == t["monitor"])
    mon = Monitor(s["index"], s["left"], s["top"], s["width"], s["height"], s.get("scale", 1.0),
                  s.get("primary", False))
    w, h = round(mon.width * mon.scale), round(mon.height * mon.scale)
    frame = ScreenFrame(np.zeros((h, w, 3), np.uint8), FrameGeometry(mon, w, h))
    e = t["element"]
    el = Element(int(e["id"]), ElementKind(e["kind"]), Rect(*t["element_bbox"]), e.get("text", ""), 1.0, "ocr")
    res = LocateResult(Point(*t["point"]), Rect(*t["bbox"]), 1.0, el, parse_instruction(t["instruction"] or "x"))
    return Located(Target(text=t["instruction"]), frame, res, DesktopPoint(*t["desktop"]))


def shown_frame_holds(loc: Located) -> tuple[bool, bool]:
    """(the box shown holds the input point in the screenshot, the overlay's frame holds it on the desktop)"""
    proposal = StepProposal(0, PlannedStep(Click(target=loc.target)), [loc])
    shown = proposal.shown_target()
    assert shown is not None
    box = shown.desktop_box
    top, bottom, left, right = frame_edges(box)
    hole = DesktopRect(left.right, top.bottom, right.left, bottom.top)  # inside the four edges
    return shown.box.contains(shown.result.point), box.contains(loc.desktop) and hole.contains(loc.desktop)


def test_every_reference_step_shows_the_box_its_input_goes_to() -> None:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    suite = load_suite()
    stale = [t.name for t in suite if t.name in data and data[t.name]["fingerprint"] != task_fingerprint(t)]
    assert not stale, f"re-record tests/agent/data (tests/agent/reference_targets.py): changed tasks {stale}"
    assert {t.name for t in suite} >= NO_VERIFIED_RUN and not NO_VERIFIED_RUN & set(data)
    missing = sorted({t.name for t in suite} - set(data) - NO_VERIFIED_RUN)
    assert not missing, f"re-record tests/agent/data (tests/agent/reference_targets.py): new tasks {missing}"
    checked, labelled = 0, 0
    for name, run in data.items():
        for i, step in enumerate(run["steps"]):
            if not step["targets"]:
                continue  # a key press or a wait: nothing to frame
            loc = located(step["targets"][0], run["screens"])
            in_shot, on_desktop = shown_frame_holds(loc)
            assert in_shot and on_desktop, f"{name} step {i + 1} ({step['description']}): frame misses the point"
            checked += 1
            labelled += not loc.result.element.bbox.contains(loc.result.point)
    assert checked > 120
    # The case that went wrong: controls named by their label, the click on the label beside the glyph.
    assert labelled >= 5


def test_a_checkbox_named_by_its_label_is_framed_on_the_label_it_is_clicked_on() -> None:
    screens = [{"index": 1, "left": 1024, "top": 0, "width": 1280, "height": 800, "scale": 2.0}]
    glyph = [100.0, 40.0, 132.0, 72.0]  # a 16 px glyph at scale 2, the label to its right
    label = [140.0, 38.0, 300.0, 74.0]
    t = {"instruction": "Save", "monitor": 1, "bbox": label, "element_bbox": glyph, "point": [220, 56],
         "desktop": [1024 + 110, 28], "element": {"id": 7, "kind": "checkbox", "text": "Save"}}
    loc = located(t, screens)
    assert loc.box == Rect(*label) and loc.desktop_box == DesktopRect(1024 + 70, 19, 1024 + 150, 37)
    assert shown_frame_holds(loc) == (True, True)
    # A button: its whole box, which holds the point.
    button = dict(t, bbox=[150.0, 45.0, 190.0, 67.0], element_bbox=[120.0, 36.0, 220.0, 76.0], point=[170, 56],
                  desktop=[1024 + 85, 28], element={"id": 3, "kind": "button", "text": "Save"})
    assert located(button, screens).box == Rect(120.0, 36.0, 220.0, 76.0)


def test_a_point_the_person_picked_is_what_is_framed() -> None:
    screens = [{"index": 1, "left": 0, "top": 0, "width": 800, "height": 600}]
    box = [10.0, 10.0, 50.0, 30.0]
    t = {"instruction": "Save", "monitor": 1, "bbox": box, "element_bbox": box, "point": [30, 20], "desktop": [30, 20],
         "element": {"id": 1, "kind": "button", "text": "Save"}}
    proposal = StepProposal(0, PlannedStep(Click(target=Target(text="Save"))), [located(t, screens)])
    proposal.edited_point = Point(400.5, 300.5)
    shown = proposal.shown_target()
    assert shown is not None and shown.desktop == DesktopPoint(400, 300)
    assert shown.desktop_box.contains(DesktopPoint(400, 300)) and not shown.desktop_box.contains(DesktopPoint(30, 20))
