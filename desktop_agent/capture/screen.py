"""The `Screen` protocol: what the agent needs from a display, and the real mss-backed implementation."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

import numpy as np

from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.errors import NoDisplayError
from desktop_agent.geometry import FrameGeometry, Monitor, ScreenLayout, parse_monitor_spec

MONITORS_ENV = "DESKTOP_AGENT_MONITORS"


@runtime_checkable
class Screen(Protocol):
    """Yields frames with their geometry. Swap in a fake (or a ScaledScreen) without patching."""

    def layout(self) -> ScreenLayout: ...

    def grab(self, monitor: Monitor) -> ScreenFrame: ...


def check_display() -> None:
    """Raise NoDisplayError early, with the fix, where no display can be reached."""
    if sys.platform.startswith("linux"):
        if not os.environ.get("DISPLAY"):
            if os.environ.get("WAYLAND_DISPLAY"):
                raise NoDisplayError("Wayland without XWayland's DISPLAY is not supported; set DISPLAY")
            raise NoDisplayError("DISPLAY is not set")
        try:
            from Xlib import display as xdisplay

            xdisplay.Display().close()
        except Exception as exc:
            raise NoDisplayError(f"cannot open {os.environ.get('DISPLAY')}: {exc}") from exc


def _x11_randr_monitors() -> list[Monitor]:
    """RandR 1.5 monitors (what desktop environments use, splits included); empty if unavailable."""
    try:
        from Xlib import display as xdisplay
        from Xlib.ext import randr
    except ImportError:
        return []
    d = xdisplay.Display()
    try:
        if not d.has_extension("RANDR"):
            return []
        reply = randr.get_monitors(d.screen().root, True)
        out = []
        for i, m in enumerate(reply.monitors):
            out.append(
                Monitor(i + 1, int(m.x), int(m.y), int(m.width_in_pixels), int(m.height_in_pixels), 1.0,
                        bool(m.primary), d.get_atom_name(m.name))
            )
        return out
    except Exception:
        return []
    finally:
        d.close()


class MssScreen:
    """Captures with mss. The layout comes from DESKTOP_AGENT_MONITORS if set, else RandR monitors on
    X11, else mss's own list. Scale is measured per capture (captured pixels / desktop units)."""

    def __init__(self, monitors_spec: str | None = None) -> None:
        check_display()
        self._spec = monitors_spec if monitors_spec is not None else os.environ.get(MONITORS_ENV)
        self._local = threading.local()

    def _mss(self) -> Any:
        # mss handles are bound to the thread that made them (an X connection on Linux).
        sct = getattr(self._local, "sct", None)
        if sct is None:
            import mss

            try:
                sct = mss.MSS() if hasattr(mss, "MSS") else mss.mss()
            except Exception as exc:
                raise NoDisplayError(str(exc)) from exc
            self._local.sct = sct
        return sct

    def layout(self) -> ScreenLayout:
        if self._spec:
            return parse_monitor_spec(self._spec)
        monitors: list[Monitor] = []
        if sys.platform.startswith("linux"):
            monitors = _x11_randr_monitors()
        if not monitors:
            for i, m in enumerate(self._mss().monitors[1:]):
                monitors.append(
                    Monitor(i + 1, int(m["left"]), int(m["top"]), int(m["width"]), int(m["height"]), 1.0,
                            bool(m.get("is_primary", i == 0)), str(m.get("name", m.get("output", ""))))
                )
        layout = ScreenLayout(tuple(monitors))
        if not any(m.primary for m in layout.monitors):
            layout = ScreenLayout((replace(layout.monitors[0], primary=True), *layout.monitors[1:]))
        return layout

    def grab(self, monitor: Monitor) -> ScreenFrame:
        shot = self._mss().grab(
            {"left": monitor.left, "top": monitor.top, "width": monitor.width, "height": monitor.height}
        )
        bgra = np.frombuffer(shot.bgra, dtype=np.uint8).reshape(shot.height, shot.width, 4)
        image = np.ascontiguousarray(bgra[:, :, :3])
        geom = FrameGeometry(monitor, int(shot.width), int(shot.height))
        return ScreenFrame(image, geom)

    def close(self) -> None:
        sct = getattr(self._local, "sct", None)
        if sct is not None:
            sct.close()
            self._local.sct = None
