"""scripts/setup.sh and scripts/start.sh, run for real in a copy of the checkout, with apt, dpkg and pip
replaced by stand-ins on PATH (that log what they were asked and talk the way the real ones do): which
packages each command installs, and that set-up is quiet and in order."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.e2e_helpers import ROOT

STUBS = {
    # Nothing is installed but what the stand-in apt-get installed.
    "dpkg-query": """#!/bin/sh
pkg=$(eval echo \\${$#})
grep -qx "$pkg" "$STUB_DIR/installed" 2>/dev/null && printf 'install ok installed' && exit 0
exit 1
""",
    "apt-get": """#!/bin/sh
echo "apt-get $*" >> "$STUB_DIR/log"
case "$*" in *install*)
  echo "debconf: delaying package configuration, since apt-utils is not installed" >&2
  echo "Selecting previously unselected package x."
  if [ -n "$STUB_APT_FAIL" ]; then echo "E: Unable to locate package chromium" >&2; exit 100; fi
  for p in "$@"; do case "$p" in -*|install) ;; *) echo "$p" >> "$STUB_DIR/installed" ;; esac; done ;;
download" "*)
  for p in "$@"; do case "$p" in download) ;; *) : > "${p}_1.0_all.deb" ;; esac; done ;;
esac
""",
    "dpkg-deb": """#!/bin/sh
echo "dpkg-deb $*" >> "$STUB_DIR/log"
""",
    "sudo": """#!/bin/sh
exec "$@"
""",
}
# The virtual environment's python: pip as it talks (a harmless setuptools note and, unless told not to,
# the root warning; one real error line that must be shown).
VENV_PYTHON = """#!/bin/sh
echo "python $*" >> "$STUB_DIR/log"
case "$*" in *"pip install"*" -e "*)
  echo "/x/setuptools/command/editable_wheel.py: BuildBackendWarning: the editable install" >&2
  [ "$PIP_ROOT_USER_ACTION" = ignore ] || echo "WARNING: Running pip as the 'root' user can break things" >&2
  sleep 0.3
  echo "ERROR: pip's dependency resolver does not currently take into account all the packages" >&2 ;;
esac
exit 0
"""
AGENT = """#!/bin/sh
echo "desktop-agent stand-in: $*"
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the checkout's scripts, package lists and pyproject.toml, with a stand-in .venv."""
    root = tmp_path / "clone"
    for part in ("scripts", "packaging"):
        shutil.copytree(ROOT / part, root / part)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    _write(root / ".venv/bin/python", VENV_PYTHON)
    _write(root / ".venv/bin/desktop-agent", AGENT)
    for name, text in STUBS.items():
        _write(tmp_path / "stubs" / name, text)
    return root


def _run(root: Path, *cmd: str, **extra: str) -> subprocess.CompletedProcess[str]:
    stubs = root.parent / "stubs"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "STUB_"))}
    env.update(PATH=f"{stubs}:{env['PATH']}", STUB_DIR=str(stubs), XDG_CACHE_HOME=str(root.parent / "cache"),
               DISPLAY=":99", **extra)
    # Everything the person sees, in the order they see it: stderr merged into stdout.
    return subprocess.run(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=120)


def _packages(path: Path) -> list[str]:
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def _installed(root: Path) -> list[str]:
    log = root.parent / "stubs" / "log"
    return [p for line in log.read_text().splitlines() if line.startswith("apt-get install")
            for p in line.split()[2:] if not p.startswith("-")] if log.exists() else []


def test_start_installs_the_apps_packages_only_quietly_and_in_order(checkout: Path) -> None:
    r = _run(checkout, "./scripts/start.sh", "--version")
    assert r.returncode == 0, r.stdout
    lines = r.stdout.splitlines()
    assert lines[0].startswith("setup: installing system packages: xvfb ")
    assert lines[1:] == ["setup: installing Python packages into .venv (.)",
                         "ERROR: pip's dependency resolver does not currently take into account all the packages",
                         "setup: done",
                         "desktop-agent stand-in: --version"]  # the command's own output comes last
    installed = _installed(checkout)
    assert sorted(installed) == sorted(_packages(checkout / "packaging/debian-packages.txt"))
    assert "chromium" not in installed and "gnumeric" not in installed and "trayer" not in installed
    # Set up already: nothing is installed again, nothing is printed but the command's output.
    r = _run(checkout, "./scripts/start.sh", "doctor")
    assert r.returncode == 0 and r.stdout == "desktop-agent stand-in: doctor\n", r.stdout


