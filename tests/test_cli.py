"""The CLI's commands and its one-line errors, run as a user runs them."""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import queue
import re
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e_helpers import ROOT, cli
from tests.screenspot_set import make_screenspot_set


def test_parse_and_locate_json_on_a_screenshot(tmp_path: Path, home: Path) -> None:
    # A rendered screen (in any clone, without the datasets kept outside the repository).
    samples = make_screenspot_set(tmp_path / "set", 1)
    img = str(tmp_path / "set" / "images" / "screen00.png")
    r = cli("parse", img, "--json", home=home)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["width"] == 800 and {"Save", "Open", "Export", "Cancel"} <= {e["text"] for e in data["elements"]}
    e = data["elements"][0]
    assert set(e) >= {"id", "bbox", "kind", "text", "confidence"}
    r = cli("locate", img, 'click the "Save" button', "--json", home=home)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"x", "y", "bbox", "score", "element"}
    x1, y1, x2, y2 = out["element"]["bbox"]
    assert x1 <= out["x"] <= x2 and y1 <= out["y"] <= y2
    bx1, by1, bx2, by2 = samples[0]["bbox"]  # the button as drawn
    assert bx1 <= out["x"] <= bx2 and by1 <= out["y"] <= by2
    tx1, ty1, tx2, ty2 = out["bbox"]  # the matched text's box: inside the element's
    assert x1 <= tx1 <= tx2 <= x2 and y1 <= ty1 <= ty2 <= y2
    r = cli("locate", img, 'click the "Save" button', home=home)  # without --json: one line
    assert r.returncode == 0 and re.fullmatch(r"\(\d+, \d+\)  \w+ 'Save'  score [\d.]+  bbox \[.*\]\n", r.stdout)


def test_locate_abstains_with_exit_3(tmp_path: Path, home: Path) -> None:
    make_screenspot_set(tmp_path / "set", 1)
    r = cli("locate", str(tmp_path / "set" / "images" / "screen00.png"), "Launch the rockets", "--json", home=home)
    assert r.returncode == 3
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "abstained" in r.stderr


@pytest.mark.parametrize("kind", ["text", "missing", "folder"])
def test_unreadable_image_is_one_clear_line(tmp_path: Path, home: Path, kind: str) -> None:
    path = tmp_path / "x.png"
    if kind == "text":
        path.write_text("hello")
    elif kind == "folder":
        path.mkdir()
    r = cli("parse", str(path), home=home)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("desktop-agent: cannot read image")


def test_no_display_is_one_clear_line(home: Path) -> None:
    for args in (("parse", "--screen"), ("run", 'click "Save"', "--approve", "auto")):
        r = cli(*args, home=home, drop=("DISPLAY", "WAYLAND_DISPLAY"))
        assert r.returncode == 1
        assert r.stderr.strip().splitlines() == [
            "desktop-agent: no display: set DISPLAY or run under Xvfb (DISPLAY is not set)"]
    # A run that never started leaves no half-written record.
    assert not (home / "runs.sqlite3").exists() or "running" not in cli("runs", "list", home=home).stdout


def test_eval_grounding_writes_predictions_and_prints_accuracy(dev_set: Path, tmp_path: Path, home: Path) -> None:
    # A small ScreenSpot-format folder: two images of the dev set with their samples.
    samples = json.loads((dev_set / "annotations.json").read_text())
    keep = {"images/datasette__query__1280x800.png", "images/tinymce__editor__1280x800.png"}
    subset = [s for s in samples if s["img_filename"] in keep]
    folder = tmp_path / "mini"
    (folder / "images").mkdir(parents=True)
    for name in keep:
        shutil.copy(dev_set / name, folder / name)
    (folder / "annotations.json").write_text(json.dumps(subset))
    out = tmp_path / "preds.jsonl"
    r = cli("eval", "grounding", str(folder), "--out", str(out), home=home, timeout=300)
    assert r.returncode == 0, r.stderr
    preds = [json.loads(line) for line in out.read_text().splitlines()]
    assert {p["id"] for p in preds} == {s["id"] for s in subset}
    assert all(("x" in p and "y" in p) or p.get("abstain") is True for p in preds)
    assert "type:text" in r.stdout and "latency per sample" in r.stdout
    assert r.stdout.strip().splitlines()[-1].startswith("accuracy ")


