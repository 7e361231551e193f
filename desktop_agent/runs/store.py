"""The run database: one SQLite file plus screenshots on disk, written as each step happens.

Every state change is its own committed transaction, and a screenshot is on disk (renamed into place)
before a row points at it, so a run killed at any moment keeps every step recorded so far. A run whose
process died is marked `interrupted` the next time the database is opened.
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

import platformdirs

from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.errors import RunNotFound

HOME_ENV = "DESKTOP_AGENT_HOME"
FINAL_RUN = ("succeeded", "partial", "failed", "aborted", "interrupted")

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
    PRIMARY KEY (run_id, idx)
);
"""


def data_home() -> Path:
    env = os.environ.get(HOME_ENV)
    return Path(env) if env else Path(platformdirs.user_data_dir("desktop-agent", appauthor=False))


@dataclass(frozen=True)
class RunRow:
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunStore:
    def __init__(self, home: Path | None = None) -> None:
        self.home = home or data_home()
        self.home.mkdir(parents=True, exist_ok=True)
        self.path = self.home / "runs.sqlite3"
        self.shots = self.home / "screenshots"
        self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._mark_interrupted()

    def close(self) -> None:
        self._db.close()

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(sql, args)

    def _mark_interrupted(self) -> None:
        host = socket.gethostname()
        rows = self._db.execute("SELECT id, pid, host FROM runs WHERE status = 'running'").fetchall()
        for r in rows:
            if r["host"] == host and r["pid"] and not _pid_alive(int(r["pid"])):
                self.finish_run(r["id"], "interrupted", "the agent process ended before the run finished")

    # -- runs --------------------------------------------------------------------------------------
    def start_run(self, task: str, planner: str, approve: str, screens: list[dict[str, Any]]) -> str:
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
        self._write(
            "INSERT INTO runs (id, task, planner, approve, status, started_at, pid, host, screens) "
            "VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)",
            (run_id, task, planner, approve, time.time(), os.getpid(), socket.gethostname(), json.dumps(screens)),
        )
        return run_id

    def finish_run(self, run_id: str, status: str, message: str = "") -> None:
        assert status in FINAL_RUN
        now = time.time()
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("UPDATE runs SET status = ?, message = ?, ended_at = ? WHERE id = ?",
                             (status, message, now, run_id))
            self._db.execute(
                "UPDATE steps SET status = ?, ended_at = ? WHERE run_id = ? AND status IN "
                "('planned', 'approved', 'acting')",
                ("aborted" if status != "interrupted" else "interrupted", now, run_id),
            )

    # -- steps -------------------------------------------------------------------------------------
    def add_step(self, run_id: str, idx: int, action: dict[str, Any], description: str, reason: str) -> None:
        self._write(
            "INSERT INTO steps (run_id, idx, action, description, reason, status, started_at) "
            "VALUES (?, ?, ?, ?, ?, 'planned', ?)",
            (run_id, idx, json.dumps(action, ensure_ascii=False), description, reason, time.time()),
        )

    def update_step(self, run_id: str, idx: int, **fields: Any) -> None:
        allowed = {"status", "target", "verify", "timings", "usage", "before_path", "after_path", "error",
                   "ended_at", "action", "description"}
        sets, args = [], []
        for k, v in fields.items():
            if k not in allowed:
                raise ValueError(f"unknown step field {k}")
            sets.append(f"{k} = ?")
            args.append(json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v)
        self._write(f"UPDATE steps SET {', '.join(sets)} WHERE run_id = ? AND idx = ?", (*args, run_id, idx))

    def save_screenshot(self, run_id: str, idx: int, which: str, frame: ScreenFrame) -> str:
        """Write a step's screenshot (atomically) and return its path relative to the data folder."""
        rel = Path("screenshots") / run_id / f"step{idx:03d}-{which}-m{frame.geometry.monitor.index}.png"
        dest = self.home / rel
        tmp = dest.with_suffix(".tmp.png")
        frame.save_png(tmp)
        os.replace(tmp, dest)
        return str(rel)

    # -- reading -----------------------------------------------------------------------------------
    def list_runs(self, limit: int = 50) -> list[RunRow]:
        rows = self._db.execute(
            "SELECT r.*, (SELECT COUNT(*) FROM steps s WHERE s.run_id = r.id) AS n FROM runs r "
            "ORDER BY started_at DESC LIMIT ?", (limit,)).fetchall()
        return [self._run(r, int(r["n"])) for r in rows]

    def get_run(self, run_id: str) -> RunRow:
        r = self._db.execute(
            "SELECT r.*, (SELECT COUNT(*) FROM steps s WHERE s.run_id = r.id) AS n FROM runs r WHERE id = ?",
            (run_id,)).fetchone()
        if r is None:
            matches = self._db.execute("SELECT id FROM runs WHERE id LIKE ?", (f"%{run_id}%",)).fetchall()
            if len(matches) == 1:
                return self.get_run(matches[0]["id"])
            raise RunNotFound(run_id)
        return self._run(r, int(r["n"]))

    def steps(self, run_id: str) -> list[StepRow]:
        rows = self._db.execute("SELECT * FROM steps WHERE run_id = ? ORDER BY idx", (run_id,)).fetchall()
        return [
            StepRow(r["run_id"], r["idx"], json.loads(r["action"]), r["description"], r["reason"], r["status"],
                    json.loads(r["target"]) if r["target"] else None,
                    json.loads(r["verify"]) if r["verify"] else None,
                    json.loads(r["timings"]), json.loads(r["usage"]), r["before_path"], r["after_path"],
                    r["error"], r["started_at"], r["ended_at"])
            for r in rows
        ]

    @staticmethod
    def _run(r: sqlite3.Row, n: int) -> RunRow:
        return RunRow(r["id"], r["task"], r["planner"], r["approve"], r["status"], r["message"], r["started_at"],
                      r["ended_at"], json.loads(r["screens"]), n)
