"""Bad input through every command of the real CLI, run as a user runs it (real subprocesses, real files,
a real Xvfb display and the real target app where a run could click).

Each case must give exactly one line on stderr, no traceback, its documented exit code (README, "Using
the command line"), and lose nothing: a refused run leaves the run database as it was and sends no input.
Most cases fail before a display is needed; the few that need one share the session's Xvfb.
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from desktop_agent.capture.virtual_display import VirtualDisplay
from tests.display import TargetApp
from tests.e2e_helpers import ROOT, cli

BAD_INPUT = 2

# -- real files the cases read ----------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(width: int, height: int, rows: int | None = None, extra: tuple[tuple[bytes, bytes], ...] = ()) -> bytes:
    """A real RGB PNG. `rows` < height writes only that many rows of pixel data (a header that claims
    more than the file holds, as a decompression bomb or a damaged file does)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = (b"\x00" + b"\xf0" * width * 3) * (height if rows is None else rows)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + b"".join(_chunk(k, d) for k, d in extra)
            + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))


# An iCCP chunk whose profile is not an ICC profile: libpng warns about it on stderr when it decodes.
BAD_ICCP = (b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(b"not an ICC profile" * 20))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inputs")
    out = {
        "small": d / "small.png",
        "huge": d / "huge.png",  # 12000x12000 in its header, a few rows of pixels
        "wide": d / "wide.png",  # 9000x100: one side over the bound
        "truncated": d / "truncated.png",
        "text": d / "notes.png",
        "empty": d / "empty.png",
        "iccp": d / "iccp.png",
        "folder": d / "a-folder",
    }
    out["small"].write_bytes(png_bytes(64, 48))
    out["huge"].write_bytes(png_bytes(12000, 12000, rows=4))
    out["wide"].write_bytes(png_bytes(9000, 100, rows=2))
    out["truncated"].write_bytes(png_bytes(640, 480)[:300])
    out["text"].write_text("hello")
    out["empty"].write_bytes(b"")
    out["iccp"].write_bytes(png_bytes(64, 48, extra=(BAD_ICCP,)))
    out["folder"].mkdir()
    return out


# -- what every case asserts ------------------------------------------------------------------------


