"""The run database on a real SQLite file."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.errors import DataFolderError
from desktop_agent.runs.report import run_report_html
from desktop_agent.runs.store import RunStore


def test_steps_are_recorded_as_they_happen(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.start_run('click "Save"', "direct", "auto", [{"index": 1}])
    store.add_step(run_id, 0, {"action": "click"}, 'Click "Save"', "step 1 of the script")
    frame = ScreenFrame.from_image(np.zeros((40, 60, 3), np.uint8))
    rel = store.save_screenshot(run_id, 0, "before", frame)
    store.update_step(run_id, 0, status="verified", before_path=rel, timings={"act": 12.5, "parse": 104.32023799876333},
                      target={"desktop": [5, 6], "monitor": 1, "score": 1.0, "bbox": [1, 2, 3, 4]})
    store.finish_run(run_id, "succeeded", "done")
    other = RunStore(tmp_path)  # a second connection sees everything
    run = other.get_run(run_id[-4:])  # a unique fragment of the id is enough
    assert (run.status, run.step_count) == ("succeeded", 1)
    (step,) = other.steps(run_id)
    # Timings are kept to a tenth of a millisecond: a float's full digits are noise, and a typed secret's
    # digits must not turn up in them by chance ("9876" in 104.32023799876333).
    assert step.status == "verified" and step.timings == {"act": 12.5, "parse": 104.3}
    assert b"9876" not in (tmp_path / "runs.sqlite3").read_bytes()
    assert (tmp_path / rel).exists()
    page = run_report_html(other, run)
    assert "Click &quot;Save&quot;" in page and "data:image/jpeg;base64," in page


def test_a_killed_writer_leaves_an_interrupted_run_that_says_what_reached_the_desktop(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from desktop_agent.runs.store import RunStore
        s = RunStore(Path({str(tmp_path)!r}))
        r = s.start_run("t", "direct", "auto", [])
        for i, status in enumerate(["verified", "sent", "sending", "approved", "planned"]):
            s.add_step(r, i, {{}}, str(i), "")
            s.update_step(r, i, status=status)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert p.returncode == -9
    store = RunStore(tmp_path)
    run = store.list_runs()[0]
    assert run.status == "interrupted"
    steps = store.steps(run.id)
    # Input went out (or was going out) for steps 2 and 3; steps 4 and 5 never sent anything.
    assert [s.status for s in steps] == ["verified", "sent", "sending", "interrupted", "interrupted"]
    assert "before this step's effect was checked" in steps[1].error and steps[2].error


def _frame() -> ScreenFrame:
    return ScreenFrame.from_image(np.zeros((20, 30, 3), np.uint8))


def test_the_data_folder_is_private_to_its_user(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        home = tmp_path / "data"
        store = RunStore(home)
        run_id = store.start_run("t", "direct", "auto", [])
        store.add_step(run_id, 0, {}, "one", "")
        rel = store.save_screenshot(run_id, 0, "before", _frame())
    finally:
        os.umask(old)
    for path in (home, home / "screenshots", (home / rel).parent):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in (home / "runs.sqlite3", home / rel, *home.glob("runs.sqlite3-*")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_file_that_is_not_our_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    garbage = tmp_path / "a"
    garbage.mkdir()
    (garbage / "runs.sqlite3").write_bytes(b"not a database at all\n" * 50)
    foreign = tmp_path / "b"
    foreign.mkdir()
    db = sqlite3.connect(foreign / "runs.sqlite3")
    db.execute("CREATE TABLE runs (lap INTEGER, seconds REAL)")
    db.execute("INSERT INTO runs VALUES (1, 62.5)")
    db.commit()
    db.close()
    for folder in (garbage, foreign):
        before = (folder / "runs.sqlite3").read_bytes()
        for readonly in (False, True):
            with pytest.raises(DataFolderError, match="is not a desktop-agent run database"):
                RunStore(folder, readonly=readonly)
        assert (folder / "runs.sqlite3").read_bytes() == before
        assert sorted(p.name for p in folder.iterdir()) == ["runs.sqlite3"]
    # Through the CLI: one line, exit 2.
    r = subprocess.run([sys.executable, "-m", "desktop_agent", "runs", "list"], capture_output=True, text=True,
                       env=dict(os.environ, DESKTOP_AGENT_HOME=str(foreign)))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_reading_commands_work_in_a_read_only_folder_and_write_nothing(tmp_path: Path) -> None:
    home = tmp_path / "data"
    store = RunStore(home)
    run_id = store.start_run('click "Save"', "direct", "auto", [])
    store.add_step(run_id, 0, {}, 'Click "Save"', "")
    store.finish_run(run_id, "succeeded")
    store.close()
    # The folder mounted read-only in a mount namespace of its own (file modes would not stop root).
    snapshot = {p.name: p.read_bytes() for p in home.iterdir() if p.is_file()}
    code = ("from desktop_agent.cli import main; import sys; "
            "sys.exit(main(['runs', 'list']) or main(['runs', 'show', sys.argv[1]]))")
    script = f'mount --bind -o ro "$0" "$0" && exec "{sys.executable}" -c "$1" "$2"'
    r = subprocess.run(["unshare", "-m", "sh", "-c", script, str(home), code, run_id], capture_output=True,
                       text=True, env=dict(os.environ, DESKTOP_AGENT_HOME=str(home)),
                       cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0, r.stderr
    assert run_id in r.stdout and 'Click "Save"' in r.stdout
    assert {p.name: p.read_bytes() for p in home.iterdir() if p.is_file()} == snapshot


def test_a_screenshot_folder_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.start_run("t", "direct", "auto", [])
    (tmp_path / "screenshots").write_text("a file where the folder should be")
    with pytest.raises(DataFolderError, match="cannot save screenshots"):
        store.save_screenshot(run_id, 0, "before", _frame())


def test_a_running_row_whose_pid_was_reused_is_interrupted(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.start_run("t", "direct", "auto", [])
    other = subprocess.Popen(["sleep", "30"])
    try:
        # The row names a live process that started long after the run: the PID was reused.
        store._write("UPDATE runs SET pid = ?, started_at = ? WHERE id = ?", (other.pid, time.time() - 3600, run_id))
        assert RunStore(tmp_path).get_run(run_id).status == "interrupted"
    finally:
        other.kill()
        other.wait()
    mine = store.start_run("t2", "direct", "auto", [])  # this process: alive, started before the run
    assert RunStore(tmp_path).get_run(mine).status == "running"


def test_a_rewritten_task_leaves_no_trace_of_the_old_text(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.start_run('type "swordfish-77" into "Field"', "direct", "auto", [])
    store.set_task(run_id, 'type "••••••••" into "Field"')
    for f in tmp_path.iterdir():
        assert b"swordfish-77" not in f.read_bytes(), f


def test_a_second_store_reads_the_file_through_sqlite_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a descriptor of our own on the database would drop the POSIX locks an open connection of this
    process holds on it (the app keeps a timeline's store and a runner's at once): the file is only opened by
    SQLite."""
    first = RunStore(tmp_path)
    first.start_run("t", "direct", "auto", [])
    db_path = first.path
    real_open = Path.open

    def guarded(self: Path, *args: object, **kwargs: object) -> object:
        assert self != db_path, "the run database was opened outside SQLite"
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", guarded)
    for readonly in (False, True):
        second = RunStore(tmp_path, readonly=readonly)
        assert [r.task for r in second.list_runs()] == ["t"]
        second.close()
    first.close()
