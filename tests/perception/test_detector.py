"""The committed UI-element detector: it loads, snaps boxes to pixels, and finds a real Qt window's controls."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from desktop_agent.capture.screen import MssScreen
from desktop_agent.geometry import Rect
from desktop_agent.perception import learned_detector
from desktop_agent.perception.elements import ElementKind
from desktop_agent.perception.learned_detector import (
    BAND_PIXELS,
    CLASS_KINDS,
    MARGIN,
    CombinedDetector,
    LearnedDetector,
    bands,
    default_detector,
    default_detector_path,
    snap_box,
)
from tests.display import TargetApp


@pytest.fixture(scope="module")
def detector() -> LearnedDetector:
    assert default_detector_path().exists(), "models/detector/ui_detector.onnx is missing: run models/detector/build.sh"
    return LearnedDetector()


def test_the_committed_model_loads_with_its_twelve_classes(detector: LearnedDetector) -> None:
    outputs = {o.name: o.shape for o in detector.session.get_outputs()}
    assert outputs["prob"][1] == len(CLASS_KINDS) == 12
    assert isinstance(default_detector(), CombinedDetector)


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="detector model not found"):
        LearnedDetector(tmp_path / "nothing.onnx")


def test_boxes_snap_to_a_frame_and_to_a_glyph() -> None:
    gray = np.full((120, 200), 240, np.uint8)
    cv2.rectangle(gray, (40, 30), (139, 59), 90, 1)  # a framed field, 100x30 px
    cv2.rectangle(gray, (145, 30), (150, 59), 60, -1)  # and something else 5 px to its right
    got = snap_box(gray, Rect(37, 27, 143, 62), ElementKind.INPUT)
    assert got.int_box() == (40, 30, 140, 60)
    cv2.circle(gray, (170, 95), 6, 30, -1)  # a 13 px dot, an icon's ink
    got = snap_box(gray, Rect(162, 87, 180, 104), ElementKind.ICON)
    assert got.int_box() == (164, 89, 177, 102)


def test_a_blank_screen_has_no_controls(detector: LearnedDetector) -> None:
    img = np.full((720, 1280, 3), 250, np.uint8)
    assert detector.propose(img, cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)) == []


def _found(props: list, kind: ElementKind, rect: list[int], left: int, top: int, iou: float) -> bool:  # type: ignore[type-arg]
    x1, y1, x2, y2 = rect
    want = Rect(x1 - left, y1 - top, x2 - left, y2 - top)
    return any(p.kind == kind and p.bbox.iou(want) >= iou for p in props)


def _grab_primary() -> tuple[np.ndarray, int, int]:
    screen = MssScreen()
    mon = screen.layout().primary
    return screen.grab(mon).image, mon.left, mon.top


@pytest.mark.display
def test_it_finds_the_controls_of_a_real_qt_window(target_app: TargetApp, detector: LearnedDetector) -> None:
    img, left, top = _grab_primary()
    props = detector.propose(img, cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    w = target_app.widgets
    missing = [name for name in ("Open Report", "Delete")
               if not _found(props, ElementKind.BUTTON, w[name], left, top, 0.6)]
    # Save's box is found, whatever its class (see the known miss below).
    missing += [] if any(_found(props, k, w["Save"], left, top, 0.6) for k in ElementKind) else ["Save"]
    assert not missing, f"not detected: {missing}; found {[(p.kind.value, p.bbox.int_box()) for p in props]}"
    # The 16 px tool buttons: an icon box inside each button.
    for name in ("icon:star", "icon:trash"):
        x1, y1, x2, y2 = w[name]
        assert any(p.kind == ElementKind.ICON and x1 - 2 <= p.bbox.center.x + left <= x2 + 2
                   and y1 - 2 <= p.bbox.center.y + top <= y2 + 2 for p in props), name


@pytest.mark.parametrize("height,width", [(1088, 1920), (1440, 2560), (1824, 2912), (2176, 3840), (1440, 5120),
                                          (1152, 1920)])
def test_bands_tile_a_large_frame_on_the_models_grid_with_context(height: int, width: int) -> None:
    got = bands(height, width)
    if height * width <= BAND_PIXELS:
        assert got == [(0, height, 0, height)]
        return
    assert len(got) > 1
    assert got[0][2] == 0 and got[-1][3] == height
    for (top, bottom, keep_top, keep_bottom), following in zip(got, [*got[1:], None], strict=True):
        assert all(v % 32 == 0 for v in (top, bottom, keep_top, keep_bottom))
        assert top == max(0, keep_top - MARGIN) and bottom == min(height, keep_bottom + MARGIN)
        assert keep_bottom > keep_top and (following is None or following[2] == keep_bottom)
        assert bottom - top <= max(4 * MARGIN, BAND_PIXELS // width)


@pytest.mark.display
def test_a_large_frame_in_bands_gives_what_one_call_gives(target_app: TargetApp, detector: LearnedDetector,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A 2560x1440 frame made of the real Qt window's screen runs in bands; its boxes are the boxes of one
    call over the whole frame (the maps agree to 1e-3)."""
    img, _, _ = _grab_primary()
    frame = np.zeros((1440, 2560, 3), np.uint8)
    for y in range(0, 1440, img.shape[0]):
        for x in range(0, 2560, img.shape[1]):
            part = img[:1440 - y, :2560 - x, :3]
            frame[y:y + part.shape[0], x:x + part.shape[1]] = part
    assert len(bands(1440, 2560)) > 1
    in_bands, boxes_in_bands = detector.maps(frame), detector.raw(frame)
    monkeypatch.setattr(learned_detector, "BAND_PIXELS", 10**9)
    whole, boxes_whole = detector.maps(frame), detector.raw(frame)
    for a, b in zip(in_bands, whole, strict=True):
        assert a.shape == b.shape and float(np.abs(a - b).max()) < 1e-3
    assert len(boxes_whole) > 10
    assert [(c, r.int_box()) for c, _, r in boxes_in_bands] == [(c, r.int_box()) for c, _, r in boxes_whole]


