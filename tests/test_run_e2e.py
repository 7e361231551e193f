"""Whole tasks against the real Qt target app through the real CLI, on a real Xvfb display and again on a real
headless Wayland compositor (sway, the app a native Wayland client): the same tasks, the same assertions.
Assertions are on what the app received (its event log) and what the run database holds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop_agent.runs.store import RunStore
from tests.display import TargetApp
from tests.e2e_helpers import cli

pytestmark = pytest.mark.display


def _inside(point: list[int], rect: list[int]) -> bool:
    return rect[0] <= point[0] < rect[2] and rect[1] <= point[1] < rect[3]


def test_a_task_across_both_monitors(session_app: TargetApp, home: Path) -> None:
    task = ('click "Save"; type "Zürich — 東京 ✓" into "Name"; click "Remember me"; '
            'click "Confirm Transfer"; click "File"; click "Export CSV"')
    r = cli("run", task, "--approve", "auto", home=home)
    assert r.returncode == 0, r.stdout + r.stderr
    got = [e for e in session_app.events() if e["event"] != "ready"]
    assert {"event": "clicked", "widget": "Save"} in got
    texts = [e["value"] for e in got if e["event"] == "text"]
    assert texts[-1] == "Zürich — 東京 ✓"
    assert {"event": "checked", "widget": "Remember me", "value": True} in got
    assert {"event": "clicked", "widget": "Confirm Transfer"} in got  # on the monitor left of the primary
    assert {"event": "menu", "item": "Export CSV"} in got
    # Nothing was clicked that the task did not name.
    assert [e for e in got if e["event"] == "clicked"] == [
        {"event": "clicked", "widget": "Save"}, {"event": "clicked", "widget": "Confirm Transfer"}]

    store = RunStore(home)
    run = store.list_runs()[0]
    assert run.status == "succeeded"
    steps = store.steps(run.id)
    assert [s.status for s in steps] == ["verified"] * 6
    # The recorded desktop points lie on the widgets the app reports, on both monitors.
    assert _inside(steps[0].target["desktop"], session_app.widgets["Save"])  # type: ignore[index]
    assert steps[3].target["monitor"] == 2  # type: ignore[index]
    assert _inside(steps[3].target["desktop"], session_app.widgets["Confirm Transfer"])  # type: ignore[index]
    for s in steps:
        assert (home / str(s.before_path)).exists() and (home / str(s.after_path)).exists()
        assert s.timings["act"] >= 0 and "parse" in s.timings


def test_scroll_a_long_list_then_pick_an_item_and_drag(session_app: TargetApp, home: Path) -> None:
    r = cli("run", 'scroll down 10 on "Item 05"; click "Item 40"; drag "Drag me" to "Drop here"',
            "--approve", "auto", home=home)
    assert r.returncode == 0, r.stdout + r.stderr
    got = session_app.events()
    assert {"event": "list_clicked", "item": "Item 40"} in got
    assert {"event": "dropped", "source": "Drag me", "target": "Drop here"} in got


def test_target_not_on_screen_abstains_and_clicks_nothing(session_app: TargetApp, home: Path) -> None:
    r = cli("run", 'click "Save"; click "Launch Rockets"; click "Delete"', "--approve", "auto", home=home)
    assert r.returncode == 3
    assert "no element matching 'launch rockets'" in r.stderr + r.stdout
    clicked = [e["widget"] for e in session_app.events("clicked")]
    assert clicked == ["Save"]  # the step after the missing target never ran
    store = RunStore(home)
    run = store.list_runs()[0]
    assert run.status == "failed"
    assert [s.status for s in store.steps(run.id)] == ["verified", "failed"]


def test_a_click_with_no_visible_effect_is_reported(session_app: TargetApp, home: Path) -> None:
    r = cli("run", "click Ready", "--approve", "auto", home=home)  # a status label: clicking it does nothing
    assert r.returncode == 5
    assert "no visible effect" in r.stderr + r.stdout
    store = RunStore(home)
    step = store.steps(store.list_runs()[0].id)[0]
    assert step.status == "failed" and step.verify is not None and step.verify["changed"] is False


def test_unknown_step_fails_before_any_input(session_app: TargetApp, home: Path) -> None:
    r = cli("run", 'click "Save"; smash "Delete"', "--approve", "auto", home=home)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["desktop-agent: step 2: unknown step 'smash': expected one of click, "
                                             "double-click, right-click, type, press, scroll, wait, drag"]
    assert session_app.events("clicked") == []


def test_approval_fails_closed_without_a_terminal(session_app: TargetApp, home: Path) -> None:
    r = cli("run", 'click "Delete"', home=home)  # --approve ask is the default; stdin is not a terminal
    assert r.returncode == 4
    assert "nothing was clicked or typed" in r.stderr + r.stdout
    assert session_app.events("clicked") == []


def test_terminal_approval_skip_then_approve(session_app: TargetApp, home: Path) -> None:
    import os
    import pty
    import subprocess
    import sys
    import time

    from tests.e2e_helpers import ROOT

    master, slave = pty.openpty()
    env = dict(os.environ, DESKTOP_AGENT_HOME=str(home), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "desktop_agent", "run", 'click "Delete"; click "Save"'],
                            cwd=ROOT, env=env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    answers = [b"s\n", b"y\n"]
    deadline = time.monotonic() + 90
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        out += chunk
        if b"[q]uit >" in out.split(b"approve step")[-1] and answers and out.count(b"[q]uit >") > 2 - len(answers):
            os.write(master, answers.pop(0))
    proc.wait(timeout=30)
    os.close(master)
    assert proc.returncode == 6, out.decode(errors="replace")  # a skipped step: not every step ran
    assert b"1 steps ran and were verified, 1 skipped" in out
    assert [e["widget"] for e in session_app.events("clicked")] == ["Save"]
    store = RunStore(home)
    assert [s.status for s in store.steps(store.list_runs()[0].id)] == ["skipped", "verified"]


def test_runs_list_show_and_html_export(session_app: TargetApp, home: Path, tmp_path: Path) -> None:
    assert cli("run", 'click "Open Report"', "--approve", "auto", home=home).returncode == 0
    listing = cli("runs", "list", home=home)
    assert listing.returncode == 0 and "succeeded" in listing.stdout
    run_id = listing.stdout.split()[0]
    show = cli("runs", "show", run_id, home=home)
    assert 'Click "Open Report"' in show.stdout and "verified" in show.stdout
    out = tmp_path / "report.html"
    exp = cli("runs", "export", run_id, "--html", "-o", str(out), home=home)
    assert exp.returncode == 0, exp.stderr
    page = out.read_text(encoding="utf-8")
    assert 'Click &quot;Open Report&quot;' in page and page.count("data:image/") >= 3
    assert "http://" not in page and "https://" not in page  # self-contained
    missing = cli("runs", "show", "no-such-run", home=home)
    assert missing.returncode == 2 and "no run 'no-such-run'" in missing.stderr


def test_database_stays_readable_while_a_run_writes(session_app: TargetApp, home: Path) -> None:
    assert cli("run", 'click "Save"', "--approve", "auto", home=home).returncode == 0
    db = sqlite3.connect(home / "runs.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_typing_any_unicode_text(session_app: TargetApp, home: Path) -> None:
    # More distinct non-ASCII characters than there are spare keycodes, so the typer must work in batches.
    text = "Größe ñandú — αβγδεζηθικλμνξοπρστυφχψω 東京大阪京都名古屋札幌福岡 ✓ ☃ €"
    r = cli("run", f'type "{text}" into "Name"', "--approve", "auto", home=home)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [e["value"] for e in session_app.events("text")][-1] == text


def test_dry_run_locates_and_records_every_step_and_sends_nothing(session_app: TargetApp, home: Path) -> None:
    r = cli("run", 'click "Save"; type "hello" into "Name"', "--dry-run", home=home)
    assert "skipped" in r.stdout + r.stderr
    assert [e for e in session_app.events() if e["event"] != "ready"] == []  # no click, no text reached the app
    store = RunStore(home)
    steps = store.steps(store.list_runs()[0].id)
    assert [s.status for s in steps] == ["skipped", "skipped"]
    assert steps[0].target is not None and _inside(steps[0].target["desktop"], session_app.widgets["Save"])
