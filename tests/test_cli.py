"""The CLI's commands and its one-line errors, run as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e_helpers import cli


def test_parse_and_locate_json_on_a_screenshot(dev_set: Path, home: Path) -> None:
    img = str(dev_set / "images" / "datasette__query__1920x1080.png")
    r = cli("parse", img, "--json", home=home)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["width"] == 1920 and any(e["text"] == "Run SQL" for e in data["elements"])
    e = data["elements"][0]
    assert set(e) >= {"id", "bbox", "kind", "text", "confidence"}
    r = cli("locate", img, 'click the "Run SQL" button', "--json", home=home)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"x", "y", "bbox", "score", "element"}
    x1, y1, x2, y2 = out["element"]["bbox"]
    assert x1 <= out["x"] <= x2 and y1 <= out["y"] <= y2


def test_locate_abstains_with_exit_3(dev_set: Path, home: Path) -> None:
    img = str(dev_set / "images" / "datasette__query__1920x1080.png")
    r = cli("locate", img, "Launch the rockets", "--json", home=home)
    assert r.returncode == 3
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "abstained" in r.stderr


@pytest.mark.parametrize("kind", ["text", "missing", "folder"])
def test_unreadable_image_is_one_clear_line(tmp_path: Path, home: Path, kind: str) -> None:
    path = tmp_path / "x.png"
    if kind == "text":
        path.write_text("hello")
    elif kind == "folder":
        path.mkdir()
    r = cli("parse", str(path), home=home)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("desktop-agent: cannot read image")


def test_no_display_is_one_clear_line(home: Path) -> None:
    for args in (("parse", "--screen"), ("run", 'click "Save"', "--approve", "auto")):
        r = cli(*args, home=home, drop=("DISPLAY", "WAYLAND_DISPLAY"))
        assert r.returncode == 1
        assert r.stderr.strip().splitlines() == [
            "desktop-agent: no display: set DISPLAY or run under Xvfb (DISPLAY is not set)"]
    # A run that never started leaves no half-written record.
    assert not (home / "runs.sqlite3").exists() or "running" not in cli("runs", "list", home=home).stdout


def test_eval_grounding_writes_predictions_and_prints_accuracy(dev_set: Path, tmp_path: Path, home: Path) -> None:
    # A small ScreenSpot-format folder: two images of the dev set with their samples.
    samples = json.loads((dev_set / "annotations.json").read_text())
    keep = {"images/datasette__query__1280x800.png", "images/tinymce__editor__1280x800.png"}
    subset = [s for s in samples if s["img_filename"] in keep]
    folder = tmp_path / "mini"
    (folder / "images").mkdir(parents=True)
    for name in keep:
        shutil.copy(dev_set / name, folder / name)
    (folder / "annotations.json").write_text(json.dumps(subset))
    out = tmp_path / "preds.jsonl"
    r = cli("eval", "grounding", str(folder), "--out", str(out), home=home, timeout=300)
    assert r.returncode == 0, r.stderr
    preds = [json.loads(line) for line in out.read_text().splitlines()]
    assert {p["id"] for p in preds} == {s["id"] for s in subset}
    assert all(("x" in p and "y" in p) or p.get("abstain") is True for p in preds)
    assert "type:text" in r.stdout and "latency per sample" in r.stdout
    assert r.stdout.strip().splitlines()[-1].startswith("accuracy ")


def test_eval_grounding_on_a_folder_without_annotations(tmp_path: Path, home: Path) -> None:
    r = cli("eval", "grounding", str(tmp_path), home=home)
    assert r.returncode == 2 and "annotations.json is missing" in r.stderr
    assert len(r.stderr.splitlines()) == 1


@pytest.mark.display
def test_doctor_reports_screens_models_and_planners(xvfb, home: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("doctor", "--json", home=home)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    mons = data["display"]["monitors"]
    assert [(m["left"], m["width"], m["primary"]) for m in mons] == [(1024, 1280, True), (0, 1024, False)]
    assert all(m["scale"] == 1 for m in mons)
    assert any(m["name"].startswith("PP-OCR") for m in data["ocr_models"])
    assert data["planners"]["direct"]["available"] is True
    text = cli("doctor", home=home).stdout
    assert "monitor 1 primary: 1280x800 at +1024+0" in text


def test_version(home: Path) -> None:
    r = cli("--version", home=home)
    assert r.returncode == 0 and r.stdout.startswith("desktop-agent ")
