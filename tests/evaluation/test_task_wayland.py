"""`eval tasks --session wayland`: a task on a real headless sway, its app a native Wayland client (GTK's
mousepad), driven by the agent through the compositor and checked in the file it saved (its first step clicks the
window's title, in the title bar sway draws); a task whose app is
X11 only (GTK 2's mtpaint) is skipped, not counted as a failure."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_agent.capture.headless_wayland import missing_packages
from desktop_agent.evaluation.task_suite import load_suite
from desktop_agent.evaluation.task_wayland import native_command, task_outputs
from tests.e2e_helpers import ROOT

NATIVE = """goal = "Type a line and save"
script = '''
click "note.txt - Mousepad"
press ctrl+a
type "Wayland ✓"
press ctrl+s
'''
files = [{ path = "note.txt", text = "old\\n" }]
apps = [{ cmd = ["mousepad", "{home}/note.txt"], window = "note.txt", geometry = [60, 40, 700, 500] }]
max_steps = 7
time_limit = 120

[[check]]
kind = "file"
path = "note.txt"
equals = "Wayland ✓"
"""

X11_ONLY = """goal = "Look at the canvas"
script = "wait 1"
files = [{ path = "a.txt", text = "x" }]
apps = [{ cmd = ["mtpaint"], window = "mtPaint" }]
max_steps = 2
time_limit = 60

[[check]]
kind = "file"
path = "a.txt"
equals = "x"
"""


def test_outputs_and_native_commands() -> None:
    suite = load_suite(ROOT / "tasks" / "desktop")
    by_name = {t.name: t for t in suite}
    [one] = task_outputs(by_name["mousepad-hidpi-save"])
    assert one.scale == by_name["mousepad-hidpi-save"].scale and one.width > 1000  # device pixels at the scale
    two = task_outputs(by_name["galculator-second-monitor"])
    assert [(o.width, o.height, o.left, o.top) for o in two] == [(1280, 800, 1024, 0), (1024, 768, 0, 0)]
    assert native_command(["chromium", "--app=x"]) == ["chromium", "--ozone-platform=wayland", "--app=x"]
    assert native_command(["mousepad", "a.txt"]) == ["mousepad", "a.txt"]


@pytest.mark.timeout(400)
@pytest.mark.skipif(bool(missing_packages()) or not (shutil.which("mousepad") and shutil.which("mtpaint")),
                    reason="needs sway, grim, mousepad and mtpaint (./scripts/setup.sh --suite)")
def test_eval_tasks_on_wayland_runs_native_apps_and_skips_x11_only_ones(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "mousepad-native.toml").write_text(NATIVE, encoding="utf-8")
    (suite / "mtpaint-x11-only.toml").write_text(X11_ONLY, encoding="utf-8")
    out = tmp_path / "out"
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["DESKTOP_AGENT_HOME"] = str(tmp_path / "home")
    r = subprocess.run([sys.executable, "-m", "desktop_agent", "eval", "tasks", str(suite), "--session", "wayland",
                        "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=380)
    report = json.loads((out / "tasks.json").read_text(encoding="utf-8"))
    results = {t["name"]: t for t in report["results"]}
    assert results["mousepad-native"]["success"], r.stdout + r.stderr
    assert results["mtpaint-x11-only"]["failure"] == "skipped"
    assert "no native Wayland window" in results["mtpaint-x11-only"]["detail"]
    assert report["summary"]["tasks"] == 1 and report["summary"]["succeeded"] == 1 and report["summary"]["skipped"] == 1
    assert r.returncode == 0, r.stdout + r.stderr  # a skipped task is not a failure
    assert "SKIP" in r.stdout and "Wayland (headless sway)" in r.stdout
