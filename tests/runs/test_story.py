"""A run told as a story on real files: the outcome column (and an older database without it), the shared
wording (counts, durations, stage names, totals), the step's pictures, and the HTML report."""

from __future__ import annotations

import base64
import re
import sqlite3
import time
from pathlib import Path

import cv2
import numpy as np

from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.runs.report import run_report_html
from desktop_agent.runs.store import APPLICATION_ID, RunStore
from desktop_agent.runs.wording import (
    count,
    crop_box,
    duration,
    run_totals,
    stage_name,
    step_details,
    step_outcome,
    step_pictures,
    step_summary,
)

# The steps table as it was before the outcome column.
_OLD_SCHEMA = """
CREATE TABLE runs (id TEXT PRIMARY KEY, task TEXT NOT NULL, planner TEXT NOT NULL, approve TEXT NOT NULL,
    status TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', started_at REAL NOT NULL, ended_at REAL, pid INTEGER,
    host TEXT, screens TEXT NOT NULL DEFAULT '[]');
CREATE TABLE steps (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
    action TEXT NOT NULL, description TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
    target TEXT, verify TEXT, timings TEXT NOT NULL DEFAULT '{}', usage TEXT NOT NULL DEFAULT '{}',
    before_path TEXT, after_path TEXT, error TEXT NOT NULL DEFAULT '', started_at REAL NOT NULL, ended_at REAL,
    PRIMARY KEY (run_id, idx));
"""


def test_an_older_database_opens_reads_and_gains_the_outcome_column(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "runs.sqlite3")
    db.executescript(_OLD_SCHEMA)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("INSERT INTO runs (id, task, planner, approve, status, started_at, ended_at) "
               "VALUES ('r1', 'click Save', 'direct', 'ask', 'succeeded', 100.0, 103.5)")
    db.execute("INSERT INTO steps (run_id, idx, action, description, status, verify, started_at) VALUES "
               "('r1', 0, '{}', 'Click \"Save\"', 'verified', "
               "'{\"changed\": true, \"detail\": \"1840 px changed in [12, 520, 380, 548]\"}', 100.0)")
    db.commit()
    db.close()
    reader = RunStore(tmp_path, readonly=True)  # reading changes nothing, and shows no outcome
    (step,) = reader.steps("r1")
    assert step.outcome is None
    assert step_outcome(step) == "the screen changed"  # never the developer's pixel count
    reader.close()
    cols = {r[1] for r in sqlite3.connect(tmp_path / "runs.sqlite3").execute("PRAGMA table_info(steps)")}
    assert "outcome" not in cols
    store = RunStore(tmp_path)
    store.update_step("r1", 0, outcome="'Ready' now reads 'saved'")
    (step,) = store.steps("r1")
    assert step.outcome == "'Ready' now reads 'saved'" and step_outcome(step) == step.outcome
    assert step.verify == {"changed": True, "detail": "1840 px changed in [12, 520, 380, 548]"}  # kept as it was
    store.close()


def test_counts_durations_stage_names_and_totals(tmp_path: Path) -> None:
    assert (count(1, "step"), count(2, "step"), count(0, "step")) == ("1 step", "2 steps", "0 steps")
    assert (duration(420), duration(1840), duration(125_000)) == ("420 ms", "1.8 s", "2 min 05 s")
    assert stage_name("pre_act_settle") == "waiting for the screen before acting"
    assert stage_name("plan_parse_ocr_det") == "finding text (for the plan)"
    store = RunStore(tmp_path)
    run_id = store.start_run("t", "openai:gpt-4o-mini", "ask", [])
    for i in range(2):
        store.add_step(run_id, i, {"action": "click"}, "Click", "")
        store.update_step(run_id, i, status="verified", timings={"pre_act_settle": 80.0, "step": 1500.0},
                          usage={"prompt_tokens": 1000.0, "completion_tokens": 50.0, "cost_usd": 0.0004,
                                 "model_ms": 1830.0})
    store.finish_run(run_id, "succeeded", "done")
    run = store.get_run(run_id)
    totals = run_totals(run, store.steps(run_id))
    assert (totals.steps, totals.tokens, round(totals.cost_usd or 0, 6)) == (2, 2100, 0.0008)
    assert totals.words().startswith("2 steps · ") and totals.words().endswith("2,100 tokens · $0.0008")
    step = store.steps(run_id)[0]
    assert step_summary(step) == "took 1.5 s · model 1.8 s · 1,050 tokens · $0.0004"
    assert "pre_act_settle" not in step_summary(step)  # the developer's key only behind Details
    assert ("waiting for the screen before acting (pre_act_settle)", "80 ms") in step_details(step)
    store.close()


def _screen(size: tuple[int, int] = (800, 1280)) -> np.ndarray:
    img = np.full((*size, 3), 236, np.uint8)
    cv2.putText(img, "Save", (110, 125), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (20, 20, 20), 1)
    return img


def _decode(data_uri: str) -> np.ndarray:
    raw = base64.b64decode(data_uri.split(",", 1)[1])
    return cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)


