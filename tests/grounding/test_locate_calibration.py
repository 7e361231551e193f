"""The calibrated click probability (models/locate): learned weights, out-of-app threshold.

Parse results built by hand (pure logic, no display): the properties asked here are what the evidence must
mean whatever the weights (a whole name is likelier than the same words inside a sentence, a name shown in
two places is less sure than one shown once), and that the fit learns them from labelled rows.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from desktop_agent.errors import TargetNotFound
from desktop_agent.geometry import Rect
from desktop_agent.grounding.calibration import FEATURES, shared_calibration
from desktop_agent.grounding.locate import MIN_SCORE, locate_target, rank_targets
from desktop_agent.perception.elements import Element, ElementKind, ParseResult, TextLine

ROOT = Path(__file__).resolve().parents[2]


def _el(i: int, box: Rect, text: str, kind: ElementKind = ElementKind.TEXT) -> Element:
    return Element(i, kind, box, text, 0.97, "ocr", (TextLine(box, text, 0.97),))


def _screen(*elements: Element) -> ParseResult:
    return ParseResult(list(elements), 1200, 800)


def test_the_shipped_calibration_weighs_every_feature_and_abstains_somewhere_sensible() -> None:
    cal = shared_calibration()
    assert set(cal.weights) == set(FEATURES)
    assert 0.5 <= cal.threshold < 0.99
    assert cal.threshold == MIN_SCORE


def test_a_whole_name_is_clicked_and_its_score_is_a_probability() -> None:
    res = locate_target(_screen(_el(1, Rect(100, 100, 160, 120), "Refresh", ElementKind.BUTTON)), "Refresh")
    assert res.element.id == 1 and MIN_SCORE <= res.score <= 1.0


def test_a_one_word_name_inside_a_sentence_is_less_sure_than_the_same_word_alone() -> None:
    alone = rank_targets(_screen(_el(1, Rect(100, 100, 160, 120), "Open")), "Open")[0][0]
    inside = rank_targets(_screen(_el(1, Rect(100, 100, 600, 120), "Open the file you want to compare with")),
                          "Open")[0][0]
    assert inside < alone


def test_a_name_shown_in_two_places_is_less_sure_than_one_shown_once() -> None:
    once = rank_targets(_screen(_el(1, Rect(100, 100, 160, 120), "Export")), "Export")[0][0]
    twice = rank_targets(_screen(_el(1, Rect(100, 100, 160, 120), "Export"),
                                 _el(2, Rect(700, 500, 760, 520), "Export")), "Export")[0][0]
    assert twice < once


def test_a_rival_outside_the_focused_window_does_not_count_for_a_candidate_inside_it() -> None:
    # A dialog's "OK" (the focused window) and a toolbar's "OK" in the main window behind it.
    dialog, toolbar = _el(1, Rect(600, 500, 640, 520), "OK", ElementKind.BUTTON), _el(2, Rect(300, 160, 330, 180), "OK")
    screen = _screen(toolbar, dialog)
    with pytest.raises(TargetNotFound):  # two places carry it and none is known to be where the person works
        locate_target(screen, "OK")
    focused = replace(screen, focus=Rect(330, 150, 750, 690))
    res = locate_target(focused, "OK")
    assert res.element.id == 1 and res.score >= MIN_SCORE
    once = locate_target(_screen(dialog), "OK").score
    assert res.score == pytest.approx(once)  # as sure as if the dialog's were the only one
    # The toolbar's, outside the focused window, still has the dialog's as its rival.
    ranked = {el.id: p for p, el, _ in rank_targets(focused, "OK")}
    assert ranked[2] < MIN_SCORE


def test_a_different_word_close_to_the_name_is_not_clicked() -> None:
    with pytest.raises(TargetNotFound, match="not clicking a guess"):
        locate_target(_screen(_el(1, Rect(100, 100, 200, 120), "Preferences")), "References")


def test_the_fit_learns_which_evidence_makes_a_click_right() -> None:
    sys.path.insert(0, str(ROOT / "models" / "locate"))
    import fit  # models/locate/fit.py

    rng = np.random.default_rng(0)
    exact = FEATURES.index("exact")
    rivals = FEATURES.index("rivals_whole")
    qs = []
    for _ in range(300):
        x = np.zeros((2, len(FEATURES)))
        x[:, 0] = 1.0
        x[0, exact], x[1, FEATURES.index("contains")] = 1.0, 1.0
        ambiguous = rng.random() < 0.5
        x[0, rivals] = np.log1p(1.0) if ambiguous else 0.0
        # An exact, unrivalled text is right; with a rival it is right half the time; a contains never.
        right = np.array([not ambiguous or rng.random() < 0.5, False])
        qs.append(fit.Question("app", "text", True, x, right, np.zeros((2, 2), bool), np.array([True, False]),
                               np.full(2, np.nan)))
    w = fit.fit(qs)
    assert w[exact] > 0 and w[rivals] < 0 and w[FEATURES.index("contains")] < w[exact]
    p_sure, _ = fit.best(qs[0], w)
    assert 0.0 < p_sure < 1.0
