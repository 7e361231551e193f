"""The desktop sessions the end-to-end tests run in, each started and stopped by its own handle: X11 (Xvfb, two
monitors declared on one wide screen) and Wayland (a headless sway with the same two monitors as outputs, the
Qt target app as a native Wayland client placed through sway's IPC)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from desktop_agent.capture.headless_wayland import HeadlessOutput, HeadlessSway, missing_packages
from desktop_agent.capture.virtual_display import stop_process
from tests.display import TargetApp

# The X11 tests' monitors (tests/display.MONITORS) as sway outputs: the 1280x800 one at x=1024 (HEADLESS-1,
# monitor 1) and the 1024x768 one left of it (HEADLESS-2, monitor 2).
E2E_OUTPUTS = [HeadlessOutput(1280, 800, 1.0, 1024, 0), HeadlessOutput(1024, 768, 1.0, 0, 0)]

# What this process's environment says about the display; a Wayland session replaces it while it runs.
_DISPLAY_VARIABLES = ("DISPLAY", "DESKTOP_AGENT_MONITORS", "QT_QPA_PLATFORM", "WAYLAND_DISPLAY",
                      "XDG_SESSION_TYPE", "XDG_RUNTIME_DIR", "SWAYSOCK")

# The target app's widgets that lie in its second window; the others are in its main window.
_SECOND_WINDOW = ("Confirm Transfer", "second_window")


@contextmanager
def running_sway(outputs: list[HeadlessOutput]) -> Iterator[HeadlessSway]:
    """A headless sway with `outputs`; while it runs this process's environment is a Wayland session's (no X11
    DISPLAY, no declared monitors), so the agent and the CLI the tests start pick the wlroots backend."""
    missing = missing_packages()
    if missing:
        pytest.skip(f"a headless Wayland compositor needs the Debian packages {', '.join(missing)}")
    pytest.importorskip("pywayland", reason="the wlroots backend needs the Python package pywayland")
    sway = HeadlessSway.start(outputs)
    old = {k: os.environ.get(k) for k in _DISPLAY_VARIABLES}
    for k in ("DISPLAY", "DESKTOP_AGENT_MONITORS", "QT_QPA_PLATFORM"):
        os.environ.pop(k, None)
    os.environ.update(sway.client_env({}))
    try:
        yield sway
    finally:
        sway.stop()
        restore_environ(old)


def restore_environ(old: dict[str, str | None]) -> None:
    """Put back the variables `old` holds as they were (None: unset)."""
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def window_at(sway: HeadlessSway, title: str, x: int, y: int, timeout: float = 5.0) -> dict[str, Any]:
    """The rect of the window titled `title` once sway shows it at (x, y), after the client redrew there."""
    deadline = time.monotonic() + timeout
    seen: list[Any] = []
    while time.monotonic() < deadline:
        seen = [w["rect"] for w in sway.windows() if w.get("name") == title]
        if seen and (seen[0]["x"], seen[0]["y"]) == (x, y):
            time.sleep(0.3)  # the client redraws where it now is (at the new output's scale)
            return dict(seen[0])
        time.sleep(0.05)
    raise AssertionError(f"sway did not put the window {title!r} at {x},{y}: {seen}")


@dataclass
class DesktopSession:
    """One session kind ("x11" or "wayland") and, on Wayland, its compositor."""

    kind: str
    sway: HeadlessSway | None = None

    def start_app(self, log: Path, main: str, second: str = "") -> TargetApp:
        """The Qt target app with its main window's top-left at `main` ("X,Y" in desktop coordinates) and, when
        given, its second window at `second`; its widgets' boxes in desktop coordinates on either session."""
        if self.sway is None:
            return TargetApp.start(log, dict(os.environ, QT_QPA_PLATFORM="xcb"), main=main, second=second)
        env = self.sway.client_env()
        env.update(QT_QPA_PLATFORM="wayland", QT_WAYLAND_DISABLE_WINDOWDECORATION="1")
        app = TargetApp.start(log, env, main=main, second=second)
        try:
            self._place(app, "Target", "window", main)
            if second:
                self._place(app, "Second", "second_window", second)
        except BaseException:
            app.stop()
            raise
        return app

    def _place(self, app: TargetApp, title: str, window_key: str, at: str) -> None:
        """Move the window titled `title` to `at` and shift its widgets' boxes from where Qt believes the window
        is (a Wayland client does not know its place) to where sway put it."""
        assert self.sway is not None
        x, y = (int(v) for v in at.split(","))
        self.sway.swaymsg(f'[title="^{title}$"]', "move", "absolute", "position", str(x), str(y))
        rect = window_at(self.sway, title, x, y)
        dx, dy = rect["x"] - app.widgets[window_key][0], rect["y"] - app.widgets[window_key][1]
        in_second = window_key == "second_window"
        for name, (x1, y1, x2, y2) in list(app.widgets.items()):
            if (name in _SECOND_WINDOW) == in_second and not name.startswith("dialog:"):
                app.widgets[name] = [x1 + dx, y1 + dy, x2 + dx, y2 + dy]



