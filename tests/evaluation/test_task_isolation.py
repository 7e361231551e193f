"""Tasks kept apart: two copies of an app that claims a fixed path in /tmp start side by side when each task
has its own /tmp (and the second one fails without it); each task has its own TMPDIR and D-Bus session bus,
its apps their own environment variables and generated fixtures; a task that cannot start still ends in the
report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_agent.errors import AgentError
from desktop_agent.evaluation.task_checks import check_outcome
from desktop_agent.evaluation.task_env import TaskEnvironment, private_tmp_supported
from desktop_agent.evaluation.task_runner import run_suite
from desktop_agent.evaluation.task_suite import TaskSpec

APP = Path(__file__).resolve().parents[1] / "apps" / "fixed_tmp_app.py"
# One fixed path for every copy in this test run; the process id keeps concurrent test runs apart.
FIXED = f"/tmp/desktop-agent-fixed-{os.getpid()}.sock"

pytestmark = pytest.mark.display


def _task(title: str = "Fixed tmp app") -> TaskSpec:
    return TaskSpec.model_validate({
        "name": "fixed-tmp", "goal": "g", "script": 'click "x"',
        "files": [{"path": "Documents/a.zip", "generate": {"kind": "zip", "members": {"a.txt": "alpha"}}}],
        "apps": [{"cmd": [sys.executable, str(APP), FIXED, title], "window": title,
                  "env": {"FIXED_APP_WORD": "{home}/word"}}],
        "check": [{"kind": "archive", "path": "Documents/a.zip", "members": ["b.txt"]}]})


def _bus_id(address: str) -> str:
    r = subprocess.run(["dbus-send", f"--bus={address}", "--print-reply=literal", "--dest=org.freedesktop.DBus",
                        "/org/freedesktop/DBus", "org.freedesktop.DBus.GetId"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.mark.skipif(not private_tmp_supported(), reason="mount namespaces are not allowed here (TMPDIR only)")
def test_two_tasks_with_an_app_on_a_fixed_tmp_path_run_side_by_side() -> None:
    a, b = TaskEnvironment(_task(), private_tmp=True), TaskEnvironment(_task(), private_tmp=True)
    try:
        with a, b:
            assert a.apps[0].poll() is None and b.apps[0].poll() is None  # both copies are up
            sock = Path(FIXED).name
            assert (a.tmp / sock).exists() and (b.tmp / sock).exists()  # each in its task's own /tmp
            assert not Path(FIXED).exists()  # and not in the machine's
            seen = [json.loads((e.home / "fixed-tmp-app.json").read_text()) for e in (a, b)]
            assert [s["TMPDIR"] for s in seen] == ["/tmp", "/tmp"]  # /tmp is the task's own
            assert [s["FIXED_APP_WORD"] for s in seen] == [f"{a.home}/word", f"{b.home}/word"]
            assert {s["GSETTINGS_BACKEND"] for s in seen} == {"keyfile"}
            assert (a.home / "Documents/a.zip").read_bytes()[:2] == b"PK"  # a generated fixture
            if shutil.which("dbus-send"):
                assert seen[0]["DBUS_SESSION_BUS_ADDRESS"] == a.bus_address
                assert seen[1]["DBUS_SESSION_BUS_ADDRESS"] == b.bus_address
                assert a.bus_address != b.bus_address and _bus_id(a.bus_address or "") != _bus_id(
                    b.bus_address or "")
            buses = [e.bus for e in (a, b)]
            apps = [a.apps[0], b.apps[0]]
        assert all(p.poll() is not None for p in apps)  # the apps stopped with their tasks
        assert all(p is None or p.poll() is not None for p in buses)  # and so did their buses
    finally:
        a.cleanup()
        b.cleanup()
    assert not a.tmp.exists() and not b.tmp.exists()


def test_without_a_private_tmp_the_second_copy_fails_and_tmpdir_is_still_the_tasks() -> None:
    a, b = TaskEnvironment(_task(), private_tmp=False), TaskEnvironment(_task(), private_tmp=False)
    try:
        with a:
            assert Path(FIXED).exists()  # the machine's /tmp: shared by every task
            seen = json.loads((a.home / "fixed-tmp-app.json").read_text())
            assert seen["TMPDIR"] == str(a.tmp) and a.isolation.startswith("TMPDIR only")
            with pytest.raises(AgentError, match=r"exited \(status 1\) before showing"), b:
                pass
            assert b.apps == [] and b.bus is None and b.xvfb is None  # the failed start stopped what it began
        assert not Path(FIXED).exists()  # the app removed its socket when it was stopped
    finally:
        a.cleanup()
        b.cleanup()
        Path(FIXED).unlink(missing_ok=True)


def test_a_task_that_cannot_start_fails_alone_and_the_report_is_written(tmp_path: Path) -> None:
    broken = TaskSpec.model_validate({
        "name": "no-such-app", "goal": "g", "script": 'click "x"',
        "apps": [{"cmd": ["desktop-agent-no-such-app"], "window": "x"}],
        "check": [{"kind": "file", "path": "x"}]})
    report = run_suite([broken], tmp_path / "data")
    r = report.results[0]
    assert not r.success and r.failure == "error" and "desktop-agent-no-such-app is not installed" in r.detail
    js, _ = report.write(tmp_path / "out")
    summary = json.loads(js.read_text())["summary"]
    assert summary["tasks"] == 1 and summary["failures"] == {"error": 1} and "D-Bus" in summary["isolation"]


@pytest.mark.skipif(shutil.which("mousepad") is None, reason="needs Mousepad (scripts/setup.sh --test)")
def test_a_real_apps_gsettings_are_checked_through_the_keyfile_backend() -> None:
    """Mousepad stores its window state in GSettings; the task's keyfile backend keeps it in the task's home,
    where the gsettings check reads it after the app quit."""
    task = TaskSpec.model_validate({
        "name": "mousepad-gsettings", "goal": "g", "script": 'click "x"', "files": [{"path": "a.txt", "text": "hi"}],
        "apps": [{"cmd": ["mousepad", "{home}/a.txt"], "window": "a.txt", "geometry": [10, 10, 700, 500]}],
        "check": [{"kind": "gsettings", "key": "org/xfce/mousepad/state/window/width", "equals": "700"}]})
    env = TaskEnvironment(task)
    try:
        with env:
            # (No start-state assertion here: mousepad may store its window size as soon as it is mapped. The
            # check failing on a start state is tested on a real keyfile in test_task_checks_more.py.)
            subprocess.run(["xdotool", "key", "ctrl+q"], env=env.env(), check=True, timeout=10)
            env.apps[0].wait(15)
            assert check_outcome(env, list(task.check)) == []
    finally:
        env.cleanup()