def _record(store: RunStore, run_id: str, before: np.ndarray, after: np.ndarray, target: list[float],
            change: list[float], outcome: str) -> None:
    store.add_step(run_id, 0, {"action": "click"}, 'Click "Save"', "Save stores the changes.")
    store.update_step(run_id, 0, status="verified", outcome=outcome,
                      before_path=store.save_screenshot(run_id, 0, "before", ScreenFrame.from_image(before)),
                      after_path=store.save_screenshot(run_id, 0, "after", ScreenFrame.from_image(after)),
                      target={"desktop": [110, 120], "monitor": 1, "score": 0.9, "bbox": target,
                              "element_bbox": target, "point": [140, 115]},
                      verify={"changed": True, "pixels": 900, "bbox": change, "detail": "900 px changed in [...]"},
                      timings={"parse_ocr_det": 120.0, "step": 900.0})


def test_pictures_hold_the_whole_target_and_the_change_and_the_report_tells_the_story(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.start_run('click "Save" <b>now</b>', "direct", "ask", [])
    before, after = _screen(), _screen()
    after[160:190, 300:420] = (40, 40, 200)  # the change, near the target
    target, change = [100.0, 100.0, 180.0, 130.0], [300.0, 160.0, 420.0, 190.0]
    _record(store, run_id, before, after, target, change, "'Ready' now reads '<i>saved</i>'")
    store.finish_run(run_id, "succeeded", "all 1 steps ran and were verified")
    (step,) = store.steps(run_id)
    pics = step_pictures(tmp_path, step)
    assert [p.caption for p in pics] == ["Before", "After"]
    box = crop_box([(step_box(target), 24), (step_box(change), 16)], 1280, 800)
    # One crop for both: the whole target with its margin and the whole change, before and after.
    assert box.x1 <= 100 - 24 and box.y1 <= 100 - 24 and box.x2 >= 420 + 16 and box.y2 >= 190 + 16
    assert pics[0].image.shape == pics[1].image.shape == (int(box.height), int(box.width), 3)
    cy, cx = int(175 - box.y1), int(360 - box.x1)
    assert pics[1].image[cy, cx].tolist() == [40, 40, 200] and pics[0].image[cy, cx].tolist() == [236, 236, 236]

    page = run_report_html(store, store.get_run(run_id))
    head = page.split("<main>")[0]
    assert "1 step ·" in head and "1 steps" not in head  # the totals and the message read right
    assert "the 1 step ran and was verified" in head
    assert "Result: &#x27;Ready&#x27; now reads &#x27;&lt;i&gt;saved&lt;/i&gt;&#x27;" in page  # escaped
    assert "&lt;b&gt;now&lt;/b&gt;" in page and "<b>now</b>" not in page
    assert "<details><summary>Details</summary>" in page
    details = page.split("<details>")[1]
    assert "finding text (parse_ocr_det)" in details and "900 px changed" in details
    visible = re.sub(r"<details>.*?</details>", "", page, flags=re.S)
    assert "parse_ocr_det" not in visible and "px changed" not in visible  # developer figures only in Details
    figures = re.findall(r'<figcaption>(Before|After)</figcaption><img src="(data:image/png;base64,[^"]+)"', page)
    assert [f[0] for f in figures] == ["Before", "After"]
    assert _decode(figures[1][1]).shape == pics[1].image.shape
    store.close()


def step_box(values: list[float]) -> object:
    from desktop_agent.geometry import Rect

    return Rect(*values)


def test_a_change_far_from_the_target_gets_its_own_crops_and_a_target_at_the_edge_stays_whole(
        tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.start_run("t", "direct", "ask", [])
    before, after = _screen(), _screen()
    after[700:730, 1000:1200] = (40, 40, 200)  # far from the target: the status bar
    target = [0.0, 2.0, 60.0, 30.0]  # at the screen's corner
    _record(store, run_id, before, after, target, [1000.0, 700.0, 1200.0, 730.0], "the status changed")
    (step,) = store.steps(run_id)
    pics = step_pictures(tmp_path, step)
    assert [p.caption for p in pics] == ["The target", "Before", "After"]
    h, w = pics[0].image.shape[:2]
    assert w >= 60 + 24 and h >= 30 + 24  # slid inside the screen, never cut
    assert pics[1].image.shape == pics[2].image.shape and pics[2].image.shape[1] >= 200 + 2 * 16
    store.close()


def test_a_step_that_failed_says_so_after_what_it_saw(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.start_run("t", "direct", "ask", [])
    store.add_step(run_id, 0, {"action": "press"}, "Press ctrl+s", "")
    store.update_step(run_id, 0, status="unverified", outcome="the screen did not change", ended_at=time.time(),
                      verify={"changed": False, "detail": "no visible change (a shortcut may act out of sight)"})
    store.add_step(run_id, 1, {"action": "click"}, "Click", "")
    store.update_step(run_id, 1, status="failed", outcome="the screen did not change", error="no visible effect")
    a, b = store.steps(run_id)
    assert step_outcome(a) == "the screen did not change (a shortcut may act out of sight)"
    assert step_outcome(b) == "the screen did not change\nError: no visible effect"
    store.close()
