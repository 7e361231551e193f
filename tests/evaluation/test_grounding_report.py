"""`eval grounding`'s wrong clicks and risk-coverage table, on a small set of our own with a known truth.

The screenshot is drawn here with PIL (real pixels, read by the real parser); the truth of each sample is
chosen so that the report's numbers are known in advance: one right click, one click outside its
(deliberately misplaced) box, one target not on screen that is clicked anyway, one that is abstained on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from desktop_agent.evaluation.grounding import (
    THRESHOLDS,
    Outcome,
    evaluate_grounding,
    format_risk_coverage,
    risk_coverage,
    write_predictions,
)
from desktop_agent.grounding.locate import MIN_SCORE

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _draw(path: Path) -> dict[str, list[int]]:
    """A light window with four words on buttons; the box of each word."""
    img = Image.new("RGB", (800, 300), (245, 245, 245))
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 28) if FONT.exists() else ImageFont.load_default(28)
    boxes = {}
    for i, word in enumerate(("Save", "Cancel", "Help", "Print")):
        x, y = 40 + 190 * i, 120
        d.rounded_rectangle((x - 14, y - 12, x + 150, y + 46), 8, fill=(225, 228, 235), outline=(120, 120, 130))
        d.text((x, y), word, fill=(20, 20, 20), font=font)
        boxes[word] = [x - 14, y - 12, x + 150, y + 46]
    img.save(path)
    return boxes


def _sample(sid: str, instruction: str, bbox: list[int] | None, data_type: str = "text") -> dict[str, object]:
    return {"id": sid, "img_filename": "shot.png", "instruction": instruction, "bbox": bbox,
            "data_type": data_type, "platform": "linux", "img_size": [800, 300]}


def test_wrong_clicks_and_risk_coverage_on_a_known_truth(parser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    boxes = _draw(tmp_path / "shot.png")
    samples = [
        _sample("right", "Save", boxes["Save"]),  # clicked inside its box
        _sample("wrong", "Cancel", boxes["Print"]),  # the truth says elsewhere: a click outside the box
        _sample("absent-clicked", "Help", None),  # not on screen by the truth, yet written there: clicked
        _sample("absent-abstained", "Quarterly revenue forecast", None),  # nothing like it: abstained
    ]
    (tmp_path / "annotations.json").write_text(json.dumps(samples))
    report = evaluate_grounding(tmp_path, parser)
    preds = {p["id"]: p for p in report.predictions}

    # Each prediction keeps its score; clicks score at least MIN_SCORE, abstentions below it.
    assert preds["right"]["score"] >= MIN_SCORE and "x" in preds["right"]
    assert preds["wrong"]["score"] >= MIN_SCORE and "x" in preds["wrong"]
    assert preds["absent-clicked"]["score"] >= MIN_SCORE and "x" in preds["absent-clicked"]
    assert preds["absent-abstained"]["abstain"] is True
    assert preds["absent-abstained"].get("score", 0.0) < MIN_SCORE

    hits, abstained, n = report.groups["all"]
    assert (hits, abstained, n) == (2, 1, 4)  # "right", and the abstention on an absent target
    assert report.wrong["all"] == 2 and report.wrong_rate("all") == 50.0
    assert report.groups["type:text"] == [2, 1, 4]

    rows = {r.threshold: r for r in report.risk_coverage()}
    assert set(rows) == set(THRESHOLDS)
    at = rows[MIN_SCORE]
    assert (at.present, at.clicked, at.right, at.absent, at.absent_clicked) == (2, 2, 1, 2, 1)
    assert (at.coverage, at.click_accuracy, at.wrong, at.absent_rate) == (1.0, 0.5, 0.5, 0.5)
    # Exact reads score at the top: 0.95 still clicks both present targets and "Help".
    assert (rows[0.95].clicked, rows[0.95].right, rows[0.95].absent_clicked) == (2, 1, 1)
    # At 0.0 everything with any candidate is clicked, the unlike absent target too if it had one.
    assert rows[0.0].absent_clicked == 1 + ("score" in preds["absent-abstained"])

    text = report.format()
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["group", "accuracy", "n", "abstained"]
    assert any(ln.startswith("all ") and "50.0%" in ln for ln in lines)
    assert "wrong clicks: 50.0% of present targets clicked outside their box (1/2); " \
           "50.0% of absent targets clicked (1/2)" in text
    assert any(ln.strip().startswith(f"{MIN_SCORE:.2f}*") for ln in lines)
    assert lines[-1] == "accuracy 50.0"

    figures = report.to_dict()
    assert figures["groups"]["all"]["wrong"] == 2
    assert [r["threshold"] for r in figures["risk_coverage"]["all"]] == [round(t, 3) for t in THRESHOLDS]

    out = tmp_path / "preds.jsonl"
    write_predictions(report, out)
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert {p["id"]: p.get("score") for p in written} == {p["id"]: p.get("score") for p in report.predictions}


def test_risk_coverage_counts() -> None:
    outcomes = [
        Outcome(1.0, True, True, ("all",)),
        Outcome(0.9, True, False, ("all",)),
        Outcome(0.6, True, True, ("all",)),
        Outcome(None, True, False, ("all",)),
        Outcome(0.75, False, False, ("all",)),
        Outcome(None, False, False, ("all",)),
    ]
    rows = {r.threshold: r for r in risk_coverage(outcomes, (0.0, 0.7, 0.95))}
    assert (rows[0.0].clicked, rows[0.0].right, rows[0.0].absent_clicked) == (3, 2, 1)
    assert (rows[0.7].clicked, rows[0.7].right, rows[0.7].absent_clicked) == (2, 1, 1)
    assert (rows[0.95].clicked, rows[0.95].right, rows[0.95].absent_clicked) == (1, 1, 0)
    assert rows[0.7].coverage == pytest.approx(0.5) and rows[0.7].wrong == pytest.approx(0.25)
    assert rows[0.95].click_accuracy == 1.0 and rows[0.95].absent_rate == 0.0
    lines = format_risk_coverage(list(rows.values()), default=0.7)
    assert lines[0].startswith("risk-coverage (4 present targets, 2 absent")
    assert lines[3].split() == ["0.70*", "50.0%", "50.0%", "25.0%", "50.0%"]
