"""An X server whose RandR reports several monitors, as a multi-monitor desktop's does: Xorg with the dummy
video driver (Debian's xserver-xorg-video-dummy), one of its outputs (DUMMY0, DUMMY1, ...) driving each
monitor with a mode of the monitor's size at the monitor's place, so RandR, Xinerama, the window manager,
the apps and `MssScreen`'s RandR 1.5 path all see the monitors. Xvfb cannot stand in: it has one output
and drops RandR 1.5 monitors set on it. X11 has no negative coordinates or per-monitor scale, so a layout
starts at 0,0 and has one scale."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from desktop_agent.capture.virtual_display import stop_process
from desktop_agent.errors import MonitorLayoutError, NoDisplayError
from desktop_agent.geometry import ScreenLayout

DUMMY_DRIVER = Path("/usr/lib/xorg/modules/drivers/dummy_drv.so")

_CONFIG = """Section "ServerFlags"
  Option "AutoAddDevices" "false"
  Option "AutoAddGPU" "false"
  Option "DontVTSwitch" "true"
EndSection
Section "Device"
  Identifier "dummy"
  Driver "dummy"
  VideoRam {video_kb}
EndSection
Section "Monitor"
  Identifier "monitor"
  HorizSync 5.0-1000.0
  VertRefresh 5.0-200.0
EndSection
Section "Screen"
  Identifier "screen"
  Device "dummy"
  Monitor "monitor"
  DefaultDepth 24
  SubSection "Display"
    Depth 24
    Virtual {width} {height}
  EndSubSection
EndSection
"""


def dummy_available() -> bool:
    """Whether Xorg and its dummy video driver are installed."""
    return shutil.which("Xorg") is not None and DUMMY_DRIVER.exists() and shutil.which("xrandr") is not None


def _mode_timings(w: int, h: int) -> list[str]:
    """A 60 Hz mode of this size, as `xrandr --newmode` takes it (the dummy driver shows nothing, so any
    timings in its range will do)."""
    hb, vb = 160, 30
    clock = (w + hb) * (h + vb) * 60 / 1e6
    return [f"{clock:.2f}", *(str(v) for v in (w, w + 48, w + 80, w + hb, h, h + 3, h + 9, h + vb)), "+hsync", "-vsync"]


def _mm(px: int) -> int:
    return round(px * 25.4 / 96)


@dataclass
class MonitorDisplay:
    """A running Xorg dummy server with these RandR monitors; stopped by its handle."""

    proc: subprocess.Popen[bytes]
    display: str
    folder: Path

    @staticmethod
    def start(layout: ScreenLayout) -> MonitorDisplay:
        """Start an Xorg server with the dummy driver and one output per monitor of `layout`."""
        if not dummy_available():
            raise NoDisplayError("real monitors need Xorg's dummy driver and xrandr: install the Debian packages "
                                 "xserver-xorg-video-dummy and x11-xserver-utils")
        mons = layout.monitors
        if any(m.left < 0 or m.top < 0 for m in mons):
            raise MonitorLayoutError("X11 monitors start at 0,0: put the leftmost and topmost monitor there")
        if len({m.scale for m in mons}) > 1:
            raise MonitorLayoutError("an X11 screen has one scale for all its monitors")
        _, _, width, height = layout.bounds()
        folder = Path(tempfile.mkdtemp(prefix="xorg-dummy-"))
        (folder / "xorg.conf").write_text(_CONFIG.format(video_kb=max(65536, width * height * 4 // 1024 + 8192),
                                                         width=width, height=height), encoding="utf-8")
        (folder / "conf.d").mkdir()
        r, w = os.pipe()
        proc = subprocess.Popen(
            ["Xorg", "-displayfd", str(w), "-config", str(folder / "xorg.conf"), "-configdir", str(folder / "conf.d"),
             "-noreset", "-nolisten", "tcp", "-novtswitch", "-sharevts", "-logfile", str(folder / "xorg.log")],
            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(w)
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number:
            stop_process(proc)
            log = (folder / "xorg.log").read_text(errors="replace")[-400:] if (folder / "xorg.log").exists() else ""
            shutil.rmtree(folder, ignore_errors=True)
            raise NoDisplayError(f"Xorg with the dummy driver did not start: {' '.join(log.split())}")
        display = MonitorDisplay(proc, f":{number}", folder)
        try:
            display._set_monitors(layout)
        except BaseException:
            display.stop()
            raise
        return display

    def _xrandr(self, *args: str) -> str:
        r = subprocess.run(["xrandr", *args], env={**os.environ, "DISPLAY": self.display}, capture_output=True,
                           text=True, timeout=15)
        if r.returncode != 0:
            raise MonitorLayoutError(f"xrandr {' '.join(args)}: {' '.join(r.stderr.split())[:300]}")
        return r.stdout

    def _set_monitors(self, layout: ScreenLayout) -> None:
        outputs = [line.split()[0] for line in self._xrandr().splitlines() if line.startswith("DUMMY")]
        if len(outputs) < len(layout.monitors):
            raise MonitorLayoutError(f"the dummy driver has {len(outputs)} outputs, the layout {len(layout.monitors)} "
                                     "monitors")
        made: set[str] = set()
        args: list[str] = []
        for m, output in zip(layout.monitors, outputs, strict=False):
            mode = f"{m.width}x{m.height}_60"
            if mode not in made:
                self._xrandr("--newmode", mode, *_mode_timings(m.width, m.height))
                made.add(mode)
            self._xrandr("--addmode", output, mode)
            args += ["--output", output, "--mode", mode, "--pos", f"{m.left}x{m.top}", *(["--primary"] if m.primary
                                                                                        else [])]
        _, _, width, height = layout.bounds()
        self._xrandr("--fb", f"{width}x{height}", *args)
        got = self._xrandr("--listmonitors")
        if got.count("\n") - 1 != len(layout.monitors):
            raise MonitorLayoutError(f"RandR did not take the monitors: {' '.join(got.split())}")

    def stop(self) -> None:
        """Stop the server and remove its files."""
        stop_process(self.proc)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> MonitorDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
