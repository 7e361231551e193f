"""The run database: one SQLite file plus screenshots on disk, written as each step happens.

Every state change is its own committed transaction, and a screenshot is on disk (renamed into place)
before a row points at it, so a run killed at any moment keeps every step recorded so far. A step is
`sending` (committed) before any input event and `sent` right after, so a killed run says which steps
reached the desktop. A run whose process died is marked `interrupted` the next time the database is
opened for writing.

The folder is private to its user (0700, files 0600). Reading commands open the database read-only;
a file that is not a desktop-agent run database is refused, never altered.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.config import ENV_NAMES, data_folder
from desktop_agent.errors import DataFolderError, RunNotFound
from desktop_agent.runs.record import FINAL_RUN, RunStatus, StepStatus

HOME_ENV = ENV_NAMES["home"]
# Steps not yet acting when the run ended; `sending`/`sent` keep their status (input may have arrived).
_NOT_SENT = (str(StepStatus.PLANNED), str(StepStatus.APPROVED))
_MAYBE_SENT = (str(StepStatus.SENDING), str(StepStatus.SENT))
# "DAg1": marks the file as ours, so a foreign SQLite file is never taken for a run database.
APPLICATION_ID = 0x44416731
_DIR_MODE = 0o700
_FILE_MODE = 0o600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    planner TEXT NOT NULL,
    approve TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    started_at REAL NOT NULL,
    ended_at REAL,
    pid INTEGER,
    host TEXT,
    screens TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    action TEXT NOT NULL,
    description TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    target TEXT,
    verify TEXT,
    timings TEXT NOT NULL DEFAULT '{}',
    usage TEXT NOT NULL DEFAULT '{}',
    before_path TEXT,
    after_path TEXT,
    error TEXT NOT NULL DEFAULT '',
    started_at REAL NOT NULL,
    ended_at REAL,
    outcome TEXT,
    PRIMARY KEY (run_id, idx)
);
"""


def data_home() -> Path:
    """The data folder: $DESKTOP_AGENT_HOME, else the user's data directory (read by `config.data_folder`)."""
    return data_folder()


@dataclass(frozen=True)
class RunRow:
    """One run as the `runs` table holds it."""

    id: str
    task: str
    planner: str
    approve: str
    status: str
    message: str
    started_at: float
    ended_at: float | None
    screens: list[dict[str, Any]]
    step_count: int = 0


@dataclass(frozen=True)
class StepRow:
    """One step as the `steps` table holds it."""

    run_id: str
    idx: int
    action: dict[str, Any]
    description: str
    reason: str
    status: str
    target: dict[str, Any] | None
    verify: dict[str, Any] | None
    timings: dict[str, float]
    usage: dict[str, float]
    before_path: str | None
    after_path: str | None
    error: str
    started_at: float
    ended_at: float | None
    outcome: str | None = None  # the step's effect in words (what changed on the screen); None: not told


# Columns added after the first schema, with their definitions: added to an older database when it is
# opened for writing (an older database opened for reading shows them as empty).
_ADDED_STEP_COLUMNS = {"outcome": "TEXT"}


def _process_start(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), from /proc; None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _run_process_alive(pid: int, started_at: float) -> bool:
    """Whether the process that started a run at `started_at` still runs: its PID exists and was not
    reused by a process started after the run."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    began = _process_start(pid)
    return began is None or began <= started_at + 1.0


def _private_dir(path: Path) -> None:
    """Create `path` (and missing parents) readable by its user only; an existing folder is tightened."""
    path.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(_DIR_MODE)
    except PermissionError:
        pass  # not ours to change; writing into it fails later with a clear line


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to the database at `path`: through its WAL where it can, else (a read-only
    folder without the WAL's -shm file) the file as it is."""
    uri = path.resolve().as_uri()
    db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=10, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA application_id").fetchone()
    except sqlite3.OperationalError:
        db.close()
        db = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None, check_same_thread=False)
    return db


def _not_ours(path: Path, why: str) -> DataFolderError:
    return DataFolderError(
        f"{path} is not a desktop-agent run database ({why}); it was left untouched: move it away, or "
        f"point {HOME_ENV} at another folder")


