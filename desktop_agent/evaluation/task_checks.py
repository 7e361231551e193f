"""Outcome checkers: what a user would look at after the task (a saved file's content, a setting the app
persisted, what is on the clipboard), never what the agent says it did."""

from __future__ import annotations

import configparser
import csv
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from desktop_agent.evaluation.task_env import TaskEnvironment
from desktop_agent.evaluation.task_suite import (
    CellsCheck,
    Check,
    ClipboardCheck,
    FileCheck,
    FolderCheck,
    IniCheck,
)


def _file(env: TaskEnvironment, c: FileCheck) -> str | None:
    p = env.home / c.path
    if not c.exists:
        return f"{c.path} still exists" if p.exists() else None
    if not p.is_file():
        return f"{c.path} does not exist"
    text = p.read_text(encoding="utf-8", errors="replace")
    if c.equals is not None and text.rstrip("\n") != c.equals.rstrip("\n"):
        return f"{c.path} holds {text[:80]!r}, expected {c.equals[:80]!r}"
    for part in c.contains:
        if part not in text:
            return f"{c.path} lacks {part!r}"
    for part in c.absent:
        if part in text:
            return f"{c.path} still has {part!r}"
    return None


def _folder(env: TaskEnvironment, c: FolderCheck) -> str | None:
    p = env.home / c.path
    if c.exists and not p.is_dir():
        return f"no folder {c.path}"
    if not c.exists and p.exists():
        return f"{c.path} still exists"
    return None


def _cells(env: TaskEnvironment, c: CellsCheck) -> str | None:
    p = env.home / c.path
    if not p.is_file():
        return f"{c.path} does not exist"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sheet.csv"
        r = subprocess.run(["ssconvert", str(p), str(out)], capture_output=True, timeout=60,
                           env={**env.env(), "DISPLAY": ""})
        if r.returncode != 0 or not out.exists():
            return f"{c.path} is not a spreadsheet ssconvert can read"
        rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    for ref, want in c.equals.items():
        m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
        if not m:
            return f"bad cell reference {ref!r} in the task"
        col = sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(m.group(1)))) - 1
        row = int(m.group(2)) - 1
        got = rows[row][col] if row < len(rows) and col < len(rows[row]) else ""
        if got != want:
            return f"{c.path}: {ref} holds {got!r}, expected {want!r}"
    return None


def _ini(env: TaskEnvironment, c: IniCheck) -> str | None:
    p = env.home / c.path
    if not p.is_file():
        return f"{c.path} does not exist (the app saved no settings)"
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(p, encoding="utf-8")
    section, _, key = c.key.rpartition("/")
    section = section or "General"
    value = parser.get(section, key, fallback=None)
    if value is None:
        return f"{c.path} has no {c.key}"
    return None if value.strip('"') == c.equals else f"{c.path}: {c.key} is {value!r}, expected {c.equals!r}"


def _clipboard(env: TaskEnvironment, c: ClipboardCheck) -> str | None:
    got = env.clipboard().strip()
    return None if got == c.equals else f"the clipboard holds {got[:60]!r}, expected {c.equals!r}"


CHECKERS: dict[type, Callable[[TaskEnvironment, object], str | None]] = {
    FileCheck: _file,  # type: ignore[dict-item]
    FolderCheck: _folder,  # type: ignore[dict-item]
    CellsCheck: _cells,  # type: ignore[dict-item]
    IniCheck: _ini,  # type: ignore[dict-item]
    ClipboardCheck: _clipboard,  # type: ignore[dict-item]
}


def check_outcome(env: TaskEnvironment, checks: list[Check]) -> list[str]:
    """The reasons the outcome is wrong; empty when every check passes."""
    return [r for c in checks if (r := CHECKERS[type(c)](env, c)) is not None]