@pytest.mark.display
def test_the_parsers_detectors_find_the_empty_name_field(target_app: TargetApp) -> None:
    """What parse uses (the learned detector, OpenCV's proposals where it found nothing) finds the field."""
    img, left, top = _grab_primary()
    props = default_detector().propose(img, cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    assert _found(props, ElementKind.INPUT, target_app.widgets["name"], left, top, 0.6), \
        [(p.kind.value, p.bbox.int_box()) for p in props]


@pytest.mark.display
@pytest.mark.xfail(strict=True, reason="known miss of the committed detector: it reads the target window's Save "
                   "button as a tab and does not see its empty name field (OpenCV's proposals find the field)")
def test_the_learned_detector_alone_reads_save_as_a_button_and_finds_the_field(
        target_app: TargetApp, detector: LearnedDetector) -> None:
    img, left, top = _grab_primary()
    props = detector.propose(img, cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    w = target_app.widgets
    assert _found(props, ElementKind.BUTTON, w["Save"], left, top, 0.6)
    assert _found(props, ElementKind.INPUT, w["name"], left, top, 0.6)


def test_an_icon_that_ocr_read_as_a_last_character_leaves_the_label() -> None:
    from desktop_agent.perception.detector import Proposal
    from desktop_agent.perception.elements import TextLine
    from desktop_agent.perception.merge import merge_elements

    lines = [TextLine(Rect(10, 10, 200, 30), "Rust in production☆", 0.9), TextLine(Rect(10, 40, 90, 60), "Save!", 0.9)]
    icon = Proposal(ElementKind.ICON, Rect(183, 12, 199, 28), 0.8)
    got = [(e.kind, e.text, e.bbox.int_box()) for e in merge_elements(lines, [icon])]
    assert got == [(ElementKind.TEXT, "Rust in production", (10, 10, 182, 30)),
                   (ElementKind.ICON, "", (183, 12, 199, 28)), (ElementKind.TEXT, "Save!", (10, 40, 90, 60))]
