"""Outcome checkers: what a user would look at after the task (a saved file's content, a setting the app
persisted, what is on the clipboard), never what the agent says it did."""

from __future__ import annotations

import configparser
import csv
import json
import re
import subprocess
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_agent.evaluation.task_env import TaskEnvironment
from desktop_agent.evaluation.task_suite import (
    A11yCheck,
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


def accessibility_tree(devtools_port_file: Path, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The unignored nodes of the accessibility tree of the browser's first page, as the DevTools protocol
    gives them (role, name, value, properties)."""
    import websocket  # websocket-client

    port = devtools_port_file.read_text().split()[0]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as r:
        pages = [t for t in json.load(r) if t.get("type") == "page"]
    if not pages:
        raise OSError("the browser shows no page")
    ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True)
    try:
        ws.send(json.dumps({"id": 1, "method": "Accessibility.getFullAXTree"}))
        while True:
            msg = json.loads(ws.recv())
            if msg.get("id") == 1:
                break
    finally:
        ws.close()
    if "error" in msg:
        raise OSError(f"DevTools: {msg['error'].get('message', msg['error'])}")
    return [n for n in msg["result"]["nodes"] if not n.get("ignored")]


def _prop(node: dict[str, Any], key: str) -> Any:
    if key in ("role", "name", "value"):
        return (node.get(key) or {}).get("value")
    return next((p["value"].get("value") for p in node.get("properties", []) if p["name"] == key), None)


def _a11y(env: TaskEnvironment, c: A11yCheck) -> str | None:
    try:
        nodes = accessibility_tree(env.home / c.profile / "DevToolsActivePort")
    except (OSError, ValueError) as exc:
        return f"cannot read the browser's accessibility tree: {exc}"
    found = [n for n in nodes if _prop(n, "role") == c.role and (_prop(n, "name") or "").strip() == c.name]
    what = f"{c.role} {c.name!r}"
    if not c.exists:
        return f"the page still shows {what}" if found else None
    if not found:
        return f"the page shows no {what}"
    node = found[0]
    if c.value is not None and (_prop(node, "value") or "") != c.value:
        return f"{what} holds {_prop(node, 'value')!r}, expected {c.value!r}"
    if c.checked is not None and (str(_prop(node, "checked")).lower() == "true") != c.checked:
        return f"{what} is {'not ' if c.checked else ''}checked"
    return None


CHECKERS: dict[type, Callable[[TaskEnvironment, object], str | None]] = {
    FileCheck: _file,  # type: ignore[dict-item]
    FolderCheck: _folder,  # type: ignore[dict-item]
    CellsCheck: _cells,  # type: ignore[dict-item]
    IniCheck: _ini,  # type: ignore[dict-item]
    ClipboardCheck: _clipboard,  # type: ignore[dict-item]
    A11yCheck: _a11y,  # type: ignore[dict-item]
}


def check_outcome(env: TaskEnvironment, checks: list[Check]) -> list[str]:
    """The reasons the outcome is wrong; empty when every check passes."""
    return [r for c in checks if (r := CHECKERS[type(c)](env, c)) is not None]
