"""Turn harvested screens (samples.jsonl of harvest_desktop.py) into a ScreenSpot-format grounding set that
`desktop-agent eval grounding` measures, for the apps of one split.

    .venv/bin/python models/harvest/to_grounding_set.py build/harvest build/desktop-heldout --apps ristretto,...

Targets are what a person would name, from the accessibility tree alone (no model chooses them):
* `icon`: a button, toggle or tool button with a name whose box is small and square enough to show no label
  (at most 64 px high and 1.6 times as wide as high, both at scale 1), enabled, named with
  three letters or more (a button named "C" or "<-" shows that as text);
* `text`: menu items, menus, tabs, check boxes, radio buttons and labelled buttons wider than that, enabled,
  with a name of 2-40 characters;
* `absent`: for each screen, up to three names of icon and text targets of *other* apps' screens that no
  element of this screen carries.
Names that occur twice on one screen are left out (which one is meant is not told), and so are names that
hold a keyboard accelerator only. Every kept sample records its app, toolkit, theme, icon theme and scale.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ICON_ROLES = {"push button", "toggle button", "tool button", "button"}
TEXT_ROLES = {"menu item", "menu", "page tab", "check box", "radio button", "push button", "check menu item",
              "radio menu item", "toggle button"}


def _kind(s: dict[str, Any], short_names: bool = False) -> str | None:
    x1, y1, x2, y2 = s["bbox"]
    w, h = (x2 - x1) / s["scale"], (y2 - y1) / s["scale"]
    name = (s.get("name") or "").strip()
    states = set(s.get("states") or ())
    if not name or ("enabled" not in states and "sensitive" not in states) or w < 6 or h < 6:
        return None
    if s["role"] in ICON_ROLES and h <= 64 and w <= 1.6 * h and len(re.findall(r"[A-Za-z]", name)) >= 3:
        return "icon"
    if s["role"] in TEXT_ROLES and 2 <= len(name) <= 40 and re.search(r"[A-Za-z]{2}", name):
        return "text"
    if short_names and s["role"] in TEXT_ROLES and len(name) <= 40 and not name.isspace():
            # A calculator's "7" or "+": names a calibration must see too. With them (`--short-names`, for
        # training sets), absent names are only those whose words no name on the screen holds ("Preferences..."
        # is absent only where no "Preferences" shows) and with two letters at least (a "2" is on most screens).
        return "text"
    return None


def _words(name: str) -> str:
    return " ".join(re.findall(r"\w+", name.casefold()))


def convert(src: Path, dst: Path, apps: set[str] | None, absent_per_screen: int = 3, seed: int = 5,
            short_names: bool = False) -> dict[str, int]:
    samples = [json.loads(line) for line in (src / "samples.jsonl").read_text(encoding="utf-8").splitlines() if line]
    by_image: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in samples:
        by_image[s["image"]].append(s)
    out: list[dict[str, Any]] = []
    absent: list[dict[str, Any]] = []
    names_by_app: dict[str, set[str]] = defaultdict(set)
    rng = random.Random(seed)
    for image, items in sorted(by_image.items()):
        app = items[0]["app"]
        if apps and app not in apps:
            continue
        counts = Counter((i.get("name") or "").strip().casefold() for i in items)
        (dst / "images").mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / image, dst / image)
        import cv2

        h, w = cv2.imread(str(src / image)).shape[:2]
        for i in items:
            kind = _kind(i, short_names)
            name = (i.get("name") or "").strip()
            if kind is None or counts[name.casefold()] > 1:
                continue
            names_by_app[app].add(name)
            out.append({"id": f"{app}-{len(out)}", "img_filename": image, "instruction": name, "bbox": i["bbox"],
                        "data_type": kind, "data_source": app, "platform": i["toolkit"], "img_size": [w, h],
                        "resolution": f"{w}x{h}@{i['scale']:g}", "role": i["role"], "theme": i["theme"],
                        "icon_theme": i["icon_theme"]})
    for image, items in sorted(by_image.items()):
        app = items[0]["app"]
        if (apps and app not in apps) or not (dst / image).exists():
            continue
        here = {(i.get("name") or "").strip().casefold() for i in items}
        words_here = " ".join(_words(n) for n in here)
        pool = sorted(n for a, ns in names_by_app.items() if a != app for n in ns if n.casefold() not in here
                      and (not short_names or (re.search(r"[A-Za-z]{2}", n) and f" {_words(n)} " not in
                                               f" {words_here} ")))
        for name in rng.sample(pool, min(absent_per_screen, len(pool))):
            absent.append({"id": f"absent-{len(absent)}", "img_filename": f"../{image}", "instruction": name,
                           "bbox": None, "data_type": "absent", "data_source": app, "platform": items[0]["toolkit"]})
    (dst / "annotations.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (dst / "absent").mkdir(parents=True, exist_ok=True)
    (dst / "absent" / "annotations.json").write_text(json.dumps(absent, indent=1, ensure_ascii=False) + "\n",
                                                     encoding="utf-8")
    kinds = Counter(s["data_type"] for s in out)
    return {"icon": kinds["icon"], "text": kinds["text"], "absent": len(absent),
            "screens": len({s["img_filename"] for s in out})}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("harvest", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--apps", default="", help="comma-separated apps to keep (default: the split's test apps)")
    ap.add_argument("--short-names", action="store_true",
                    help="also text targets named with fewer than two letters (calculator keys, '+')")
    args = ap.parse_args(argv)
    apps = set(filter(None, args.apps.split(","))) or set(
        json.loads((args.harvest / "split.json").read_text())["test"])
    print(json.dumps(convert(args.harvest, args.out, apps or None, short_names=args.short_names)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
