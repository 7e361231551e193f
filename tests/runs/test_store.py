"""The run database on a real SQLite file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.runs.report import run_report_html
from desktop_agent.runs.store import RunStore


def test_steps_are_recorded_as_they_happen(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.start_run('click "Save"', "direct", "auto", [{"index": 1}])
    store.add_step(run_id, 0, {"action": "click"}, 'Click "Save"', "step 1 of the script")
    frame = ScreenFrame.from_image(np.zeros((40, 60, 3), np.uint8))
    rel = store.save_screenshot(run_id, 0, "before", frame)
    store.update_step(run_id, 0, status="verified", before_path=rel, timings={"act": 12.5},
                      target={"desktop": [5, 6], "monitor": 1, "score": 1.0, "bbox": [1, 2, 3, 4]})
    store.finish_run(run_id, "succeeded", "done")
    other = RunStore(tmp_path)  # a second connection sees everything
    run = other.get_run(run_id[-4:])  # a unique fragment of the id is enough
    assert (run.status, run.step_count) == ("succeeded", 1)
    (step,) = other.steps(run_id)
    assert step.status == "verified" and step.timings == {"act": 12.5}
    assert (tmp_path / rel).exists()
    page = run_report_html(other, run)
    assert "Click &quot;Save&quot;" in page and "data:image/jpeg;base64," in page


def test_a_killed_writer_leaves_an_interrupted_run(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from desktop_agent.runs.store import RunStore
        s = RunStore(Path({str(tmp_path)!r}))
        r = s.start_run("t", "direct", "auto", [])
        s.add_step(r, 0, {{}}, "one", "")
        s.update_step(r, 0, status="verified")
        s.add_step(r, 1, {{}}, "two", "")
        s.update_step(r, 1, status="acting")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert p.returncode == -9
    store = RunStore(tmp_path)
    run = store.list_runs()[0]
    assert run.status == "interrupted"
    assert [s.status for s in store.steps(run.id)] == ["verified", "interrupted"]
