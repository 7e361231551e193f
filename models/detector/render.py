"""Render the detector's training screens: random pages (pages.py) in headless Chromium, boxes from layout.

    python render.py OUT_DIR --pages N [--start K] [--workers W]

Writes OUT_DIR/NNNNN.png and OUT_DIR/NNNNN.json ({"scale": s, "boxes": [[class, x1, y1, x2, y2], ...]} in
image pixels). With --names the json also lists "names": [[class, x1, y1, x2, y2, text], ...], the
buttons, links, tabs and menu items whose text occurs exactly once on the page (a grounding check for
bench/grounding_heldout.py). Page K is generated from seed K, so a range of seeds is a reproducible split. Screens come
at device scales 1, 1.25, 1.5 and 2 so that the same controls appear at several pixel sizes.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pages import LABELS_JS, IconBank, PageBuilder

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE.parent / "icons" / "node_modules"


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("render.py: no Chromium found (Debian: apt-get install chromium)")


NAMES_JS = """
() => {
  const out = [];
  const page = document.body.innerText;
  for (const el of document.querySelectorAll('[data-k]')) {
    const k = el.dataset.k;
    if (!['button', 'link', 'tab', 'menu_item'].includes(k)) continue;
    const name = (el.innerText || '').trim();
    if (name.length < 2 || name.length > 40 || name.includes('\\n')) continue;
    if (page.split(name).length !== 2) continue;  // the text occurs once on the page
    const r = el.getBoundingClientRect();
    if (r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight) continue;
    const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    if (!hit || !(el === hit || el.contains(hit) || hit.contains(el))) continue;
    out.push([k, [r.left, r.top, r.right, r.bottom], name]);
  }
  return out;
}
"""


def render_range(out: Path, seeds: list[int], names: bool = False) -> int:
    from playwright.sync_api import sync_playwright

    icons = IconBank(NODE_MODULES)
    done = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), ignore_default_args=["--hide-scrollbars"],
                                    args=["--no-sandbox", "--disable-gpu", "--font-render-hinting=none"])
        contexts = {}
        for seed in seeds:
            rng = random.Random(seed)
            scale = rng.choice([1, 1, 1, 1.25, 1.5, 2, 2])
            w = rng.choice([800, 1024, 1280, 1366, 1440, 1600, 1920])
            h = rng.choice([600, 720, 800, 900, 1080])
            css_w, css_h = int(w / scale), int(h / scale)
            key = (css_w, css_h, scale)
            if key not in contexts:
                contexts[key] = browser.new_context(viewport={"width": css_w, "height": css_h},
                                                    device_scale_factor=scale)
            page = contexts[key].pages[0] if contexts[key].pages else contexts[key].new_page()
            page.set_content(PageBuilder(rng, icons).page(), wait_until="load")
            page.evaluate("document.fonts.ready")
            boxes = page.evaluate(LABELS_JS)
            stem = out / f"{seed:05d}"
            page.screenshot(path=str(stem.with_suffix(".png")))
            rows = [[k, *(round(v * scale, 1) for v in b)] for k, b in boxes]
            record: dict[str, object] = {"scale": scale, "boxes": rows}
            if names:
                record["names"] = [[k, *(round(v * scale, 1) for v in b), t] for k, b, t in page.evaluate(NAMES_JS)]
            stem.with_suffix(".json").write_text(json.dumps(record))
            done += 1
        browser.close()
    return done


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--names", action="store_true", help="also list uniquely named controls (grounding check)")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    seeds = [s for s in range(a.start, a.start + a.pages) if not (a.out / f"{s:05d}.json").exists()]
    chunks = [seeds[i::a.workers] for i in range(a.workers)]
    with ProcessPoolExecutor(a.workers) as pool:
        total = sum(pool.map(render_range, [a.out] * a.workers, chunks, [a.names] * a.workers))
    print(f"rendered {total} screens into {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
