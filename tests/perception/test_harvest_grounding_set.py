"""models/harvest/to_grounding_set.py: harvested accessibility truth -> a ScreenSpot-format set that
`eval grounding` reads. Pure file logic on a small harvest written here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models" / "harvest"))

from to_grounding_set import convert

from desktop_agent.evaluation.grounding import check_sample, load_samples


def _sample(app: str, image: str, role: str, name: str, bbox: list[float], enabled: bool = True) -> dict[str, object]:
    return {"app": app, "toolkit": "gtk3", "theme": "default", "icon_theme": "default", "scale": 1.0,
            "image": image, "role": role, "name": name, "states": ["enabled"] if enabled else [], "bbox": bbox}


def test_icons_texts_and_absent_names_are_chosen_from_the_tree(tmp_path: Path) -> None:
    src = tmp_path / "harvest"
    (src / "images").mkdir(parents=True)
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(src / "images" / name), np.full((100, 200, 3), 240, np.uint8))
    rows = [
        _sample("editor", "images/a.png", "push button", "Zoom In", [10, 10, 34, 34]),  # icon-only: square
        _sample("editor", "images/a.png", "push button", "Apply changes", [40, 10, 140, 34]),  # wide: text
        _sample("editor", "images/a.png", "menu item", "Save As", [10, 50, 120, 70]),
        _sample("editor", "images/a.png", "push button", "Print", [150, 10, 174, 34], enabled=False),  # disabled
        _sample("editor", "images/a.png", "push button", "C", [180, 10, 200, 30]),  # a one-letter key: text
        _sample("editor", "images/a.png", "menu item", "Copy", [10, 72, 120, 90]),
        _sample("editor", "images/a.png", "menu item", "Copy", [10, 92, 120, 99]),  # twice: left out
        _sample("viewer", "images/b.png", "toggle button", "Rotate Left", [10, 10, 30, 30]),
    ]
    (src / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "set"
    counts = convert(src, out, {"editor", "viewer"})
    ann = json.loads((out / "annotations.json").read_text())
    got = {(a["instruction"], a["data_type"]) for a in ann}
    assert got == {("Zoom In", "icon"), ("Apply changes", "text"), ("Save As", "text"), ("Rotate Left", "icon")}
    assert counts["icon"] == 2 and counts["text"] == 2
    absent = json.loads((out / "absent" / "annotations.json").read_text())
    # Each screen is asked for names of the other app's targets, never its own.
    assert {a["instruction"] for a in absent if a["img_filename"].endswith("b.png")} <= {
        "Zoom In", "Apply changes", "Save As"}
    assert all(a["instruction"] != "Rotate Left" for a in absent if a["img_filename"].endswith("b.png"))
    # The set is one that `eval grounding` accepts as it is.
    samples = load_samples(out)
    assert samples and all(check_sample(s) is None for s in samples)