def test_eval_grounding_on_a_folder_without_annotations(tmp_path: Path, home: Path) -> None:
    r = cli("eval", "grounding", str(tmp_path), home=home)
    assert r.returncode == 2 and "annotations.json is missing" in r.stderr
    assert len(r.stderr.splitlines()) == 1


@pytest.mark.display
def test_doctor_reports_screens_models_and_planners(xvfb, home: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("doctor", "--json", home=home)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    mons = data["display"]["monitors"]
    assert [(m["left"], m["width"], m["primary"]) for m in mons] == [(1024, 1280, True), (0, 1024, False)]
    assert all(m["scale"] == 1 for m in mons)
    assert any(m["name"].startswith("PP-OCR") for m in data["ocr_models"])
    assert data["planners"]["direct"]["available"] is True
    text = cli("doctor", home=home).stdout
    assert "monitor 1 primary: 1280x800 at +1024+0" in text


def test_version(home: Path) -> None:
    r = cli("--version", home=home)
    assert r.returncode == 0 and r.stdout.startswith("desktop-agent ")


# -- help, exit codes, doctor without a display -----------------------------------------------------------


def _actions(parser: argparse.ArgumentParser, path: str = "desktop-agent") -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {a.dest for a in action._choices_actions}
            for name, sub in action.choices.items():
                assert name in helped, f"`{path} {name}` has no help line"
                yield from _actions(sub, f"{path} {name}")
        else:
            yield path, action


def test_every_option_and_command_has_help() -> None:
    from desktop_agent.cli import build_parser

    bare = [f"{path} {a.option_strings or a.dest}" for path, a in _actions(build_parser())
            if not (a.help and a.help.strip()) and a.help != argparse.SUPPRESS]
    assert bare == []


def test_help_lists_the_exit_codes(home: Path) -> None:
    r = cli("--help", home=home)
    assert r.returncode == 0, r.stderr
    text = r.stdout.split("exit codes:", 1)[1]
    codes = [line.split()[0] for line in text.splitlines() if line[:6].strip().isdigit()]
    assert codes == ["0", "1", "2", "3", "4", "5", "6", "7", "130"]
    assert "PARTIAL" in text
    for args, wanted in ((("runs", "list", "--help"), "show at most this many runs"),
                         (("run", "--help"), "stop the run after this many steps"),
                         (("doctor", "--help"), "print the report as JSON"),
                         (("keys", "--help"), "store a provider's key")):
        r = cli(*args, home=home)
        assert r.returncode == 0 and wanted in " ".join(r.stdout.split()), (args, r.stdout)


def test_doctor_without_a_display_warns_and_exits_0(home: Path) -> None:
    r = cli("doctor", home=home, drop=("DISPLAY", "WAYLAND_DISPLAY"))
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert any(line.startswith("warning: no display") for line in lines)
    assert not any(line.startswith("problem:") for line in lines)
    assert lines[-1].startswith("ready, with ")
    data = json.loads(cli("doctor", "--json", home=home, drop=("DISPLAY", "WAYLAND_DISPLAY")).stdout)
    assert data["ok"] is True and data["problems"] == [] and data["display"]["ok"] is False
    assert any(w.startswith("no display") for w in data["warnings"])


# -- eval grounding: progress and Ctrl+C --------------------------------------------------------------------

PROGRESS_LINE = re.compile(r"^eval grounding: (\d+)/(\d+) samples \((\d+)%\), [\d.]+ (samples/s|s/sample), "
                           r"\S+ elapsed(, ETA \S+)?$")


def test_eval_grounding_progress_lines_off_a_terminal(tmp_path: Path, home: Path) -> None:
    make_screenspot_set(tmp_path / "set", 6)
    t0 = time.monotonic()
    r = cli("eval", "grounding", str(tmp_path / "set"), home=home, timeout=300)
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()  # progress lines, the first once the work has taken 2 s
    done = [int(m.group(1)) for m in map(PROGRESS_LINE.match, lines) if m]
    assert len(done) == len(lines), lines  # every line is a progress line
    if took > 6:  # loading and 2 s of work: there were lines (a faster machine may finish before any)
        assert len(done) >= 2, (took, lines)
    assert done == sorted(done) and (not done or done[-1] == 12)
    assert all(PROGRESS_LINE.match(line).group(5) for line in lines[:-1])  # type: ignore[union-attr]  # an ETA
    # The rendered screens are easy: the figures are real, not a blank report.
    assert r.stdout.splitlines()[-1] == "accuracy 100.0"


def test_eval_grounding_progress_bar_on_a_terminal(tmp_path: Path, home: Path) -> None:
    make_screenspot_set(tmp_path / "set", 3)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal 100 columns wide
    env = dict(os.environ, DESKTOP_AGENT_HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "desktop_agent", "eval", "grounding", str(tmp_path / "set")],
                            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    try:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal's other end closed: the command ended
                break
            if not chunk:
                break
            seen += chunk
        out = proc.communicate(timeout=120)[0].decode()
    finally:
        os.close(master)
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, seen
    bar = seen.decode(errors="replace")
    assert "\r" in bar and "eval grounding:" in bar
    assert re.search(r"6/6 \[\d\d:\d\d<\d\d:\d\d, +[\d.]+(sample/s|s/sample)\]", bar), bar  # rate and ETA
    assert "eval grounding: 0/6" not in bar  # no plain lines on a terminal
    assert out.splitlines()[-1].startswith("accuracy ")


def _stderr_reader(proc: subprocess.Popen[str]) -> tuple[queue.Queue[str], list[str], threading.Thread]:
    """Reads the process's stderr as it comes: each line to the queue, and all of them kept."""
    lines: queue.Queue[str] = queue.Queue()
    kept: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            kept.append(line.rstrip("\n"))
            lines.put(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return lines, kept, reader


def _assert_no_process_left(mark: str) -> None:
    """No process that inherited the environment variable `mark` is still running."""
    left = []
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"DESKTOP_AGENT_TEST_MARK={mark}".encode() in env.read_bytes().split(b"\0"):
                left.append(env.parent.name)
        except OSError:
            continue
    assert left == [], f"processes left running: {left}"


def test_eval_grounding_ctrl_c_prints_the_partial_figures(tmp_path: Path, home: Path) -> None:
    make_screenspot_set(tmp_path / "set", 16)
    out = tmp_path / "preds.jsonl"
    mark = uuid.uuid4().hex
    env = dict(os.environ, DESKTOP_AGENT_HOME=str(home), PYTHONUNBUFFERED="1", DESKTOP_AGENT_TEST_MARK=mark)
    proc = subprocess.Popen([sys.executable, "-m", "desktop_agent", "eval", "grounding", str(tmp_path / "set"),
                             "--out", str(out)], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        lines, kept, reader = _stderr_reader(proc)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            m = PROGRESS_LINE.match(lines.get(timeout=180))
            if m and int(m.group(1)) >= 2:
                break
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl+C on a terminal does: the whole foreground group
        assert proc.stdout is not None
        stdout = proc.stdout.read()
        proc.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, kept
    first, last = stdout.splitlines()[0], stdout.splitlines()[-1]
    m = re.fullmatch(r"PARTIAL: stopped after (\d+) of 32 samples; the figures are over those \1", first)
    assert m, stdout
    done = int(m.group(1))
    assert 2 <= done < 32
    assert re.fullmatch(rf"accuracy [\d.]+ \(PARTIAL: {done} of 32 samples\)", last), last
    n_line = next(line for line in stdout.splitlines() if line.startswith("all "))
    assert int(n_line.split()[2]) == done  # the table counts the samples that were done
    preds = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(preds) == done and len({p["id"] for p in preds}) == done
    assert kept[-1].startswith("desktop-agent: interrupted: PARTIAL: stopped after")
    assert any(line.endswith("; stopped") for line in kept)
    _assert_no_process_left(mark)


# -- eval tasks: a missing application, progress and Ctrl+C --------------------------------------------------

WAIT_TASK = """goal = "Wait a moment"
script = "wait 3"
files = [{ path = "note.txt", text = "hello" }]
max_steps = 2
time_limit = 60
%s
[[check]]
kind = "file"
path = "note.txt"
contains = ["hello"]
"""


def test_eval_tasks_names_a_missing_application_and_the_setup_option(tmp_path: Path, home: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "needs-app.toml").write_text(WAIT_TASK % 'apps = [{ cmd = ["no-such-app-18"], window = "x" }]')
    (suite / "plain.toml").write_text(WAIT_TASK % "")
    r = cli("eval", "tasks", str(suite), "--out", str(tmp_path / "out"), home=home)
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        "desktop-agent: not installed: no-such-app-18 (task needs-app); install the task suite's applications: "
        "./scripts/setup.sh --suite"]
    assert r.stdout == "" and not (tmp_path / "out").exists()  # refused before any desktop was started


@pytest.mark.skipif(not (shutil.which("openbox") and shutil.which("xdotool") and shutil.which("Xvfb")),
                    reason="needs the task suite's openbox and xdotool, and Xvfb (./scripts/setup.sh --suite)")
def test_eval_tasks_ctrl_c_keeps_the_finished_tasks(tmp_path: Path, home: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    for n in range(1, 4):
        (suite / f"wait-{n}.toml").write_text(WAIT_TASK % "")
    out = tmp_path / "out"
    mark = uuid.uuid4().hex
    env = dict(os.environ, DESKTOP_AGENT_HOME=str(home), PYTHONUNBUFFERED="1", DESKTOP_AGENT_TEST_MARK=mark)
    proc = subprocess.Popen([sys.executable, "-m", "desktop_agent", "eval", "tasks", str(suite), "--out", str(out)],
                            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        lines, kept, reader = _stderr_reader(proc)
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the first task's line, as it ends
        assert first.startswith("wait-1 ") and " ok " in first, (first, kept)
        progress = lines.get(timeout=60)
        while not progress.startswith("eval tasks: 1/3"):
            progress = lines.get(timeout=60)
        assert re.fullmatch(r"eval tasks: 1/3 tasks \(33%\), [\d.]+ s/task, \S+ elapsed, ETA \S+", progress)
        time.sleep(3)  # into the second task: its desktop is up, its run has started
        os.killpg(proc.pid, signal.SIGINT)
        stdout = proc.stdout.read()
        proc.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, (stdout, kept)
    assert stdout.splitlines()[0] == "PARTIAL: stopped after 1 of 3 tasks; the figures are over those 1", stdout
    assert "1/1 tasks succeeded" in stdout
    report = json.loads((out / "tasks.json").read_text())
    assert report["summary"]["partial"] is True and report["summary"]["tasks_planned"] == 3
    assert [r["name"] for r in report["results"]] == ["wait-1"]
    assert "PARTIAL" in (out / "tasks.html").read_text()
    assert kept[-1] == "desktop-agent: interrupted: PARTIAL: stopped after 1 of 3 tasks; the figures are over those 1"
    _assert_no_process_left(mark)  # the second task's display, bus, window manager and agent are gone
