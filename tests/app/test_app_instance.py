"""One app per user and display, reached from a second invocation (what a desktop's own key binding runs where
there are no global shortcuts): `desktop-agent app --summon` shows the running app's command bar (and starts
the app when none runs), a second plain `desktop-agent app` summons the running one, `--stop-run` stops its
run, and says so in one line, exiting non-zero, when no app runs. Real app processes on the tests' Xvfb."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_agent.app.instance import instance_socket, runtime_folder, send_command
from desktop_agent.capture.virtual_display import VirtualDisplay, stop_process
from desktop_agent.runs.store import RunStore
from tests.app.test_app_hardening import _x_windows, assert_clean_exit, wait_for_window
from tests.e2e_helpers import ROOT

BAR = "desktop-agent command bar"
APPROVAL = "desktop-agent: approve this step?"


@pytest.fixture
def runtime(tmp_path: Path) -> Path:
    """The user's runtime folder for these apps (XDG_RUNTIME_DIR): private, as a login session's is."""
    folder = tmp_path / "runtime"
    folder.mkdir(mode=0o700)
    return folder


@pytest.fixture
def desktop_agent_app(xvfb: VirtualDisplay, tmp_path: Path, home: Path, runtime: Path) -> Iterator[Any]:
    """Starts `desktop-agent app ARGS` as its own process (`wait=True`: to its end, with its result); every
    process started is stopped after the test."""
    from desktop_agent.app.settings import AppSettings, save_settings

    ini = tmp_path / "app.ini"
    save_settings(AppSettings(auto_approve=[], data_folder=str(home), first_run_done=True), str(ini))
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", DESKTOP_AGENT_HOME=str(home), XDG_RUNTIME_DIR=str(runtime),
               PYTHONUNBUFFERED="1")
    procs: list[subprocess.Popen[bytes]] = []

    def run(*args: str, wait: bool = False) -> Any:
        cmd = [sys.executable, "-m", "desktop_agent", "app", "--no-tray", "--no-hotkeys", "--settings", str(ini),
               *args]
        if wait:
            return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append(proc)
        return proc

    yield run
    for proc in procs:
        if proc.poll() is None:
            stop_process(proc)


def _viewable(pid: int, title: str) -> bool:
    return title in _x_windows(pid)


def _wait(condition: Any, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_summon_starts_the_app_and_a_second_start_summons_the_running_one(desktop_agent_app: Any) -> None:
    import pyautogui

    app = desktop_agent_app("--summon")  # no app runs: this one starts, with its command bar shown
    wait_for_window(app, BAR)
    wait_for_window(app, "desktop-agent")
    pyautogui.press("esc")  # the bar has the focus; Esc hides it
    _wait(lambda: not _viewable(app.pid, BAR), "Esc did not hide the command bar")

    again = desktop_agent_app("--summon", wait=True)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", ""), again
    _wait(lambda: _viewable(app.pid, BAR), "--summon did not show the running app's command bar")
    pyautogui.press("esc")
    _wait(lambda: not _viewable(app.pid, BAR), "Esc did not hide the command bar")

    second = desktop_agent_app(wait=True)  # a plain second start: no second app, the first one's bar
    assert second.returncode == 0, second
    assert second.stdout.strip() == "desktop-agent: the app is already running on this display: its command bar " \
                                    "is shown", second
    _wait(lambda: _viewable(app.pid, BAR), "a second start did not summon the running app")
    assert app.poll() is None
    app.send_signal(signal.SIGTERM)
    assert_clean_exit(app)


def test_stop_run_stops_the_running_apps_run_and_says_when_no_app_runs(desktop_agent_app: Any, home: Path) -> None:
    none = desktop_agent_app("--stop-run", wait=True)
    assert none.returncode == 1 and none.stdout == "", none
    assert none.stderr.strip().splitlines() == ["desktop-agent: no app is running on this display: there is no run "
                                                "to stop"], none.stderr

    app = desktop_agent_app("--task", "wait 30")  # its step waits for approval
    wait_for_window(app, APPROVAL, timeout=120)
    stopped = desktop_agent_app("--stop-run", wait=True)
    assert (stopped.returncode, stopped.stdout.strip()) == (0, "desktop-agent: stopping the run in progress"), \
        stopped
    _wait(lambda: bool(RunStore(home).list_runs()) and RunStore(home).list_runs()[0].status == "aborted",
          "--stop-run did not stop the run", timeout=30)
    _wait(lambda: not _viewable(app.pid, APPROVAL), "the approval panel stayed up")
    assert app.poll() is None, "stopping the run must not end the app"
    idle = desktop_agent_app("--stop-run", wait=True)
    assert (idle.returncode, idle.stdout.strip()) == (0, "desktop-agent: no run in progress"), idle

    app.send_signal(signal.SIGTERM)
    assert_clean_exit(app)
    gone = desktop_agent_app("--stop-run", wait=True)  # its socket is gone with it
    assert gone.returncode == 1 and "no app is running" in gone.stderr, gone


def test_a_socket_left_by_an_app_that_died_counts_as_no_app(runtime: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("DISPLAY", ":57")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    path = instance_socket()
    assert path == runtime / "desktop-agent-_57.sock"
    assert send_command("summon", path) is None  # no socket at all
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(path))  # bound, never listening: what a killed app leaves
    assert path.exists()
    assert send_command("summon", path) is None


def test_the_socket_lives_only_in_a_folder_of_the_users_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o777)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))  # others could enter it: not used
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    folder = runtime_folder()
    assert folder == tmp_path / f"desktop-agent-{os.getuid()}"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    folder.chmod(0o755)  # someone loosened it: refused, not used
    from desktop_agent.errors import AgentError

    with pytest.raises(AgentError, match="not a folder of this user's alone"):
        runtime_folder()
