"""Secrets typed by a run never reach the disk, the terminal or an export: real CLI, real Xvfb, real
target app with a password field and a masked "Login token" field; the data folder is grepped."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_agent.runs.store import RunStore
from tests.display import TargetApp
from tests.e2e_helpers import ROOT, cli

pytestmark = pytest.mark.display

SECRETS = (b"hunter2", b"tok-42x", b"hunter4")


@pytest.fixture
def login_app(xvfb, tmp_path: Path) -> Iterator[TargetApp]:  # type: ignore[no-untyped-def]
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    app = TargetApp.start(tmp_path / "events.jsonl", env, main="1100,40", extra=("--password", "--token"))
    yield app
    app.stop()


def _leaks(folder: Path, secrets: tuple[bytes, ...] = SECRETS) -> list[str]:
    found = []
    for f in folder.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            found += [f"{s.decode()} in {f}" for s in secrets if s in data]
    return found


def test_typed_secrets_are_typed_and_never_written_or_printed(login_app: TargetApp, home: Path,
                                                              tmp_path: Path) -> None:
    # The token field is found by a click on its placeholder; the typing after it has no target.
    task = 'type "hunter2" into "Password"; click "paste token here"; type "tok-42x"; wait 1'
    r = cli("run", task, "--approve", "auto", home=home)
    assert r.returncode == 0, r.stdout + r.stderr
    typed = {e["widget"]: e["value"] for e in login_app.events("text")}
    assert typed["password"] == "hunter2"
    assert typed["token"] == "tok-42x"

    store = RunStore(home)
    run = store.list_runs()[0]
    assert run.status == "succeeded"
    steps = store.steps(run.id)
    assert [s.status for s in steps] == ["verified"] * 4  # `wait 1` finishes (it used to crash the run)
    assert steps[-1].verify == {"detail": "waited 1 s"}
    assert run.task.count("••••••••") == 2

    listing = cli("runs", "list", home=home)
    shown = cli("runs", "show", run.id, home=home)
    as_json = cli("runs", "show", run.id, "--json", home=home)
    report = tmp_path / "report.html"
    exported = cli("runs", "export", run.id, "--html", "-o", str(report), home=home)
    printed = "".join(p.stdout + p.stderr for p in (r, listing, shown, as_json, exported))
    assert not [s for s in SECRETS if s.decode() in printed], printed
    assert "Type '••••••••' into \"Password\"" in shown.stdout
    assert report.exists() and not _leaks(tmp_path / "report.html")
    assert not _leaks(home)


def test_an_abstained_secret_step_records_no_secret_and_keeps_its_screenshot(login_app: TargetApp,
                                                                              home: Path) -> None:
    r = cli("run", 'type "hunter4" into "Passphrase"', "--approve", "auto", home=home)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "hunter4" not in r.stdout + r.stderr
    store = RunStore(home)
    (step,) = store.steps(store.list_runs()[0].id)
    assert step.status == "failed" and step.before_path  # what the agent looked at when it refused
    assert (home / step.before_path).exists()
    assert not _leaks(home)
    assert not login_app.events("text")


def test_a_run_killed_while_asking_about_a_secret_step_left_no_secret(login_app: TargetApp, home: Path) -> None:
    master, slave = pty.openpty()
    env = dict(os.environ, DESKTOP_AGENT_HOME=str(home), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "desktop_agent", "run", 'type "hunter2" into "Password"'],
                            cwd=ROOT, env=env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    try:
        deadline = time.monotonic() + 90
        while b"type 'yes'" not in out and time.monotonic() < deadline and proc.poll() is None:
            try:
                out += os.read(master, 4096)
            except OSError:
                break
        assert b"type 'yes'" in out, out.decode(errors="replace")  # a floor step: the whole word is needed
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert b"hunter2" not in out
    store = RunStore(home)  # opening it notices the dead process
    run = store.list_runs()[0]
    assert run.status == "interrupted"
    assert [s.status for s in store.steps(run.id)] == ["interrupted"]
    assert not _leaks(home)
    assert not login_app.events("text")


def test_a_masked_field_is_told_by_its_dots(login_app: TargetApp, home: Path) -> None:
    import mss
    import numpy as np

    from desktop_agent.agent.risk import shows_mask_glyphs

    r = cli("run", 'type "hunter2" into "Password"; type "plain words" into "Name"', "--approve", "auto", home=home)
    assert r.returncode == 0, r.stdout + r.stderr
    with mss.MSS() as sct:
        shot = np.asarray(sct.grab(sct.monitors[0]))[:, :, :3].copy()
    x1, y1, x2, y2 = login_app.widgets["password"]
    assert shows_mask_glyphs(shot, (x1, y1, x2, y2))
    x1, y1, x2, y2 = login_app.widgets["name"]
    assert not shows_mask_glyphs(shot, (x1, y1, x2, y2))  # letters are not a run of equal dots
    x1, y1, x2, y2 = login_app.widgets["token"]
    assert not shows_mask_glyphs(shot, (x1, y1, x2, y2))  # an empty field with its placeholder