class RunStore:
    """The run database and screenshots of one data folder. `readonly=True` (the reading commands)
    never creates, migrates or writes anything."""

    def __init__(self, home: Path | None = None, readonly: bool = False) -> None:
        self.home = home or data_home()
        self.path = self.home / "runs.sqlite3"
        self.shots = self.home / "screenshots"
        self.readonly = readonly
        try:
            self._db = self._open_readonly() if readonly else self._open_for_writing()
        except sqlite3.DatabaseError as exc:
            raise _not_ours(self.path, str(exc)) from None
        self._db.row_factory = sqlite3.Row

    def _open_for_writing(self) -> sqlite3.Connection:
        try:
            _private_dir(self.home)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, _FILE_MODE))
        except OSError as exc:
            raise DataFolderError(f"cannot write the data folder {self.home}: {exc.strerror or exc}; "
                                  f"make it writable or point {HOME_ENV} at another folder") from None
        self._check_ours(self.path)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA secure_delete=ON")  # overwritten values leave no trace in free pages
            with db:
                db.execute("BEGIN IMMEDIATE")
                if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                    for stmt in _SCHEMA.split(";"):
                        if stmt.strip():
                            db.execute(stmt)
                    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                have = {r[1] for r in db.execute("PRAGMA table_info(steps)")}
                for col, kind in _ADDED_STEP_COLUMNS.items():
                    if col not in have:
                        db.execute(f"ALTER TABLE steps ADD COLUMN {col} {kind}")
        except sqlite3.OperationalError as exc:
            db.close()
            raise DataFolderError(f"cannot write the run database {self.path}: {exc}; make the folder writable "
                                  f"or point {HOME_ENV} at another folder") from None
        except BaseException:
            db.close()
            raise
        for extra in ("-wal", "-shm"):
            side = Path(f"{self.path}{extra}")
            if side.exists() and side.stat().st_mode & 0o077:
                side.chmod(_FILE_MODE)
        self._db = db
        self._mark_interrupted()
        return db

    def _open_readonly(self) -> sqlite3.Connection:
        if not self.path.exists():
            db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    db.execute(stmt)
            return db
        self._check_ours(self.path)
        return _connect_readonly(self.path)

    @staticmethod
    def _check_ours(path: Path) -> None:
        """Refuse a file that is not our run database: not SQLite, or SQLite with other tables. The file is
        read through SQLite only: closing a descriptor of our own on it would drop the locks that another
        connection of this process holds on it (POSIX advisory locks are per process), letting a writer
        elsewhere change it under that connection."""
        try:
            if path.stat().st_size == 0:
                return  # new and empty: ours to initialise
        except OSError as exc:
            raise DataFolderError(f"cannot read the run database {path}: {exc.strerror or exc}") from None
        try:
            db = _connect_readonly(path)
        except sqlite3.OperationalError as exc:
            raise DataFolderError(f"cannot read the run database {path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise _not_ours(path, str(exc)) from None
        try:
            if db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
                return
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                return
            cols = {r[1] for r in db.execute("PRAGMA table_info(runs)")}
        except sqlite3.OperationalError as exc:  # cannot open it, or locked past the timeout
            raise DataFolderError(f"cannot read the run database {path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise _not_ours(path, str(exc)) from None
        finally:
            db.close()
        # A database of ours from before the marker: exactly our tables, with our columns.
        if tables != {"runs", "steps"} or not {"id", "task", "planner", "approve", "status", "pid"} <= cols:
            raise _not_ours(path, f"it holds the tables {', '.join(sorted(tables))}")

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        if self.readonly:
            raise DataFolderError("the run database was opened for reading only")
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(sql, args)

    def _mark_interrupted(self) -> None:
        host = socket.gethostname()
        rows = self._db.execute("SELECT id, pid, host, started_at FROM runs WHERE status = 'running'").fetchall()
        for r in rows:
            if r["host"] == host and r["pid"] and not _run_process_alive(int(r["pid"]), float(r["started_at"])):
                self.finish_run(r["id"], RunStatus.INTERRUPTED, "the agent process ended before the run finished")

    # -- runs --------------------------------------------------------------------------------------
    def start_run(self, task: str, planner: str, approve: str, screens: list[dict[str, Any]]) -> str:
        """Record a new run (status `running`); returns its id."""
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
        self._write(
            "INSERT INTO runs (id, task, planner, approve, status, started_at, pid, host, screens) "
            "VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)",
            (run_id, task, planner, approve, time.time(), os.getpid(), socket.gethostname(), json.dumps(screens)),
        )
        return run_id

    def finish_run(self, run_id: str, status: str, message: str = "") -> None:
        """Record how a run ended; steps not yet sent end with it, sent ones say they were not checked."""
        assert status in FINAL_RUN
        now = time.time()
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("UPDATE runs SET status = ?, message = ?, ended_at = ? WHERE id = ?",
                             (status, message, now, run_id))
            self._db.execute(
                f"UPDATE steps SET status = ?, ended_at = ? WHERE run_id = ? AND status IN {_NOT_SENT}",
                (StepStatus.ABORTED if status != RunStatus.INTERRUPTED else StepStatus.INTERRUPTED, now, run_id),
            )
            # Input was (or may have been) sent: the status says so; the error says it was never verified.
            self._db.execute(
                f"UPDATE steps SET error = ?, ended_at = ? WHERE run_id = ? AND status IN {_MAYBE_SENT}",
                ("the run ended before this step's effect was checked", now, run_id),
            )

    def set_task(self, run_id: str, task: str) -> None:
        """Rewrite a run's task (a secret found while running is masked in it); the old text is erased."""
        self._write("UPDATE runs SET task = ? WHERE id = ?", (task, run_id))
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no earlier version stays in the log

    # -- steps -------------------------------------------------------------------------------------
    def add_step(self, run_id: str, idx: int, action: dict[str, Any], description: str, reason: str) -> None:
        """Record a new step (status `planned`)."""
        self._write(
            "INSERT INTO steps (run_id, idx, action, description, reason, status, started_at) "
            "VALUES (?, ?, ?, ?, ?, 'planned', ?)",
            (run_id, idx, json.dumps(action, ensure_ascii=False), description, reason, time.time()),
        )

    def update_step(self, run_id: str, idx: int, **fields: Any) -> None:
        """Change fields of a step's row (dicts as JSON)."""
        allowed = {"status", "target", "verify", "timings", "usage", "before_path", "after_path", "error",
                   "ended_at", "action", "description", "outcome"}
        sets, args = [], []
        for k, v in fields.items():
            if k not in allowed:
                raise ValueError(f"unknown step field {k}")
            if k == "timings":  # to a tenth of a millisecond: no float's sixteen digits of noise in the record
                v = {name: round(float(ms), 1) for name, ms in v.items()}
            sets.append(f"{k} = ?")
            args.append(json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v)
        self._write(f"UPDATE steps SET {', '.join(sets)} WHERE run_id = ? AND idx = ?", (*args, run_id, idx))

    def save_screenshot(self, run_id: str, idx: int, which: str, frame: ScreenFrame) -> str:
        """Write a step's screenshot (atomically) and return its path relative to the data folder."""
        rel = Path("screenshots") / run_id / f"step{idx:03d}-{which}-m{frame.geometry.monitor.index}.png"
        dest = self.home / rel
        tmp = dest.with_suffix(".tmp.png")
        # Level 1: a screenshot per step must not cost more than the step's perception.
        ok, png = cv2.imencode(".png", frame.image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            raise DataFolderError(f"cannot encode the screenshot of step {idx + 1} as PNG")
        try:
            _private_dir(self.shots)
            _private_dir(dest.parent)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
            with os.fdopen(fd, "wb") as f:
                f.write(png.tobytes())
            os.replace(tmp, dest)
        except OSError as exc:
            raise DataFolderError(f"cannot save screenshots in {dest.parent}: {exc.strerror or exc}; nothing was "
                                  f"sent. Make the folder writable or point {HOME_ENV} at another folder") from None
        return str(rel)

    # -- reading -----------------------------------------------------------------------------------
    def list_runs(self, limit: int = 50) -> list[RunRow]:
        """The latest runs, newest first."""
        rows = self._db.execute(
            "SELECT r.*, (SELECT COUNT(*) FROM steps s WHERE s.run_id = r.id) AS n FROM runs r "
            "ORDER BY started_at DESC LIMIT ?", (limit,)).fetchall()
        return [self._run(r, int(r["n"])) for r in rows]

    def get_run(self, run_id: str) -> RunRow:
        """One run by its id, or by a part of it that matches one run only."""
        r = self._db.execute(
            "SELECT r.*, (SELECT COUNT(*) FROM steps s WHERE s.run_id = r.id) AS n FROM runs r WHERE id = ?",
            (run_id,)).fetchone()
        if r is None:
            pattern = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            matches = self._db.execute("SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\'",
                                       (f"%{pattern}%",)).fetchall()
            if len(matches) == 1:
                return self.get_run(matches[0]["id"])
            raise RunNotFound(run_id)
        return self._run(r, int(r["n"]))

    def steps(self, run_id: str) -> list[StepRow]:
        """A run's steps in order."""
        rows = self._db.execute("SELECT * FROM steps WHERE run_id = ? ORDER BY idx", (run_id,)).fetchall()
        return [
            StepRow(r["run_id"], r["idx"], json.loads(r["action"]), r["description"], r["reason"], r["status"],
                    json.loads(r["target"]) if r["target"] else None,
                    json.loads(r["verify"]) if r["verify"] else None,
                    json.loads(r["timings"]), json.loads(r["usage"]), r["before_path"], r["after_path"],
                    r["error"], r["started_at"], r["ended_at"],
                    r["outcome"] if "outcome" in r.keys() else None)  # noqa: SIM118 (a Row's `in` reads values)
            for r in rows
        ]

    @staticmethod
    def _run(r: sqlite3.Row, n: int) -> RunRow:
        return RunRow(r["id"], r["task"], r["planner"], r["approve"], r["status"], r["message"], r["started_at"],
                      r["ended_at"], json.loads(r["screens"]), n)
