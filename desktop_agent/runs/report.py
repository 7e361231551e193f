"""A self-contained HTML report of one run: the timeline a person reads, images embedded."""

from __future__ import annotations

import base64
import datetime as dt
import html
from pathlib import Path

import cv2

from desktop_agent.runs.store import RunRow, RunStore, StepRow

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:20px 32px}header h1{margin:0 0 4px;font-size:20px}
header .meta{opacity:.8;font-size:13px}main{max-width:1100px;margin:24px auto;padding:0 24px}
.step{background:#fff;border-radius:10px;box-shadow:0 1px 3px #0002;margin:0 0 18px;padding:16px 20px}
.step h2{font-size:16px;margin:0 0 6px}.badge{display:inline-block;border-radius:99px;padding:1px 10px;
font-size:12px;font-weight:600;margin-left:8px}.verified,.succeeded{background:#d8f5e3;color:#116b35}
.failed,.interrupted{background:#fde0e0;color:#8d1c1c}.skipped,.partial,.aborted,.planned,.approved,.running{background:#eee;color:#555}
.reason{color:#555;margin:4px 0}.shots{display:flex;gap:12px;flex-wrap:wrap;margin-top:10px}
.shots figure{margin:0;flex:1 1 300px}.shots img{max-width:100%;border:1px solid #ddd;border-radius:6px}
figcaption{font-size:12px;color:#666}table.t{font-size:12px;color:#555;border-collapse:collapse}
table.t td{padding:1px 10px 1px 0}.err{color:#8d1c1c;font-weight:600}
"""


def _img_data(path: Path, box: list[float] | None = None, point: list[int] | None = None,
              max_width: int = 1000) -> str | None:
    image = cv2.imread(str(path))
    if image is None:
        return None
    if box:
        x1, y1, x2, y2 = (int(v) for v in box)
        cv2.rectangle(image, (x1 - 2, y1 - 2), (x2 + 2, y2 + 2), (40, 40, 230), 3)
    if point:
        cv2.drawMarker(image, (int(point[0]), int(point[1])), (40, 40, 230), cv2.MARKER_CROSS, 22, 2)
    h, w = image.shape[:2]
    if w > max_width:
        image = cv2.resize(image, (max_width, int(h * max_width / w)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 82])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else None


def _crop_data(path: Path, box: list[float]) -> str | None:
    image = cv2.imread(str(path))
    if image is None:
        return None
    h, w = image.shape[:2]
    x1, y1, x2, y2 = (int(v) for v in box)
    pad = 80
    crop = image[max(0, y1 - pad):min(h, y2 + pad), max(0, x1 - pad * 2):min(w, x2 + pad * 2)].copy()
    ox, oy = max(0, x1 - pad * 2), max(0, y1 - pad)
    cv2.rectangle(crop, (x1 - ox - 2, y1 - oy - 2), (x2 - ox + 2, y2 - oy + 2), (40, 40, 230), 2)
    ok, buf = cv2.imencode(".png", crop)
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode() if ok else None


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def _step_html(store: RunStore, s: StepRow) -> str:
    e = html.escape
    parts = [f'<section class="step"><h2>{s.idx + 1}. {e(s.description)}'
             f'<span class="badge {e(s.status)}">{e(s.status)}</span></h2>']
    if s.reason:
        parts.append(f'<div class="reason">{e(s.reason)}</div>')
    if s.target:
        t = s.target
        el = t.get("element", {})
        parts.append(
            f"<div>Target: {e(el.get('kind', ''))} {e(repr(el.get('text', '')))} at desktop "
            f"({t['desktop'][0]}, {t['desktop'][1]}) on monitor {t['monitor']}, score {t['score']}</div>")
    if s.error:
        parts.append(f'<div class="err">{e(s.error)}</div>')
    if s.verify:
        parts.append(f"<div>Verified: {e(str(s.verify.get('detail', '')))}</div>")
    if s.timings:
        cells = "".join(f"<td>{e(k)} {v:.0f} ms</td>" for k, v in s.timings.items())
        parts.append(f'<table class="t"><tr>{cells}</tr></table>')
    if s.usage:
        parts.append("<div>" + ", ".join(f"{e(k)}: {v}" for k, v in s.usage.items()) + "</div>")
    figs = []
    box = s.target.get("bbox") if s.target else None
    point = s.target.get("point") if s.target else None
    if s.before_path:
        p = store.home / s.before_path
        if box:
            crop = _crop_data(p, box)
            if crop:
                figs.append(f'<figure><img src="{crop}" alt="target"><figcaption>target</figcaption></figure>')
        data = _img_data(p, box, point)
        if data:
            figs.append(f'<figure><img src="{data}" alt="before"><figcaption>before</figcaption></figure>')
    if s.after_path:
        data = _img_data(store.home / s.after_path)
        if data:
            figs.append(f'<figure><img src="{data}" alt="after"><figcaption>after</figcaption></figure>')
    if figs:
        parts.append('<div class="shots">' + "".join(figs) + "</div>")
    parts.append("</section>")
    return "".join(parts)


def run_report_html(store: RunStore, run: RunRow) -> str:
    e = html.escape
    steps = store.steps(run.id)
    duration = f"{run.ended_at - run.started_at:.1f} s" if run.ended_at else "unfinished"
    head = (f"<header><h1>{e(run.task)}</h1><div class='meta'>run {e(run.id)} · planner {e(run.planner)} · "
            f"approval {e(run.approve)} · started {_when(run.started_at)} · {duration} · "
            f"<span class='badge {e(run.status)}'>{e(run.status)}</span> {e(run.message)}</div></header>")
    body = "".join(_step_html(store, s) for s in steps) or "<p>No steps were recorded.</p>"
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>desktop-agent run {e(run.id)}"
            f"</title><style>{_CSS}</style></head><body>{head}<main>{body}</main></body></html>")