def test_test_setup_and_eval_tasks_install_the_suites_applications(checkout: Path) -> None:
    r = _run(checkout, "./scripts/start.sh", "eval", "tasks", "--list")
    assert r.returncode == 0, r.stdout
    suite = _packages(checkout / "packaging/debian-packages-suite.txt")
    assert set(_installed(checkout)) == set(_packages(checkout / "packaging/debian-packages.txt")) | set(suite)
    assert r.stdout.splitlines()[-1] == "desktop-agent stand-in: eval tasks --list"
    r = _run(checkout, "./scripts/setup.sh", "--test")
    assert r.returncode == 0, r.stdout
    # Only what building the bundle needs is new (the tests build it); the rest is there now.
    bundle = _packages(checkout / "packaging/debian-packages-bundle.txt")
    assert f"setup: installing system packages: {' '.join(bundle)}" in r.stdout
    log = (checkout.parent / "stubs" / "log").read_text()
    assert "pip wheel" in log and "llama-cpp-python==" in log  # the local model's wheel, built once
    assert "-e .[llama,test]" in log
    # The tests' fonts: downloaded and unpacked into the cache, never installed.
    assert "apt-get download fonts-wqy-microhei fonts-noto-core" in log
    assert "dpkg-deb -x" in log and "fonts-wqy-microhei_1.0_all.deb" in log
    assert "fonts-wqy-microhei" not in _installed(checkout)


def test_a_failing_step_shows_its_output_and_stops(checkout: Path) -> None:
    r = _run(checkout, "./scripts/start.sh", STUB_APT_FAIL="1")
    assert r.returncode == 100
    assert "setup: apt-get install failed (exit 100)" in r.stdout
    assert "E: Unable to locate package chromium" in r.stdout  # the log's end, shown
    assert "Python packages" not in r.stdout and "stand-in" not in r.stdout


def test_list_packages_and_the_lists_agree() -> None:
    app = _packages(ROOT / "packaging/debian-packages.txt")
    suite = _packages(ROOT / "packaging/debian-packages-suite.txt")
    assert not set(app) & set(suite)
    # The .deb depends only on what the app's own list installs.
    assert set(_packages(ROOT / "packaging/deb-depends.txt")) <= set(app)
    listed = subprocess.run(["./scripts/setup.sh", "--list-packages"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    assert listed == app
    listed = subprocess.run(["./scripts/setup.sh", "--suite", "--list-packages"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split()
    assert listed == app + suite
    assert "chromium" in suite and "openbox" in suite and "xvfb" in app


def test_scripts_parse() -> None:
    for script in (*sorted((ROOT / "scripts").glob("*.sh")), ROOT / ".ci/run"):
        r = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert r.returncode == 0, (script, r.stderr)


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs dpkg (a Debian/Ubuntu system)")
def test_the_suite_list_installs_every_program_the_suite_runs() -> None:
    from desktop_agent.cli import CHECK_PROGRAMS, SUITE_PROGRAMS
    from desktop_agent.evaluation.task_suite import DEFAULT_SUITE, load_suite

    listed = set(_packages(ROOT / "packaging/debian-packages.txt")) | set(
        _packages(ROOT / "packaging/debian-packages-suite.txt"))
    apps = {a.cmd[0] for t in load_suite(DEFAULT_SUITE) for a in t.apps}
    programs = {*(p for kind in SUITE_PROGRAMS.values() for p in kind),
                *(p for kind in CHECK_PROGRAMS.values() for p in kind.values()), *apps}
    unlisted = []
    for program in sorted(programs):
        path = shutil.which(program)
        assert path, f"{program} is not installed (./scripts/setup.sh --suite)"
        owner = subprocess.run(["dpkg-query", "-S", os.path.realpath(path)], capture_output=True, text=True)
        package = owner.stdout.split(":")[0]
        if package not in listed:
            unlisted.append(f"{program} ({package or 'no package'})")
    assert unlisted == []
