"""Stopping is safe: Ctrl+C, SIGTERM and SIGKILL leave a consistent, readable record (on X11 and on Wayland)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_agent.runs.store import RunStore
from tests.display import TargetApp
from tests.e2e_helpers import ROOT

pytestmark = pytest.mark.display


def _start(task: str, home: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, DESKTOP_AGENT_HOME=str(home), PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "desktop_agent", "run", task, "--approve", "auto"], cwd=ROOT,
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _wait_for_step(home: Path, idx: int, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db_path = home / "runs.sqlite3"
        if db_path.exists():
            db = sqlite3.connect(db_path)
            try:
                row = db.execute("SELECT status FROM steps WHERE idx = ?", (idx,)).fetchone()
            except sqlite3.OperationalError:
                row = None
            finally:
                db.close()
            if row and row[0] == status:
                return
        time.sleep(0.1)
    raise AssertionError(f"step {idx} never reached {status}")


def test_sigkill_mid_run_keeps_every_recorded_step(session_app: TargetApp, home: Path) -> None:
    proc = _start('click "Save"; wait 60; click "Delete"', home)
    try:
        _wait_for_step(home, 1, "approved")
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    db = sqlite3.connect(home / "runs.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    store = RunStore(home)  # opening it notices the dead process
    run = store.list_runs()[0]
    assert run.status == "interrupted"
    steps = store.steps(run.id)
    assert [s.status for s in steps] == ["verified", "interrupted"]
    assert (home / str(steps[0].before_path)).exists() and (home / str(steps[0].after_path)).exists()
    assert [e["widget"] for e in session_app.events("clicked")] == ["Save"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_during_a_step_stops_cleanly(session_app: TargetApp, home: Path, sig: int) -> None:
    proc = _start('wait 60; click "Delete"', home)
    try:
        _wait_for_step(home, 0, "approved")
        time.sleep(0.3)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out
    assert "ABORTED" in out
    store = RunStore(home)
    run = store.list_runs()[0]
    assert run.status == "aborted"
    assert [s.status for s in store.steps(run.id)] == ["aborted"]
    assert session_app.events("clicked") == []


def test_abort_request_from_another_thread_stops_the_run(session_app: TargetApp, home: Path, parser) -> None:  # type: ignore[no-untyped-def]
    """What the app's Stop button does: Agent.abort() while a step is running (here, one second into the
    30-second wait that follows the first step, however long that first step took)."""
    import threading

    from desktop_agent.agent import Agent
    from desktop_agent.agent.approval import AutoApprover
    from desktop_agent.agent.events import AgentEvent, EventKind
    from desktop_agent.capture.session import default_driver, default_screen
    from desktop_agent.planning.planner import DirectPlanner

    store = RunStore(home)
    screen, driver = default_screen(), default_driver()  # X11's or the Wayland compositor's
    timers: list[threading.Timer] = []
    waited: list[float] = []

    def after_the_first_step(event: AgentEvent) -> None:
        if event.kind == EventKind.STEP_DONE and event.step == 0:
            waited.append(time.monotonic())
            timers.append(threading.Timer(1.0, agent.abort))
            timers[-1].start()

    agent = Agent(screen, parser, driver, store, AutoApprover(allow_risky=True), on_event=after_the_first_step)
    task = 'click "Save"; wait 30; click "Delete"'
    try:
        outcome = agent.run(task, DirectPlanner(task), "auto")
    finally:
        for t in timers:
            t.cancel()
        for part in (screen, driver):
            getattr(part, "close", lambda: None)()
    assert waited and time.monotonic() - waited[0] < 10  # the wait ended at the abort, not after 30 s
    assert (outcome.status, outcome.exit_code) == ("aborted", 130)
    assert [s.status for s in store.steps(outcome.run_id)] == ["verified", "aborted"]
    assert [e["widget"] for e in session_app.events("clicked")] == ["Save"]
