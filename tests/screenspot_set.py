"""A small ScreenSpot-format set made on the spot (annotations.json and PNG screens of labelled buttons), so
the CLI's evaluation commands are tested in any clone, without the datasets kept outside the repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

WORDS = ("Save", "Open", "Export", "Cancel", "Print", "Delete", "Rename", "Settings", "Search", "Refresh", "Upload",
         "Close")


def make_screenspot_set(folder: Path, images: int, size: tuple[int, int] = (800, 500)) -> list[dict[str, Any]]:
    """`images` screens, each with four labelled buttons; two samples per screen: a button that is there
    (its box) and one that is not (bbox null). Returns the samples, also written to annotations.json."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    font = ImageFont.load_default(size=22)
    samples: list[dict[str, Any]] = []
    for i in range(images):
        img = Image.new("RGB", size, "white")
        draw = ImageDraw.Draw(img)
        labels = [WORDS[(i + k) % len(WORDS)] for k in range(4)]
        boxes = []
        for k, label in enumerate(labels):
            x, y = 60 + (k % 2) * 360, 80 + (k // 2) * 200
            box = (x, y, x + 220, y + 56)
            draw.rounded_rectangle(box, radius=6, fill="#e8e8e8", outline="#777777", width=2)
            w = draw.textlength(label, font=font)
            draw.text((x + (220 - w) / 2, y + 16), label, fill="black", font=font)
            boxes.append(box)
        name = f"images/screen{i:02d}.png"
        img.save(folder / name)
        absent = WORDS[(i + 6) % len(WORDS)]
        samples.append({"id": f"s{i}-present", "img_filename": name, "instruction": f'click "{labels[i % 4]}"',
                        "bbox": list(boxes[i % 4]), "data_type": "text", "platform": "test"})
        samples.append({"id": f"s{i}-absent", "img_filename": name, "instruction": f'click "{absent}"',
                        "bbox": None, "data_type": "text", "platform": "test"})
    (folder / "annotations.json").write_text(json.dumps(samples), encoding="utf-8")
    return samples
