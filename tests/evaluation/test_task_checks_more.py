"""The archive, key=value, GSettings and hash checks and the binary fixtures, on real files: each check fails
on the start state with a reason, passes on the right state, and never raises on input it cannot read."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import TypeAdapter

from desktop_agent.errors import AgentError
from desktop_agent.evaluation.task_checks import GSETTINGS_KEYFILE, check_outcome, run_check
from desktop_agent.evaluation.task_env import TaskEnvironment, archive_bytes, fixture_bytes, pdf_bytes
from desktop_agent.evaluation.task_suite import Check, Fixture, TaskSpec, load_task

CHECK: TypeAdapter[Check] = TypeAdapter(Check)
FIXTURE: TypeAdapter[Fixture] = TypeAdapter(Fixture)


@pytest.fixture
def env() -> Iterator[TaskEnvironment]:
    """A task's home folder, nothing started: the checks only read files in it."""
    task = TaskSpec(name="t", goal="g", script='click "x"', check=[{"kind": "folder", "path": "x"}])  # type: ignore[list-item]
    e = TaskEnvironment(task, private_tmp=False)
    yield e
    e.cleanup()


def fails(env: TaskEnvironment, check: Mapping[str, object]) -> str:
    reason = run_check(env, CHECK.validate_python(check))
    assert reason, f"{check} passed"
    return reason


def passes(env: TaskEnvironment, check: Mapping[str, object]) -> None:
    assert run_check(env, CHECK.validate_python(check)) is None


def write(env: TaskEnvironment, rel: str, data: bytes | str) -> Path:
    p = env.home / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        p.write_text(data, encoding="utf-8")
    else:
        p.write_bytes(data)
    return p


@pytest.mark.parametrize("kind", ["zip", "tar", "tar.gz"])
def test_archive_check_reads_members_and_their_text(env: TaskEnvironment, kind: str) -> None:
    name = f"out.{kind}"
    check = {"kind": "archive", "path": name, "members": ["docs/", "docs/b.txt"], "absent": ["old.txt"],
             "equals": {"docs/b.txt": "beta"}, "contains": {"notes.md": ["total: 42"]}}
    assert "does not exist" in fails(env, check)
    # The start state: the old member still there, the new ones missing.
    write(env, name, archive_bytes(kind, {"old.txt": "old", "notes.md": "total: 0"}))
    assert "has no member docs/" in fails(env, check)
    write(env, name, archive_bytes(kind, {"docs/": "", "docs/b.txt": "beta", "notes.md": "# n\ntotal: 42\n",
                                          "old.txt": "old"}))
    assert "still has old.txt" in fails(env, check)
    write(env, name, archive_bytes(kind, {"docs/": "", "docs/b.txt": "gamma", "notes.md": "total: 42"}))
    assert "docs/b.txt holds 'gamma'" in fails(env, check)
    write(env, name, archive_bytes(kind, {"docs/": "", "docs/b.txt": "beta\n", "notes.md": "total: 42"}))
    passes(env, check)


