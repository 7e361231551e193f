"""A headless wlroots compositor (sway) started and stopped by its own handle, for tests and benches.

sway refuses to run as root: as root it runs as an unprivileged user (nobody by default) with a runtime
folder of its own; root still reaches its sockets. Clients get WAYLAND_DISPLAY as the socket's absolute path
and a runtime folder of their own (`client_env`). Outputs are headless, each with its size, scale and
position in the compositor's logical layout.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_agent.errors import NoDisplayError

UNPRIVILEGED = 65534  # nobody/nogroup: sway's user when started by root


@dataclass(frozen=True)
class HeadlessOutput:
    """One headless output: its mode in device pixels, its scale, and its logical position."""

    width: int
    height: int
    scale: float = 1.0
    left: int = 0
    top: int = 0


def missing_packages() -> list[str]:
    """The Debian packages a headless sway with the wlroots backend needs that are not installed."""
    need = {"sway": "sway", "swaymsg": "sway", "grim": "grim"}
    out = sorted({pkg for tool, pkg in need.items() if shutil.which(tool) is None})
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        out.append("util-linux")
    return out


def _config(outputs: list[HeadlessOutput], titles: bool = False) -> str:
    """sway's configuration: the outputs, every window floating, no XWayland; `titles`: each window gets the
    title bar sway draws on a desktop (its default), else none (tests that place the content exactly)."""
    border = "normal" if titles else "none"
    lines = ["xwayland disable", f"default_border {border}", f"default_floating_border {border}",
             "focus_follows_mouse no", "for_window [app_id=\".*\"] floating enable"]
    for i, o in enumerate(outputs, 1):
        lines.append(f"output HEADLESS-{i} mode {o.width}x{o.height} scale {o.scale:g} position {o.left} {o.top}")
    return "\n".join(lines) + "\n"


@dataclass
class HeadlessSway:
    """A running headless sway: its process (its own process group), sockets and folders."""

    proc: subprocess.Popen[bytes]
    runtime: Path  # sway's XDG_RUNTIME_DIR
    client_runtime: Path  # the clients'
    socket: Path
    ipc: Path
    log: Path
    _stopped: bool = field(default=False, repr=False)

    @staticmethod
    def start(outputs: list[HeadlessOutput] | None = None, timeout: float = 20.0,
              titles: bool = False) -> HeadlessSway:
        """Start sway with these outputs (one 1280x800 by default) and wait until its sockets answer;
        `titles`: windows get sway's title bars."""
        missing = missing_packages()
        if missing:
            raise NoDisplayError(f"a headless Wayland compositor needs the Debian packages {', '.join(missing)}")
        outputs = outputs or [HeadlessOutput(1280, 800)]
        base = Path(tempfile.mkdtemp(prefix="desktop-agent-sway-"))
        runtime, client_runtime = base / "sway", base / "client"
        runtime.mkdir(mode=0o700)
        client_runtime.mkdir(mode=0o700)
        config, log = runtime / "config", base / "sway.log"
        config.write_text(_config(outputs, titles), encoding="utf-8")
        cmd = ["sway", "-c", str(config)]
        if os.geteuid() == 0:
            os.chmod(base, 0o755)
            os.chown(runtime, UNPRIVILEGED, UNPRIVILEGED)
            os.chown(config, UNPRIVILEGED, UNPRIVILEGED)
            cmd = ["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups", *cmd]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(runtime), "XDG_RUNTIME_DIR": str(runtime),
               "WLR_BACKENDS": "headless", "WLR_LIBINPUT_NO_DEVICES": "1", "WLR_RENDERER": "pixman",
               "WLR_HEADLESS_OUTPUTS": str(len(outputs))}
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sockets = [p for p in runtime.glob("wayland-*") if not p.name.endswith(".lock")]
            ipcs = list(runtime.glob("sway-ipc.*.sock"))
            if sockets and ipcs:
                sway = HeadlessSway(proc, runtime, client_runtime, sockets[0], ipcs[0], log)
                try:
                    if len(sway.outputs()) == len(outputs):
                        return sway
                except (subprocess.CalledProcessError, json.JSONDecodeError):
                    pass
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        text = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        HeadlessSway(proc, runtime, client_runtime, Path(), Path(), log).stop()
        raise NoDisplayError(f"headless sway did not start: {' '.join(text.split())[-600:]}")

    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment for Wayland clients of this compositor (no X11 DISPLAY: they must be native)."""
        env = dict(os.environ if base is None else base)
        env.pop("DISPLAY", None)
        env.update(WAYLAND_DISPLAY=str(self.socket), XDG_RUNTIME_DIR=str(self.client_runtime),
                   SWAYSOCK=str(self.ipc), XDG_SESSION_TYPE="wayland")
        return env

    def swaymsg(self, *args: str) -> Any:
        """Run a sway command (or `-t TYPE`) over its IPC socket; the JSON answer."""
        done = subprocess.run(["swaymsg", "-s", str(self.ipc), "-r", *args], capture_output=True, timeout=10,
                              check=True)
        return json.loads(done.stdout)

    def outputs(self) -> list[dict[str, Any]]:
        """sway's own report of its outputs (get_outputs)."""
        result: list[dict[str, Any]] = self.swaymsg("-t", "get_outputs")
        return result

    def windows(self) -> list[dict[str, Any]]:
        """Every window (a node with an app_id or X11 window) in sway's tree, with its rect."""
        found: list[dict[str, Any]] = []

        def walk(node: dict[str, Any]) -> None:
            if node.get("app_id") is not None or node.get("window") is not None:
                found.append(node)
            for child in node.get("nodes", []) + node.get("floating_nodes", []):
                walk(child)

        walk(self.swaymsg("-t", "get_tree"))
        return found

    def stop(self) -> None:
        """Stop sway and everything in its process group, and remove its folders."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        shutil.rmtree(self.runtime.parent, ignore_errors=True)

    def __enter__(self) -> HeadlessSway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
