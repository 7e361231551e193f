"""A self-contained HTML report of one run, telling the same story as the app's timeline: per step the action,
the result in words, before and after crops of the area that changed side by side, why, the step's figures in
a person's words, and the developer figures (every stage by name and key, usage, verification, the whole
screenshots) behind a "Details" toggle. The header gives the run's totals: steps, time, tokens and cost.
Every text from a record is escaped; images are embedded."""

from __future__ import annotations

import base64
import datetime as dt
import html
from pathlib import Path

import cv2
import numpy as np

from desktop_agent.runs.record import TargetRecord
from desktop_agent.runs.store import RunRow, RunStore, StepRow
from desktop_agent.runs.wording import (
    outcome_words,
    run_totals,
    status_word,
    step_details,
    step_outcome,
    step_pictures,
    step_summary,
    step_words,
    target_place,
)

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:20px 32px}header h1{margin:0 0 4px;font-size:20px;
overflow-wrap:anywhere}header .meta{opacity:.85;font-size:13px}header .totals{font-size:15px;margin-top:6px}
main{max-width:1100px;margin:24px auto;padding:0 24px}
.step{background:#fff;border-radius:10px;box-shadow:0 1px 3px #0002;margin:0 0 18px;padding:16px 20px;
overflow-wrap:anywhere}
.step h2{font-size:16px;margin:0 0 6px}.badge{display:inline-block;border-radius:99px;padding:1px 10px;
font-size:12px;font-weight:600;margin-left:8px}.verified,.succeeded{background:#d8f5e3;color:#116b35}
.failed,.interrupted,.rejected{background:#fde0e0;color:#8d1c1c}
.skipped,.partial,.aborted,.planned,.approved,.running,.unverified{background:#eee;color:#555}
.result{font-weight:600;margin:4px 0;white-space:pre-wrap}.reason{color:#555;margin:4px 0}
.summary{color:#666;font-size:13px}
.shots{display:flex;gap:12px;flex-wrap:wrap;margin-top:10px;align-items:flex-start}
.shots figure{margin:0;flex:0 1 auto;max-width:100%}.shots img{max-width:100%;border:1px solid #ddd;border-radius:6px}
figcaption{font-size:12px;color:#666}details{margin-top:8px}summary{cursor:pointer;color:#555;font-size:13px}
table.t{font-size:12px;color:#555;border-collapse:collapse}table.t td{padding:1px 12px 1px 0;vertical-align:top}
"""


def _png(image: np.ndarray) -> str | None:
    ok, buf = cv2.imencode(".png", image)
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode() if ok else None


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


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def _step_html(store: RunStore, s: StepRow) -> str:
    e = html.escape
    parts = [f'<section class="step"><h2>{s.idx + 1}. {e(step_words(s))}'
             f'<span class="badge {e(s.status)}">{e(status_word(s.status))}</span></h2>']
    result = step_outcome(s)
    if result and not (s.status == "aborted" and not s.error):
        prefix = "" if result.startswith("Error: ") else "Result: "
        parts.append(f'<div class="result">{e(prefix + result)}</div>')
    parts.append(_pictures_html(store, s))
    if s.reason:
        conf = f" (confidence {s.usage['confidence']:.0%})" if "confidence" in s.usage else ""
        parts.append(f'<div class="reason">Why: {e(s.reason + conf)}</div>')
    summary = step_summary(s)
    if summary:
        parts.append(f'<div class="summary">{e(summary)}</div>')
    parts.append(_details_html(store, s))
    parts.append("</section>")
    return "".join(parts)


def _pictures_html(store: RunStore, s: StepRow) -> str:
    """The step's before and after crops, side by side ('' when it has none)."""
    e = html.escape
    figs = []
    for p in step_pictures(store.home, s):
        data = _png(p.image)
        if data:
            figs.append(f'<figure><figcaption>{e(p.caption)}</figcaption><img src="{data}" alt="{e(p.caption)}">'
                        "</figure>")
    return '<div class="shots">' + "".join(figs) + "</div>" if figs else ""


def _details_html(store: RunStore, s: StepRow) -> str:
    """The step's developer figures and whole screenshots behind a "Details" toggle ('' when it has none)."""
    e = html.escape
    rows = step_details(s)
    if s.target:
        t = TargetRecord.of(s.target)
        el = t.element
        rows.insert(0, ("target", f"{el.get('kind', '')} {el.get('text', '')!r} {target_place(t, 'at desktop')}"))
    whole = _whole_screens(store, s)
    if not (rows or whole):
        return ""
    cells = "".join(f"<tr><td>{e(name)}</td><td>{e(value)}</td></tr>" for name, value in rows)
    return (f'<details><summary>Details</summary><table class="t">{cells}</table>'
            + (f'<div class="shots">{"".join(whole)}</div>' if whole else "") + "</details>")


def _whole_screens(store: RunStore, s: StepRow) -> list[str]:
    """Figures of the whole screen before (the target marked) and after the step, those that could be read."""
    whole = []
    box = s.target.get("bbox") if s.target else None
    point = s.target.get("point") if s.target else None
    if s.before_path:
        data = _img_data(store.home / s.before_path, box, point)
        if data:
            whole.append(f'<figure><img src="{data}" alt="the whole screen before"><figcaption>the whole screen '
                         "before</figcaption></figure>")
    if s.after_path:
        data = _img_data(store.home / s.after_path)
        if data:
            whole.append(f'<figure><img src="{data}" alt="the whole screen after"><figcaption>the whole screen '
                         "after</figcaption></figure>")
    return whole


def run_report_html(store: RunStore, run: RunRow) -> str:
    """The run as one HTML page: its totals, then each step's story."""
    e = html.escape
    steps = store.steps(run.id)
    totals = run_totals(run, steps)
    message = outcome_words(run.status, run.message)
    head = (f"<header><h1>{e(run.task)}</h1><div class='meta'><span class='badge {e(run.status)}'>"
            f"{e(status_word(run.status))}</span> {e(message)}</div>"
            f"<div class='totals'>{e(totals.words())}</div>"
            f"<div class='meta'>run {e(run.id)} · planner {e(run.planner)} · approval {e(run.approve)} · "
            f"started {_when(run.started_at)}</div></header>")
    body = "".join(_step_html(store, s) for s in steps) or "<p>No steps were recorded.</p>"
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>desktop-agent run {e(run.id)}"
            f"</title><style>{_CSS}</style></head><body>{head}<main>{body}</main></body></html>")