def test_archive_check_reads_archives_made_by_other_tools(env: TaskEnvironment) -> None:
    """Tar members with a leading "./" (as `tar -C dir .` writes them), folders implied by member names."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        data = b"hello"
        info = tarfile.TarInfo("./sub/a.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    write(env, "x.tgz", buf.getvalue())
    passes(env, {"kind": "archive", "path": "x.tgz", "members": ["sub/a.txt"], "equals": {"sub/a.txt": "hello"}})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("dir/inner.txt", "x")
    write(env, "y.zip", buf.getvalue())
    passes(env, {"kind": "archive", "path": "y.zip", "members": ["dir/inner.txt", "dir/", "dir"]})
    assert "has no member di" in fails(env, {"kind": "archive", "path": "y.zip", "members": ["di"]})
    assert "no file member dir/" in fails(env, {"kind": "archive", "path": "y.zip", "equals": {"dir/": ""}})


def test_archive_check_fails_with_a_reason_on_what_is_not_an_archive(env: TaskEnvironment) -> None:
    write(env, "broken.zip", "this is text, not a zip file\n" * 30)
    assert "not an archive" in fails(env, {"kind": "archive", "path": "broken.zip", "members": ["a"]})
    write(env, "cut.tar.gz", archive_bytes("tar.gz", {"a.txt": "x" * 5000})[:40])
    assert "not an archive" in fails(env, {"kind": "archive", "path": "cut.tar.gz", "members": ["a.txt"]})
    (env.home / "folder.zip").mkdir()
    assert "does not exist" in fails(env, {"kind": "archive", "path": "folder.zip", "members": ["a"]})


def test_keyvalue_check_reads_plain_key_value_files(env: TaskEnvironment) -> None:
    check = {"kind": "keyvalue", "path": ".config/app/app.conf", "key": "theme", "equals": "dark"}
    assert "does not exist" in fails(env, check)
    write(env, ".config/app/app.conf", "# settings\nfont=Sans 10\ntheme=light\n")
    assert "theme is 'light', expected 'dark'" in fails(env, check)
    write(env, ".config/app/app.conf", "font = Sans 10\n\n; comment\ntheme = \"dark\"\n")
    passes(env, check)
    write(env, ".config/app/app.conf", "export theme='dark'\n")
    passes(env, check)
    gone = {"kind": "keyvalue", "path": ".config/app/app.conf", "key": "theme", "exists": False}
    assert "still sets theme" in fails(env, gone)
    write(env, ".config/app/app.conf", "font=Mono\n")
    passes(env, gone)
    assert "has no theme" in fails(env, check)
    write(env, ".config/app/app.conf", b"theme=\xff\xfe\n")
    assert "not UTF-8" in fails(env, check)


def test_an_ini_check_on_a_file_without_sections_fails_with_a_reason_and_does_not_raise(env: TaskEnvironment
                                                                                       ) -> None:
    write(env, "app.conf", "theme=dark\n")
    checks = [CHECK.validate_python({"kind": "ini", "path": "app.conf", "key": "theme", "equals": "dark"}),
              CHECK.validate_python({"kind": "keyvalue", "path": "app.conf", "key": "theme", "equals": "dark"})]
    problems = check_outcome(env, checks)
    assert len(problems) == 1 and "no [section] header" in problems[0] and "keyvalue" in problems[0]
    write(env, "app.conf", "[General]\ntheme=dark\n[General\n")
    assert "not an ini file" in fails(env, {"kind": "ini", "path": "app.conf", "key": "theme", "equals": "dark"})


@pytest.mark.skipif(shutil.which("gsettings") is None, reason="needs GLib's gsettings tool (libglib2.0-bin)")
def test_gsettings_check_reads_what_an_app_stored_through_the_keyfile_backend(env: TaskEnvironment) -> None:
    """A real GSettings write, as the task's apps make it (GSETTINGS_BACKEND=keyfile, the task's config)."""
    schema = "org.gnome.desktop.interface"
    if schema not in subprocess.run(["gsettings", "list-schemas"], capture_output=True, text=True).stdout.split():
        pytest.skip(f"the {schema} schema is not installed")
    gs_env = {"PATH": "/usr/bin:/bin", "HOME": str(env.home), "GSETTINGS_BACKEND": "keyfile",
              "XDG_CONFIG_HOME": str(env.home / ".config")}
    check = {"kind": "gsettings", "key": "org/gnome/desktop/interface/clock-format", "equals": "12h"}
    assert "no GSettings were stored" in fails(env, check)  # the start state: nothing stored
    subprocess.run(["gsettings", "set", schema, "cursor-size", "30"], env=gs_env, check=True, timeout=30)
    assert (env.home / GSETTINGS_KEYFILE).is_file()
    assert "no stored value for /org/gnome/desktop/interface/clock-format" in fails(env, check)
    subprocess.run(["gsettings", "set", schema, "clock-format", "24h"], env=gs_env, check=True, timeout=30)
    assert "is '24h', expected 12h" in fails(env, check)
    subprocess.run(["gsettings", "set", schema, "clock-format", "12h"], env=gs_env, check=True, timeout=30)
    passes(env, check)
    passes(env, {**check, "equals": "'12h'"})
    passes(env, {"kind": "gsettings", "key": "/org/gnome/desktop/interface/cursor-size", "equals": "30"})
    assert "expected 31" in fails(env, {"kind": "gsettings", "key": "org/gnome/desktop/interface/cursor-size",
                                        "equals": "31"})
    write(env, str(GSETTINGS_KEYFILE), "not a keyfile\n")
    assert "cannot be read" in fails(env, check)


def test_hash_check_compares_a_files_sha256(env: TaskEnvironment) -> None:
    want = hashlib.sha256(b"final\n").hexdigest()
    check = {"kind": "hash", "path": "report.bin", "sha256": want}
    assert "does not exist" in fails(env, check)
    write(env, "report.bin", b"draft\n")
    assert "expected" in fails(env, check)
    write(env, "report.bin", b"final\n")
    passes(env, check)
    changed = {"kind": "hash", "path": "report.bin", "sha256": want, "equals": False}
    assert "unchanged" in fails(env, changed)
    write(env, "report.bin", b"final, edited\n")
    passes(env, changed)
    with pytest.raises(ValueError):
        CHECK.validate_python({"kind": "hash", "path": "x", "sha256": "abc"})


def test_the_pdf_fixture_is_a_well_formed_pdf_with_its_lines() -> None:
    data = pdf_bytes(["Invoice 2024-117", "Total: 42 €", "a (bracketed) \\ word"], title="Invoice")
    assert data.startswith(b"%PDF-1.4\n") and data.rstrip().endswith(b"%%EOF")
    # The cross-reference table points at every object, and startxref at the table.
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF", data).group(1))  # type: ignore[union-attr]
    assert data[startxref:].startswith(b"xref\n0 7\n")
    offsets = [int(o) for o in re.findall(rb"(\d{10}) 00000 n ", data)]
    assert len(offsets) == 6
    for number, offset in enumerate(offsets, 1):
        assert data[offset:].startswith(b"%d 0 obj\n" % number)
    length = int(re.search(rb"/Length (\d+) >>\nstream\n", data).group(1))  # type: ignore[union-attr]
    stream = data.split(b"stream\n", 1)[1]
    assert stream[length:].startswith(b"\nendstream")
    assert b"(Invoice 2024-117) Tj" in stream and b"(Total: 42 \x80) Tj" in stream  # WinAnsi euro
    assert b"(a \\(bracketed\\) \\\\ word) Tj" in stream and b"/Title (Invoice)" in data


def test_image_and_archive_fixtures_decode_and_are_the_same_bytes_every_time() -> None:
    png = fixture_bytes(FIXTURE.validate_python({"kind": "png", "size": [64, 48], "color": "#ff0000"}))
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None and png.startswith(b"\x89PNG")
    assert img.shape == (48, 64, 3) and tuple(img[0, 0]) == (0, 0, 255)
    jpg = fixture_bytes(FIXTURE.validate_python({"kind": "jpeg", "size": [80, 60], "text": "hi"}))
    photo = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR)
    assert jpg.startswith(b"\xff\xd8") and photo is not None and photo.shape == (60, 80, 3)
    for kind in ("zip", "tar", "tar.gz"):
        spec = FIXTURE.validate_python({"kind": kind, "members": {"a.txt": "alpha", "d/": ""}})
        assert fixture_bytes(spec) == fixture_bytes(spec)  # a hash check can tell whether the task changed it
    with pytest.raises(ValueError):
        FIXTURE.validate_python({"kind": "png", "color": "red"})


def test_a_task_file_takes_generated_fixtures_app_environments_and_the_new_checks(tmp_path: Path) -> None:
    toml = tmp_path / "archive-task.toml"
    toml.write_text('''
goal = "Add the report to the archive"
script = 'click "Add"'
files = [
  { path = "Documents/report.pdf", generate = { kind = "pdf", lines = ["Q3 report", "Total: 42"] } },
  { path = "Documents/bundle.tar.gz", generate = { kind = "tar.gz", members = { "a.txt" = "alpha" } } },
  { path = "Pictures/red.png", generate = { kind = "png", size = [64, 48], color = "#ff0000" } },
]
apps = [{ cmd = ["engrampa", "{home}/Documents/bundle.tar.gz"], window = "bundle", env = { LC_ALL = "C.UTF-8" } }]

[[check]]
kind = "archive"
path = "Documents/bundle.tar.gz"
members = ["a.txt", "report.pdf"]

[[check]]
kind = "keyvalue"
path = ".config/app.conf"
key = "last"
equals = "report.pdf"

[[check]]
kind = "gsettings"
key = "org/gnome/desktop/interface/clock-format"
equals = "12h"

[[check]]
kind = "hash"
path = "Pictures/red.png"
sha256 = "''' + "0" * 64 + '''"
equals = false
''', encoding="utf-8")
    task = load_task(toml)
    assert task.apps[0].env == {"LC_ALL": "C.UTF-8"}
    assert [f.generate.kind for f in task.files if f.generate] == ["pdf", "tar.gz", "png"]
    assert [c.kind for c in task.check] == ["archive", "keyvalue", "gsettings", "hash"]
    bad = tmp_path / "bad.toml"
    bad.write_text('goal = "g"\nscript = "x"\nfiles = [{ path = "a", text = "t", generate = { kind = "pdf", '
                   'lines = ["x"] } }]\n[[check]]\nkind = "folder"\npath = "a"\n', encoding="utf-8")
    with pytest.raises(AgentError, match="one of text, lines, image, generate"):
        load_task(bad)
