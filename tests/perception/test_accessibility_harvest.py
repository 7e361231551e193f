"""The training-data harvester's smoke run: one real app, one screen, its truth written as the README says
(harvesting itself never runs in CI)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.display
@pytest.mark.skipif(not (shutil.which("galculator") and shutil.which("openbox") and shutil.which("xdotool")),
                    reason="needs galculator, openbox and xdotool (packaging/debian-packages-suite.txt)")
def test_harvester_writes_one_screen_with_visible_truth(tmp_path: Path) -> None:
    out = tmp_path / "harvest"
    r = subprocess.run([sys.executable, str(ROOT / "models/harvest/harvest_desktop.py"), "--out", str(out),
                        "--apps", "galculator", "--menus", "1", "--held-out", "galculator"],
                       capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert r.returncode == 0, r.stderr[-2000:]
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    images = {s["image"] for s in samples}
    assert len(images) == 2  # the main screen and the first menu opened
    main = [s for s in samples if s["image"].endswith("__main.png")]
    equals = [s for s in main if s["name"] == "="]
    assert len(equals) == 1 and equals[0]["role"] in ("push button", "toggle button")
    image = cv2.imread(str(out / equals[0]["image"]))
    h, w = image.shape[:2]
    for s in samples:
        x1, y1, x2, y2 = s["bbox"]
        assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
        assert {"app", "toolkit", "theme", "scale", "role", "name", "states"} <= s.keys()
    menu = [s for s in samples if "__menu0" in s["image"]]
    assert {"Quit"} <= {s["name"] for s in menu if s["role"] == "menu item"}  # the open File menu
    # What the open menu covers is not truth on that screen.
    quit_box = next(s["bbox"] for s in menu if s["name"] == "Quit")
    for s in menu:
        if s["role"] in ("toggle button", "push button", "text", "label"):  # containers may be 95 % seen
            x1, y1, x2, y2 = s["bbox"]
            assert x2 <= quit_box[0] or x1 >= quit_box[2] or y2 <= quit_box[1] or y1 >= quit_box[3], s
    assert len([s for s in main if s["role"] == "toggle button"]) == 27  # the pointer is out of the way
    split = json.loads((out / "split.json").read_text(encoding="utf-8"))
    assert split["test"] == ["galculator"] and split["train"] == []
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["apps"][0]["license"] == "GPL-2+"
