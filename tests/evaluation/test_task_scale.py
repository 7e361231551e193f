"""Tasks at a scale run their apps drawing at it, on an X screen of the scaled size: a GTK 3 app at 2 and at
1.25, a Qt app at 1.5 (fractional), measured by the size the toolkit gives its own window; and second-monitor
tasks run on an X server whose RandR reports the task's monitors."""

from __future__ import annotations

import subprocess

import pytest

from desktop_agent.capture.monitor_display import dummy_available
from desktop_agent.evaluation.task_env import TaskEnvironment, mapped_windows
from desktop_agent.evaluation.task_suite import TaskSpec, load_suite

pytestmark = pytest.mark.display


def _natural_size(app: list[str], window: str, scale: float, emulate: bool = False
                  ) -> tuple[tuple[int, int], str, str]:
    """The size an app gives its window (no geometry imposed), the X screen's size and its Xft.dpi."""
    task = TaskSpec.model_validate({
        "name": "scale-probe", "goal": "g", "script": 'click "x"', "scale": scale, "emulate_scale": emulate,
        "files": [{"path": "n.txt", "text": "hello"}], "apps": [{"cmd": app, "window": window}],
        "check": [{"kind": "clipboard", "equals": "x"}]})
    env = TaskEnvironment(task)
    try:
        with env:
            wid = next(w for w, name in mapped_windows(env.display) if window in name)
            out = subprocess.run(["xdotool", "getwindowgeometry", str(wid)], env=env.env(), capture_output=True,
                                 text=True, timeout=10).stdout
            w, h = out.split("Geometry:")[1].split()[0].split("x")
            info = subprocess.run(["xdpyinfo"], env=env.env(), capture_output=True, text=True, timeout=10).stdout
            dims = info.split("dimensions:")[1].split()[0]
            dpi = subprocess.run(["xrdb", "-query"], env=env.env(), capture_output=True, text=True, timeout=10).stdout
    finally:
        env.cleanup()
    return (int(w), int(h)), dims, dpi


def test_a_gtk_app_draws_at_the_tasks_scale_on_a_screen_of_the_scaled_size() -> None:
    one, dims1, dpi1 = _natural_size(["galculator"], "galculator", 1.0)
    two, dims2, dpi2 = _natural_size(["galculator"], "galculator", 2.0)
    assert dims1 == "1280x800" and dims2 == "2560x1600"
    assert "Xft.dpi" not in dpi1 and "Xft.dpi:\t192" in dpi2
    assert two == (2 * one[0], 2 * one[1])  # GDK_SCALE=2: every widget twice the size, text once
    frac, dims, dpi = _natural_size(["galculator"], "galculator", 1.25)
    assert dims == "1600x1000" and "Xft.dpi:\t120" in dpi
    assert one[0] < frac[0] < 1.3 * one[0]  # GTK scales by whole numbers; at 1.25 only its text grows
    emulated, dims, dpi = _natural_size(["galculator"], "galculator", 2.0, emulate=True)
    assert emulated == one and dims == "1280x800" and "Xft.dpi" not in dpi  # only the agent's captures scale


def test_a_qt_app_draws_at_a_fractional_scale() -> None:
    one, _, _ = _natural_size(["featherpad", "{home}/n.txt"], "n.txt", 1.0)
    frac, dims, _ = _natural_size(["featherpad", "{home}/n.txt"], "n.txt", 1.5)
    assert dims == "1920x1200"
    assert abs(frac[0] - 1.5 * one[0]) <= 2 and abs(frac[1] - 1.5 * one[1]) <= 2, (one, frac)


def test_the_suites_hidpi_tasks_draw_at_scale_and_one_is_fractional() -> None:
    hidpi = [t for t in load_suite() if "hidpi" in t.tags]
    assert len(hidpi) >= 3 and all(t.scale > 1 and not t.emulate_scale for t in hidpi)
    assert any(t.scale != int(t.scale) for t in hidpi)


@pytest.mark.skipif(not dummy_available(), reason="needs Xorg's dummy driver (xserver-xorg-video-dummy)")
def test_second_monitor_tasks_get_real_randr_monitors_not_a_declared_layout() -> None:
    task = next(t for t in load_suite() if t.name == "galculator-second-monitor")
    env = TaskEnvironment(task)
    try:
        with env:
            assert "DESKTOP_AGENT_MONITORS" not in env.env()
            out = subprocess.run(["xrandr", "--listmonitors"], env=env.env(), capture_output=True, text=True,
                                 timeout=10).stdout
            # The app's window, placed at x=120 by the task, is on the left monitor (0..1024), which is not
            # the primary.
            wid = next(w for w, name in mapped_windows(env.display) if "galculator" in name)
            geo = subprocess.run(["xdotool", "getwindowgeometry", str(wid)], env=env.env(), capture_output=True,
                                 text=True, timeout=10).stdout
    finally:
        env.cleanup()
    assert "Monitors: 2" in out and "1280/339x800/212+1024+0" in out and "1024/271x768/203+0+0" in out, out
    assert "*DUMMY" in out.split("+1024+0")[0].splitlines()[-1], out  # the primary is the right-hand one
    x = int(geo.split("Position:")[1].split(",")[0])
    assert 100 <= x < 1024 - 340, geo
