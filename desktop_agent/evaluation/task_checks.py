"""Outcome checkers: what a user would look at after the task (a saved file's content, a setting the app
persisted, what is on the clipboard), never what the agent says it did."""

from __future__ import annotations

import configparser
import csv
import hashlib
import json
import re
import subprocess
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from desktop_agent.errors import one_line
from desktop_agent.evaluation.task_env import TaskEnvironment
from desktop_agent.evaluation.task_suite import (
    A11yCheck,
    ArchiveCheck,
    CellsCheck,
    Check,
    ClipboardCheck,
    FileCheck,
    FolderCheck,
    GSettingsCheck,
    HashCheck,
    IniCheck,
    KeyValueCheck,
)

GSETTINGS_KEYFILE = Path(".config/glib-2.0/settings/keyfile")  # in the task's home (XDG_CONFIG_HOME/...)


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
    try:
        parser.read(p, encoding="utf-8")
    except configparser.MissingSectionHeaderError:
        return f"{c.path} has no [section] header (a plain key=value file: check it with kind = \"keyvalue\")"
    except (configparser.Error, UnicodeDecodeError) as exc:
        return f"{c.path} is not an ini file: {one_line(str(exc))}"
    section, _, key = c.key.rpartition("/")
    section = section or "General"
    value = parser.get(section, key, fallback=None)
    if value is None:
        return f"{c.path} has no {c.key}"
    return None if value.strip('"') == c.equals else f"{c.path}: {c.key} is {value!r}, expected {c.equals!r}"


def read_key_values(path: Path) -> dict[str, str]:
    """A plain `key=value` file: blank lines, `#` and `;` comments and any `[section]` lines skipped, spaces
    around the key and value and one pair of quotes around the value stripped; the last value of a key wins."""
    out: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key] = value
    return out


def _keyvalue(env: TaskEnvironment, c: KeyValueCheck) -> str | None:
    p = env.home / c.path
    if not p.is_file():
        return f"{c.path} does not exist"
    try:
        values = read_key_values(p)
    except UnicodeDecodeError:
        return f"{c.path} is not UTF-8 text"
    if not c.exists:
        return f"{c.path} still sets {c.key}" if c.key in values else None
    if c.key not in values:
        return f"{c.path} has no {c.key}"
    if c.equals is not None and values[c.key] != c.equals:
        return f"{c.path}: {c.key} is {values[c.key]!r}, expected {c.equals!r}"
    return None


def _gsettings(env: TaskEnvironment, c: GSettingsCheck) -> str | None:
    p = env.home / GSETTINGS_KEYFILE
    if not p.is_file():
        return f"no GSettings were stored (no {GSETTINGS_KEYFILE})"
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read(p, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        return f"{GSETTINGS_KEYFILE} cannot be read as a GSettings keyfile: {one_line(str(exc))}"
    group, _, key = c.key.strip("/").rpartition("/")
    value = parser.get(group, key, fallback=None) if group else None
    if value is None:
        return f"GSettings has no stored value for /{c.key.strip('/')}"
    value = value.strip()
    unquoted = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else None
    if c.equals in (value, unquoted):
        return None
    return f"GSettings /{c.key.strip('/')} is {value}, expected {c.equals}"


def read_archive(p: Path, wanted: set[str]) -> tuple[set[str], dict[str, bytes]]:
    """A zip or tar archive's member names (folders end in "/"; tar's leading "./" dropped) and the contents
    of the wanted members that are files."""
    names: set[str] = set()
    data: dict[str, bytes] = {}
    if zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as zf:
            for i in zf.infolist():
                names.add(i.filename)
                if i.filename in wanted and not i.is_dir():
                    data[i.filename] = zf.read(i)
        return names, data
    with tarfile.open(p) as tf:  # plain, gzip, bzip2 or xz; tarfile.TarError on anything else
        for m in tf.getmembers():
            name = m.name.removeprefix("./")
            if name in ("", "."):
                continue
            names.add(name + "/" if m.isdir() else name)
            if name in wanted and m.isfile() and (f := tf.extractfile(m)) is not None:
                data[name] = f.read()
    return names, data


def _archive_paths(names: Collection[str]) -> set[str]:
    """The archive's member paths; folders count with or without their "/", and so do folders implied by a
    member's path."""
    present = set(names)
    for n in names:
        parts = n.rstrip("/").split("/")
        present |= {"/".join(parts[:i]) for i in range(1, len(parts) + 1)}
        present |= {"/".join(parts[:i]) + "/" for i in range(1, len(parts))}
    return present


def _archive_texts(c: ArchiveCheck, data: dict[str, bytes]) -> str | None:
    """What is wrong with the text of the file members the check names (equal to, or containing)."""
    for name, want in c.equals.items():
        if name not in data:
            return f"{c.path} has no file member {name}"
        text = data[name].decode("utf-8", "replace")
        if text.rstrip("\n") != want.rstrip("\n"):
            return f"{c.path}: {name} holds {text[:80]!r}, expected {want[:80]!r}"
    for name, parts in c.contains.items():
        if name not in data:
            return f"{c.path} has no file member {name}"
        text = data[name].decode("utf-8", "replace")
        for part in parts:
            if part not in text:
                return f"{c.path}: {name} lacks {part!r}"
    return None


def _archive(env: TaskEnvironment, c: ArchiveCheck) -> str | None:
    """What is wrong with an archive: not there, unreadable, members missing or left, file texts."""
    p = env.home / c.path
    if not p.is_file():
        return f"{c.path} does not exist"
    try:
        names, data = read_archive(p, set(c.equals) | set(c.contains))
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as exc:
        return f"{c.path} is not an archive that can be read (zip, tar, tar.gz): {one_line(str(exc))}"
    present = _archive_paths(names)
    for name in c.members:
        if name not in present:
            return f"{c.path} has no member {name}"
    for name in c.absent:
        if name in present:
            return f"{c.path} still has {name}"
    return _archive_texts(c, data)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, hex."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _hash(env: TaskEnvironment, c: HashCheck) -> str | None:
    p = env.home / c.path
    if not p.is_file():
        return f"{c.path} does not exist"
    got = sha256_file(p)
    same = got == c.sha256.lower()
    if c.equals and not same:
        return f"{c.path} has SHA-256 {got[:16]}…, expected {c.sha256.lower()[:16]}…"
    if not c.equals and same:
        return f"{c.path} is unchanged (SHA-256 {got[:16]}…)"
    return None


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
    KeyValueCheck: _keyvalue,  # type: ignore[dict-item]
    GSettingsCheck: _gsettings,  # type: ignore[dict-item]
    ArchiveCheck: _archive,  # type: ignore[dict-item]
    HashCheck: _hash,  # type: ignore[dict-item]
    ClipboardCheck: _clipboard,  # type: ignore[dict-item]
    A11yCheck: _a11y,  # type: ignore[dict-item]
}


def run_check(env: TaskEnvironment, c: Check) -> str | None:
    """Why this check fails, or None. A check that cannot read its input fails with the reason; it never
    raises, so one bad file cannot stop the evaluation before its report is written."""
    try:
        return CHECKERS[type(c)](env, c)
    except Exception as exc:  # any failure to check is a failed check, with its reason
        where = f" on {path}" if (path := getattr(c, "path", None)) else ""
        return f"the {c.kind} check{where} could not run: {type(exc).__name__}: {one_line(str(exc))}"


def check_outcome(env: TaskEnvironment, checks: list[Check]) -> list[str]:
    """The reasons the outcome is wrong; empty when every check passes."""
    return [r for c in checks if (r := run_check(env, c)) is not None]
