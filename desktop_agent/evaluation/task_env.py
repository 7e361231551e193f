"""A fresh desktop for one task: its own Xvfb display, a window manager (openbox), a fresh home folder with
the task's files, and the task's applications started and placed. Everything is stopped by its handle."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from desktop_agent.capture.virtual_display import VirtualDisplay, stop_process
from desktop_agent.errors import AgentError
from desktop_agent.evaluation.task_suite import TaskSpec


def mapped_windows(display: str) -> list[tuple[Any, str]]:
    """Mapped client windows (title, window), children of openbox frames included."""
    from Xlib import X
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    net_name, utf8 = d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING")
    out = []
    try:
        def title(w: Any) -> str | None:
            # EWMH's UTF-8 title first: some apps (Chromium) set WM_NAME in a type python-xlib skips.
            prop = w.get_full_property(net_name, utf8)
            if prop is not None and prop.value:
                value = prop.value
                return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            name = w.get_wm_name()
            return str(name) if name else None

        def walk(w: Any, depth: int) -> None:
            try:
                name = title(w)
                attrs = w.get_attributes()
            except Exception:
                return
            if name and attrs.map_state == X.IsViewable and w.get_wm_class():
                out.append((w.id, str(name)))
            if depth < 2:
                for c in w.query_tree().children:
                    walk(c, depth + 1)
        for top in d.screen().root.query_tree().children:
            walk(top, 0)
    finally:
        d.close()
    return out


def _write_picture(path: Path, width: int, height: int) -> None:
    import cv2
    import numpy as np

    hue = sum(path.name.encode()) % 180
    hsv = np.full((height, width, 3), (hue, 90, 230), np.uint8)
    img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    cv2.putText(img, path.stem, (width // 10, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (40, 40, 40), 3)
    cv2.imwrite(str(path), img)


class TaskEnvironment:
    def __init__(self, task: TaskSpec) -> None:
        self.task = task
        self.xvfb: VirtualDisplay | None = None
        self.wm: subprocess.Popen[bytes] | None = None
        self.apps: list[subprocess.Popen[bytes]] = []
        self.home = Path(tempfile.mkdtemp(prefix="home-"))  # no task words on screen (title bars show paths)

    @property
    def display(self) -> str:
        assert self.xvfb is not None
        return self.xvfb.display

    def env(self) -> dict[str, str]:
        """The environment of the task's apps and of the agent: this display, this home."""
        runtime = self.home / ".runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DBUS_", "QT_QPA"))}
        env.update(DISPLAY=self.display, HOME=str(self.home), XDG_RUNTIME_DIR=str(runtime),
                   XDG_CONFIG_HOME=str(self.home / ".config"), XDG_DATA_HOME=str(self.home / ".local/share"),
                   XDG_CACHE_HOME=str(self.home / ".cache"), NO_AT_BRIDGE="1", LANG="C.UTF-8",
                   GSETTINGS_BACKEND="memory")
        env.pop("DESKTOP_AGENT_MONITORS", None)
        if self.task.monitors:
            env["DESKTOP_AGENT_MONITORS"] = self.task.monitors
        return env

    def __enter__(self) -> TaskEnvironment:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        for f in self.task.files:
            p = self.home / f.path
            if f.image is not None:
                p.parent.mkdir(parents=True, exist_ok=True)
                _write_picture(p, *f.image)
                continue
            if f.text is None and f.lines is None:
                p.mkdir(parents=True, exist_ok=True)
                continue
            p.parent.mkdir(parents=True, exist_ok=True)
            text = f.text if f.text is not None else "".join(f"line {i:03d}\n" for i in range(1, (f.lines or 0) + 1))
            p.write_text(text, encoding="utf-8")
        self.xvfb = VirtualDisplay.start(self.task.screen)
        env = self.env()
        if shutil.which("openbox") is None:
            raise AgentError("the task suite needs openbox (scripts/setup.sh --test installs it)")
        self.wm = subprocess.Popen(["openbox", "--sm-disable"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(0.4)
        for app in self.task.apps:
            cmd = [c.replace("{home}", str(self.home)) for c in app.cmd]
            if shutil.which(cmd[0]) is None:
                raise AgentError(f"task {self.task.name}: {cmd[0]} is not installed")
            proc = subprocess.Popen(cmd, env=env, cwd=self.home, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            self.apps.append(proc)
            wid = self._wait_for_window(app.window, proc)
            if app.geometry:
                x, y, w, h = app.geometry
                subprocess.run(["xdotool", "windowsize", str(wid), str(w), str(h), "windowmove", str(wid), str(x),
                                str(y)], env=env, check=False, timeout=10)
            subprocess.run(["xdotool", "windowactivate", "--sync", str(wid)], env=env, check=False, timeout=10,
                           stderr=subprocess.DEVNULL)
        time.sleep(0.8)  # let the windows paint before the first capture

    def _wait_for_window(self, title: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for wid, name in mapped_windows(self.display):
                if title in name:
                    return int(wid)
            if proc.poll() is not None:
                raise AgentError(f"task {self.task.name}: {proc.args!r} exited before showing {title!r}")
            time.sleep(0.1)
        raise AgentError(f"task {self.task.name}: no window titled {title!r} within {timeout:g} s")

    def window_titles(self) -> list[str]:
        return [name for _, name in mapped_windows(self.display)]

    def clipboard(self) -> str:
        r = subprocess.run(["xclip", "-o", "-selection", "clipboard"], env=self.env(), capture_output=True,
                           timeout=10)
        return r.stdout.decode("utf-8", "replace") if r.returncode == 0 else ""

    def stop(self) -> None:
        for proc in self.apps:
            stop_process(proc)
        self.apps = []
        if self.wm is not None:
            stop_process(self.wm)
            self.wm = None
        if self.xvfb is not None:
            self.xvfb.stop()
            self.xvfb = None

    def cleanup(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)