def assert_one_line(r: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    lines = r.stderr.splitlines()
    assert "Traceback" not in r.stderr, r.stderr
    assert len(lines) == 1, r.stderr
    assert r.returncode == code, (r.returncode, r.stderr)
    line = lines[0]
    assert len(line) <= 600, len(line)
    for n in needles:
        assert n in line, (n, line)
    return line


def db_state(home: Path) -> Any:
    """What the run database holds (runs and steps), or None where there is none."""
    path = home / "runs.sqlite3"
    if not path.exists():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return (db.execute("SELECT * FROM runs ORDER BY id").fetchall(),
                db.execute("SELECT * FROM steps ORDER BY run_id, idx").fetchall())
    finally:
        db.close()


@pytest.fixture
def home_with_a_run(tmp_path: Path) -> tuple[Path, str]:
    """A data folder whose database holds one finished run, made through the real store."""
    from desktop_agent.runs.store import RunStore

    home = tmp_path / "home"
    store = RunStore(home)
    run_id = store.start_run('click "Save"', "direct", "auto", [])
    store.finish_run(run_id, "succeeded", "all 0 steps ran")
    return home, run_id


# -- commands that fail before any display is needed -------------------------------------------------

LONG = "x" * 100_000

# (arguments, exit code, words the one line must hold); "{small}" etc. name the files above.
NO_DISPLAY_CASES: list[tuple[tuple[str, ...], int, tuple[str, ...]]] = [
    # run: the script is checked whole before anything runs
    (("run", "wait 3601", "--approve", "auto"), BAD_INPUT, ("step 1", "0 to 3600")),
    (("run", 'click "OK"; scroll down 101', "--approve", "auto"), BAD_INPUT, ("step 2", "1 to 100")),
    (("run", "scroll up 0"), BAD_INPUT, ("step 1", "1 to 100")),
    (("run", "wait 99999999999999999999999999999"), BAD_INPUT, ("step 1", "0 to 3600")),
    (("run", "klick Save"), BAD_INPUT, ("unknown step 'klick'",)),
    (("run", "  ;  "), BAD_INPUT, ("the task is empty",)),
    (("run", 'click "\udcff"'), BAD_INPUT, ("not valid UTF-8",)),
    (("run", 'tick Remember me', "--planner", "openai", "--base-url", "http://127.0.0.1:9/v1",
      "--model", "m\udcfe"), BAD_INPUT, ("not valid UTF-8",)),
    (("run", 'click "' + LONG + '"'), BAD_INPUT, ("at most 10000",)),
    (("run", LONG, "--planner", "anthropic"), BAD_INPUT, ("at most 10000",)),
    (("run", "; ".join(['click "A"'] * 201)), BAD_INPUT, ("201 steps", "at most 200")),
    (("run", "press ctrl+" + "b" * 5000), BAD_INPUT, ("unknown key", "…")),
    (("run", 'click "OK"', "--max-steps", "0"), BAD_INPUT, ("--max-steps", "1 to 1000")),
    (("run", 'click "OK"', "--max-steps", "-1"), BAD_INPUT, ("--max-steps",)),
    (("run", 'click "OK"', "--max-steps", "9" * 5000), BAD_INPUT, ("--max-steps", "…")),
    (("run", "goal", "--planner", "llama", "--ctx", "0"), BAD_INPUT, ("--ctx",)),
    (("run", "goal", "--planner", "openai", "--images", "-1"), BAD_INPUT, ("--images",)),
    (("run", 'click "OK"', "--bogus"), BAD_INPUT, ("unrecognized arguments",)),
    # parse / locate: images are checked from their header, before any pixel is decoded
    (("parse", "{huge}"), BAD_INPUT, ("12000x12000", "8192")),
    (("parse", "{wide}"), BAD_INPUT, ("9000x100",)),
    (("parse", "{truncated}"), BAD_INPUT, ("cannot read image",)),
    (("parse", "{text}"), BAD_INPUT, ("cannot read image",)),
    (("parse", "{empty}"), BAD_INPUT, ("the file is empty",)),
    (("parse", "{folder}"), BAD_INPUT, ("folder",)),
    (("parse", "{folder}/nothing-here.png"), BAD_INPUT, ("no such file",)),
    (("parse",), BAD_INPUT, ("IMAGE file or --screen",)),
    (("parse", "{small}", "--monitor", "0"), BAD_INPUT, ("--monitor",)),
    (("locate", "{huge}", "the Save button"), BAD_INPUT, ("12000x12000",)),
    (("locate", "{small}", LONG), BAD_INPUT, ("100000 characters", "at most 1000")),
    (("locate", "{small}", "   "), BAD_INPUT, ("instruction is empty",)),
    (("locate", "{small}", "the \udcff button"), BAD_INPUT, ("not valid UTF-8",)),
    # runs
    (("runs", "show", "no-such-run"), BAD_INPUT, ("no run 'no-such-run'",)),
    (("runs", "show", LONG), BAD_INPUT, ("no run", "…")),
    (("runs", "export", "no-such-run", "--html"), BAD_INPUT, ("no run",)),
    (("runs", "list", "--limit", "0"), BAD_INPUT, ("--limit",)),
    (("runs", "list", "--limit", "-1"), BAD_INPUT, ("--limit",)),
    # eval grounding: sets that cannot be read at all
    (("eval", "grounding", "{folder}/missing"), BAD_INPUT, ("not a folder",)),
    (("eval", "grounding", "{folder}"), BAD_INPUT, ("annotations.json is missing",)),
    # keys
    (("keys", "set", "bad provider"), BAD_INPUT, ("bad provider name",)),
    (("keys", "delete", "x" * 500), BAD_INPUT, ("bad provider name", "…")),
    # commands and options argparse refuses
    (("frobnicate",), BAD_INPUT, ("invalid choice",)),
    (("run",), BAD_INPUT, ("required",)),
]


@pytest.mark.parametrize(("args", "code", "needles"), NO_DISPLAY_CASES,
                         ids=[" ".join(a)[:50] for a, _, _ in NO_DISPLAY_CASES])
def test_bad_input_is_one_line_and_loses_nothing(args: tuple[str, ...], code: int, needles: tuple[str, ...],
                                                 files: dict[str, Path], home_with_a_run: tuple[Path, str]) -> None:
    home, _ = home_with_a_run
    before = db_state(home)
    argv = [a.format(**{k: str(v) for k, v in files.items()}) if "{" in a and len(a) < 200 else a for a in args]
    # No display at all: a case that got as far as needing one would fail differently (exit 1).
    r = cli(*argv, home=home, drop=("DISPLAY", "WAYLAND_DISPLAY"), timeout=60)
    assert_one_line(r, code, *needles)
    assert r.stdout == ""
    assert db_state(home) == before  # nothing recorded, nothing changed


def test_a_huge_image_is_refused_before_its_pixels_are_decoded(files: dict[str, Path], tmp_path: Path) -> None:
    """12000x12000 once took 18.5 GB: the header alone refuses it now (peak memory of the whole CLI)."""
    probe = ("import resource, subprocess, sys\n"
             "r = subprocess.run([sys.executable, '-m', 'desktop_agent', 'parse', sys.argv[1]], capture_output=True)\n"
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    r = subprocess.run([sys.executable, "-c", probe, str(files["huge"])], cwd=ROOT, capture_output=True, text=True,
                       env=dict(os.environ, DESKTOP_AGENT_HOME=str(tmp_path)), timeout=60)
    code, max_rss_kb = map(int, r.stdout.split())
    assert code == BAD_INPUT
    assert max_rss_kb < 1_000_000, max_rss_kb


def test_decoder_warnings_never_reach_stderr(files: dict[str, Path], tmp_path: Path) -> None:
    """A PNG with a broken colour profile parses with nothing on stderr (libpng would warn about iCCP)."""
    r = cli("parse", str(files["iccp"]), "--json", home=tmp_path / "home", timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert json.loads(r.stdout)["width"] == 64


def test_keys_set_without_a_key_on_stdin(tmp_path: Path) -> None:
    env = dict(os.environ, DESKTOP_AGENT_HOME=str(tmp_path), PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")

    def keys_set(shell_redirect: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
        cmd = f'exec "$0" -m desktop_agent keys set openai {shell_redirect}'
        r = subprocess.run(["sh", "-c", cmd, sys.executable], cwd=ROOT, env=env, input=stdin,
                           stdin=subprocess.DEVNULL if stdin is None else None, capture_output=True, timeout=60)
        return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode("utf-8", "replace"),
                                           r.stderr.decode("utf-8", "replace"))

    assert_one_line(keys_set("<&-"), BAD_INPUT, "stdin is closed")
    assert_one_line(keys_set("", b""), BAD_INPUT, "empty key")
    assert_one_line(keys_set("", b"\xff\xfe sk-123\n"), BAD_INPUT, "not UTF-8")
    assert_one_line(keys_set("", b"k" * 100_000), BAD_INPUT, "longer than 4096")


# -- output paths: checked before the work ----------------------------------------------------------


def test_unwritable_outputs_are_refused_before_the_work(files: dict[str, Path], tmp_path: Path,
                                                        home_with_a_run: tuple[Path, str]) -> None:
    home, run_id = home_with_a_run
    before = db_state(home)
    folder = _grounding_set(tmp_path / "set", [_sample("a", "images/small.png")], files)
    a_file = files["text"]
    for out in (str(files["folder"]), str(tmp_path / "no" / "such" / "preds.jsonl"), f"{a_file}/preds.jsonl"):
        r = cli("eval", "grounding", str(folder), "--out", out, home=home, timeout=60)
        assert_one_line(r, BAD_INPUT, "--out")
        assert r.stdout == ""  # refused before a single image was parsed
        r = cli("runs", "export", run_id, "--html", "-o", out, home=home)
        assert_one_line(r, BAD_INPUT, "-o")
    for out in (str(a_file), f"{a_file}/reports"):
        r = cli("eval", "tasks", "--only", "no-such-task", "--out", out, home=home)
        assert_one_line(r, BAD_INPUT, "--out")
    r = cli("eval", "tasks", "--only", "no-such-task", home=home)
    assert_one_line(r, BAD_INPUT, "no task named")
    assert db_state(home) == before
    assert not (tmp_path / "no").exists()


# -- eval grounding: every bad sample is an error sample, the rest are scored -----------------------


def _sample(sid: Any, img: str, instruction: Any = "Save", bbox: Any = (0, 0, 10, 10), **extra: Any) -> dict[str, Any]:
    return {"id": sid, "img_filename": img, "instruction": instruction,
            "bbox": list(bbox) if isinstance(bbox, tuple) else bbox, "data_type": "text", "platform": "web", **extra}


def _grounding_set(folder: Path, samples: list[Any] | bytes, files: dict[str, Path]) -> Path:
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "small.png").write_bytes(files["small"].read_bytes())
    data = samples if isinstance(samples, bytes) else json.dumps(samples).encode()
    (folder / "annotations.json").write_bytes(data)
    return folder


@pytest.mark.parametrize(("content", "needle"), [
    (b"", "not valid JSON"),
    (b"\xff\xfe[{]", "not UTF-8"),
    (b'[{"id": 1,', "not valid JSON"),
    (b'{"samples": []}', "must hold a list"),
    (b"[]", "holds no samples"),
    (b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
])
def test_a_set_that_cannot_be_read_is_refused(content: bytes, needle: str, files: dict[str, Path],
                                              tmp_path: Path) -> None:
    folder = _grounding_set(tmp_path / "set", content, files)
    r = cli("eval", "grounding", str(folder), home=tmp_path / "home")
    assert_one_line(r, BAD_INPUT, needle)
    assert r.stdout == ""


def test_malformed_samples_are_error_samples_and_the_rest_are_scored(files: dict[str, Path], tmp_path: Path) -> None:
    img = "images/small.png"
    samples: list[Any] = [
        _sample("good", img, "Save", None),  # scored: nothing is on this blank image, abstaining is right
        {"id": "no-bbox", "img_filename": img, "instruction": "Save"},
        _sample("wrong-type", img, 5),
        _sample("bad-bbox", img, bbox=[1, 2, 3]),
        _sample("flipped", img, bbox=(10, 10, 0, 0)),
        _sample("missing-image", "images/nope.png"),
        _sample("huge-image", "../huge.png"),
        _sample("good", img),  # the id repeats
        _sample("surrogate", img, "\ud800 Save"),
        ["not", "an", "object"],
        _sample(True, img),
        _sample("long", img, "y" * 5000),
    ]
    folder = _grounding_set(tmp_path / "set", samples, files)
    (tmp_path / "huge.png").write_bytes(files["huge"].read_bytes())
    out = tmp_path / "preds.jsonl"
    r = cli("eval", "grounding", str(folder), "--out", str(out), home=tmp_path / "home", timeout=180)
    line = assert_one_line(r, BAD_INPUT, "11 of 12 samples are errors")
    assert "1 were scored" in line
    report = r.stdout.splitlines()
    assert report[-1] == "accuracy 100.0"
    assert any(ln.split()[:3] == ["all", "100.0%", "1"] for ln in report), report
    errors = [ln for ln in report if ln.startswith("error sample")]
    assert len(errors) == 11
    for sid, reason in [("no-bbox", "missing key 'bbox'"), ("wrong-type", "'instruction' must be"),
                        ("bad-bbox", "'bbox' must be"), ("flipped", "x2 < x1"), ("missing-image", "no such file"),
                        ("huge-image", "12000x12000"), ("surrogate", "surrogate"), ("long", "at most 1000")]:
        assert any(f"(id '{sid}')" in e and reason in e for e in errors), (sid, errors)
    assert any("sample 8" in e and "repeats sample 1" in e for e in errors)
    assert any("sample 10" in e and "JSON object" in e for e in errors)
    assert any("sample 11" in e and "'id' must be" in e for e in errors)
    preds = {p["id"]: p for p in map(json.loads, out.read_text().splitlines())}
    assert preds["good"] == {"id": "good", "abstain": True}
    assert "no such file" in preds["missing-image"]["error"]
    assert set(preds) == {"good", "no-bbox", "wrong-type", "bad-bbox", "flipped", "missing-image", "huge-image",
                          "surrogate", "long"}


# -- the display: a run that could click, and layouts checked against the real screen ---------------


@pytest.mark.display
def test_refused_runs_click_nothing_and_record_nothing(target_app: TargetApp,
                                                       home_with_a_run: tuple[Path, str]) -> None:
    home, _ = home_with_a_run
    before = db_state(home)
    cases: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
        (('click "Save"; wait 3601',), ("step 2", "0 to 3600")),
        (('click "Save"; scroll down 101',), ("step 2", "1 to 100")),
        (('click "Save"; click "\udcff"',), ("not valid UTF-8",)),
        (('click "Save"', "--max-steps", "0"), ("--max-steps",)),
        (('click "Save"', "--monitors", "5000x5000+0+0*"), ("outside the screen", "2304x800+0+0")),
        (('click "Save"', "--monitors", "1280x800+1024+0*,1024x768+0+0,9000x9000+0+0"), ("monitor 3",)),
        (('click "Save"', "--monitors", "garbage"), ("bad monitor spec",)),
    ]
    for args, needles in cases:
        r = cli("run", *args, "--approve", "auto", home=home, timeout=60)
        assert_one_line(r, BAD_INPUT, *needles)
    assert [e for e in target_app.events() if e["event"] != "ready"] == []  # no click, no key reached the app
    assert db_state(home) == before


@pytest.mark.display
def test_screen_layouts_and_displays_that_are_not_there(xvfb: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    r = cli("parse", "--screen", "--monitors", "5000x5000+0+0*", home=home)
    assert_one_line(r, BAD_INPUT, "monitor 1 of the layout (5000x5000+0+0) lies outside the screen")
    for spec, needle in (("100x100@.+0+0", "bad monitor layout"), ("0x0+0+0", "give it a size"),
                         ("100x100@0+0+0", "scale 0"), ("1280x800+0+0,nonsense", "bad monitor spec")):
        r = cli("parse", "--screen", "--monitors", spec, home=home)
        assert_one_line(r, BAD_INPUT, needle)
    r = cli("parse", "--screen", "--monitor", "7", home=home)
    assert_one_line(r, BAD_INPUT, "no monitor 7")
    r = cli("locate", "--screen", "Save", "--monitors", "1280x800-5+0", home=home)
    assert_one_line(r, BAD_INPUT, "outside the screen")
    for args in (("parse", "--screen"), ("run", 'click "Save"', "--approve", "auto")):
        r = cli(*args, home=home, env_extra={"DISPLAY": ":4242"})
        assert_one_line(r, 1, "no display", ":4242")
    # A screen larger than the image bound is refused before it is captured (a run records nothing).
    with VirtualDisplay.start("9000x5000") as big:
        for args in (("parse", "--screen"), ("run", 'click "Save"', "--approve", "auto")):
            r = cli(*args, home=home, env_extra={"DISPLAY": big.display}, drop=("DESKTOP_AGENT_MONITORS",))
            assert_one_line(r, BAD_INPUT, "9000x5000 pixels", "--monitors")
    assert db_state(home) is None