@contextmanager
def running_portal(sway: HeadlessSway, log: Path, decline: bool = False, shortcuts: bool = True) -> Iterator[Path]:
    """A private session bus, PipeWire and WirePlumber, and the FAKE desktop portal (tests/portal_fake.py)
    over `sway` (with GlobalShortcuts unless `shortcuts` is False, as xdg-desktop-portal-wlr); while it runs
    this process's DBUS_SESSION_BUS_ADDRESS is that bus and the agent is told to use the portal backend.
    Yields the folder the restore token is kept in (the data folder to use)."""
    missing = [tool for tool in ("pipewire", "wireplumber", "pw-dump", "gst-launch-1.0", "dbus-daemon")
               if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the portal backend's tests need {', '.join(missing)} (packaging/debian-packages-suite.txt)")
    base = Path(tempfile.mkdtemp(prefix="desktop-agent-portal-"))
    runtime = base / "runtime"
    runtime.mkdir(mode=0o700)
    env = sway.client_env()
    env.update(PIPEWIRE_RUNTIME_DIR=str(runtime), XDG_RUNTIME_DIR=str(runtime))
    procs: list[subprocess.Popen[bytes]] = []
    bus = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
                         env=env, capture_output=True, text=True, check=True).stdout.split()
    address, bus_pid = bus[0], int(bus[1])
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    old = {k: os.environ.get(k) for k in ("DBUS_SESSION_BUS_ADDRESS", "DESKTOP_AGENT_BACKEND")}
    try:
        with (base / "daemons.log").open("wb") as out:
            procs.append(subprocess.Popen(["pipewire"], env=env, stdout=out, stderr=out, start_new_session=True))
            _await_path(runtime / "pipewire-0")
            procs.append(subprocess.Popen(["wireplumber"], env=env, stdout=out, stderr=out, start_new_session=True))
            procs.append(subprocess.Popen([sys.executable, "-m", "tests.portal_fake", str(log),
                                           *(["--decline"] if decline else []),
                                           *([] if shortcuts else ["--no-shortcuts"])],
                                          env=env, stdout=out, stderr=out, start_new_session=True,
                                          cwd=Path(__file__).resolve().parents[1]))
        deadline = time.monotonic() + 20
        while not (log.exists() and '"ready"' in log.read_text(encoding="utf-8")):
            if time.monotonic() > deadline or procs[-1].poll() is not None:
                raise AssertionError(f"the fake portal did not start: {(base / 'daemons.log').read_text()[-800:]}")
            time.sleep(0.1)
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
        os.environ["DESKTOP_AGENT_BACKEND"] = "portal"
        yield base
    finally:
        restore_environ(old)
        for p in reversed(procs):
            stop_process(p)
        with contextlib.suppress(ProcessLookupError):
            os.kill(bus_pid, signal.SIGTERM)
        shutil.rmtree(base, ignore_errors=True)


def _await_path(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear")
        time.sleep(0.05)
