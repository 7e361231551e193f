"""A task's desktop on Wayland, for `eval tasks --session wayland`: a headless wlroots compositor (sway, see
`capture/headless_wayland.py`) with the task's screen or monitors as its outputs, at the task's scale (the
compositor scales; the apps are told nothing else, as on a scaled Wayland desktop), no XWayland, and the
task's apps started as native Wayland clients: GTK through `GDK_BACKEND=wayland`, Qt through
`QT_QPA_PLATFORM=wayland` (Debian's qtwayland5 / qt6-wayland), Chromium with `--ozone-platform=wayland`.
An app that cannot open a Wayland window (GTK 2, Xlib: X11 only) ends before showing one: the task is
skipped, never counted as the agent's failure. The agent runs in the same session and picks its wlroots
backend (screencopy through grim, virtual pointer and keyboard). Windows are placed and focused through
sway's IPC; the clipboard is read with wl-paste."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from desktop_agent.capture.headless_wayland import HeadlessOutput, HeadlessSway
from desktop_agent.errors import AgentError, NotOnWayland
from desktop_agent.evaluation.task_env import TaskEnvironment
from desktop_agent.evaluation.task_suite import AppSpec, TaskSpec
from desktop_agent.geometry import parse_monitor_spec

CHROMIUM = frozenset({"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"})


def task_outputs(task: TaskSpec) -> list[HeadlessOutput]:
    """The compositor's outputs for a task: one per monitor of its layout, or its screen at its scale (the
    output's mode in device pixels, its position in logical units)."""
    if task.monitors:
        return [HeadlessOutput(m.width, m.height, m.scale, m.left, m.top)
                for m in parse_monitor_spec(task.monitors).monitors]
    w, h = (int(v) for v in task.screen.lower().split("x"))
    return [HeadlessOutput(round(w * task.scale), round(h * task.scale), task.scale)]


def native_command(cmd: list[str]) -> list[str]:
    """An app's command line as a native Wayland client (Chromium takes it as a flag, not from the environment)."""
    if Path(cmd[0]).name in CHROMIUM and not any(a.startswith("--ozone-platform") for a in cmd):
        return [cmd[0], "--ozone-platform=wayland", *cmd[1:]]
    return cmd


class WaylandTaskEnvironment(TaskEnvironment):
    """One task's desktop on a headless sway; apps as native Wayland clients."""

    def __init__(self, task: TaskSpec, private_tmp: bool | None = None) -> None:
        super().__init__(task, private_tmp)
        self.sway: HeadlessSway | None = None
        self.scale = 1.0  # the compositor scales the outputs; apps get no toolkit scale of their own

    @property
    def display(self) -> str:
        """The compositor's socket (WAYLAND_DISPLAY)."""
        assert self.sway is not None
        return str(self.sway.socket)

    def env(self) -> dict[str, str]:
        """The environment of the task's apps and of the agent: this compositor (no X11 DISPLAY), this home."""
        assert self.sway is not None
        env = super().env()
        env.pop("DISPLAY", None)
        env.update(WAYLAND_DISPLAY=str(self.sway.socket), SWAYSOCK=str(self.sway.ipc), XDG_SESSION_TYPE="wayland",
                   GDK_BACKEND="wayland", QT_QPA_PLATFORM="wayland")
        return env

    def kept_paths(self) -> list[str]:
        """The compositor's folder (its socket), kept inside the apps' private /tmp."""
        assert self.sway is not None
        return [str(self.sway.runtime.parent)]

    def start(self) -> None:
        """The task's files, the compositor with the task's outputs, a D-Bus bus and the apps."""
        self._write_files()
        # Title bars as sway draws them on a desktop: a task may name a window by its title.
        self.sway = HeadlessSway.start(task_outputs(self.task), titles=True)
        self._start_bus()
        env = self.env()
        for app in self.task.apps:
            self._start_app(app, env)
        time.sleep(0.8)  # let the windows paint before the first capture

    def _start_app(self, app: AppSpec, env: dict[str, str]) -> None:
        """One app as a native Wayland client, its window placed (logical units) and focused through sway."""
        assert self.sway is not None
        cmd = native_command([c.replace("{home}", str(self.home)) for c in app.cmd])
        if shutil.which(cmd[0]) is None:
            raise AgentError(f"task {self.task.name}: {cmd[0]} is not installed")
        app_env = {**env, **{k: v.replace("{home}", str(self.home)) for k, v in app.env.items()}}
        if self.private_tmp and "TMPDIR" not in app.env:
            app_env["TMPDIR"] = "/tmp"
        log = self.home / ".runtime" / f"app-{len(self.apps)}.log"  # what it said, should it end before a window
        with log.open("wb") as err:
            proc = subprocess.Popen(self.app_command(cmd), env=app_env, cwd=self.home, stdout=subprocess.DEVNULL,
                                    stderr=err, start_new_session=True)
        self.apps.append(proc)
        con = self._wait_for_wayland_window(app.window, proc, cmd, log)
        place = [f"[con_id={con}]", "floating", "enable"]
        if app.geometry:
            x, y, w, h = (round(v) for v in app.geometry)
            place += [",", "resize", "set", str(w), "px", str(h), "px", ",", "move", "absolute", "position", str(x),
                      str(y)]
        self.sway.swaymsg(*place, ",", "focus")
        time.sleep(0.3)  # the client redraws at its new size

    def _wait_for_wayland_window(self, title: str, proc: subprocess.Popen[bytes], cmd: list[str], log: Path,
                                 timeout: float = 30.0) -> int:
        """The sway container id of the app's window titled `title`; NotOnWayland when the app ends first."""
        assert self.sway is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for w in self.sway.windows():
                if title in str(w.get("name") or ""):
                    return int(w["id"])
            if proc.poll() not in (None, 0):
                why = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
                raise NotOnWayland(f"{Path(cmd[0]).name} opens no native Wayland window (X11 only; this session "
                                   f"has no XWayland){': ' + why[-1][:120] if why else ''}")
            time.sleep(0.1)
        raise AgentError(f"task {self.task.name}: no Wayland window titled {title!r} within {timeout:g} s")

    def window_titles(self) -> list[str]:
        """The titles of the windows on the compositor."""
        return [str(w.get("name") or "") for w in self.sway.windows()] if self.sway is not None else []

    def clipboard(self) -> str:
        """The text on the session's clipboard (wl-paste)."""
        r = subprocess.run(["wl-paste", "--no-newline"], env=self.env(), capture_output=True, timeout=10)
        return r.stdout.decode("utf-8", "replace") if r.returncode == 0 else ""

    def stop(self) -> None:
        """Stop the apps, the bus and the compositor."""
        try:
            super().stop()
        finally:
            if self.sway is not None:
                self.sway.stop()
                self.sway = None
