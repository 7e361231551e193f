"""The `Screen` protocol: what the agent needs from a display, and the real mss-backed implementation."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

import numpy as np

from desktop_agent.capture.frame import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, ScreenFrame, check_image_size
from desktop_agent.config import ENV_NAMES, read_environment
from desktop_agent.errors import AgentError, MonitorLayoutError, NoDisplayError, quote
from desktop_agent.geometry import FrameGeometry, Monitor, ScreenLayout, parse_monitor_spec

MONITORS_ENV = ENV_NAMES["monitors"]

_X_CONNECTION_ERRORS = {"DisplayError", "DisplayNameError", "DisplayConnectionError", "ConnectionClosedError"}


def display_error(exc: BaseException) -> NoDisplayError | None:
    """The one-line error for a lost or unreachable X display (python-xlib's DisplayConnectionError,
    ConnectionClosedError, ...), or None when `exc` is something else."""
    if isinstance(exc, NoDisplayError):
        return exc
    if type(exc).__module__ == "Xlib.error" and type(exc).__name__ in _X_CONNECTION_ERRORS:
        where = os.environ.get("DISPLAY") or "?"
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return NoDisplayError(f"lost the connection to {where}: {detail}"
                              if type(exc).__name__ == "ConnectionClosedError" else f"cannot open {where}: {detail}")
    return None


def open_x_display() -> Any:
    """A connection to the X display; NoDisplayError when there is none."""
    from Xlib import display as xdisplay

    try:
        return xdisplay.Display()
    except Exception as exc:
        raise display_error(exc) or NoDisplayError(f"cannot open {os.environ.get('DISPLAY')}: {exc}") from None


def _check_monitor_size(m: Monitor) -> None:
    if not 0 < m.scale <= 16:
        raise MonitorLayoutError(f"monitor {m.index} has scale {m.scale:g}: give a scale above 0 and at most 16")
    w, h = round(m.width * m.scale), round(m.height * m.scale)
    why = check_image_size(w, h)
    if why:
        raise MonitorLayoutError(
            f"monitor {m.index} ({m.width}x{m.height}{f'@{m.scale:g}' if m.scale != 1 else ''}+{m.left}+{m.top}) "
            f"captures {w}x{h} pixels, more than desktop-agent reads (at most {MAX_IMAGE_SIDE} a side and "
            f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels): split it into monitors with --monitors")


@runtime_checkable
class Screen(Protocol):
    """Yields frames with their geometry. Swap in a fake (or a ScaledScreen) without patching."""

    def layout(self) -> ScreenLayout:
        """The monitors and their geometry now."""

    def grab(self, monitor: Monitor) -> ScreenFrame:
        """A capture of one monitor."""


def check_display() -> None:
    """Raise NoDisplayError early, with the fix, where no display can be reached."""
    if sys.platform.startswith("linux"):
        if not os.environ.get("DISPLAY"):
            if os.environ.get("WAYLAND_DISPLAY"):
                raise NoDisplayError("Wayland without XWayland's DISPLAY is not supported; set DISPLAY")
            raise NoDisplayError("DISPLAY is not set")
        try:
            import Xlib  # noqa: F401
        except ImportError:
            return
        open_x_display().close()


def _x11_randr_monitors() -> list[Monitor]:
    """RandR 1.5 monitors (what desktop environments use, splits included); empty if unavailable."""
    try:
        from Xlib.ext import randr
    except ImportError:
        return []
    d = open_x_display()
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
    except Exception as exc:
        lost = display_error(exc)
        if lost:
            raise lost from None
        return []
    finally:
        with contextlib.suppress(Exception):  # the connection may already be gone
            d.close()


class MssScreen:
    """Captures with mss. The layout comes from DESKTOP_AGENT_MONITORS if set, else RandR monitors on
    X11, else mss's own list. Scale is measured per capture (captured pixels / desktop units)."""

    def __init__(self, monitors_spec: str | None = None) -> None:
        check_display()
        self._spec = monitors_spec if monitors_spec is not None else read_environment().monitors
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
        """The monitors; MonitorLayoutError for an explicit layout that leaves the real screen or a monitor
        larger than the image bound, before anything is captured."""
        if self._spec:
            try:
                layout = parse_monitor_spec(self._spec)
            except ValueError:  # a scale such as `@.` that matches the pattern but is no number
                raise MonitorLayoutError(f"bad monitor layout {quote(self._spec)}: expected "
                                         "WIDTHxHEIGHT[@SCALE]+LEFT+TOP[*], e.g. 1920x1080+0+0*") from None
            self._check_inside_screen(layout)
            for m in layout.monitors:
                _check_monitor_size(m)
            return layout
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
        for m in layout.monitors:
            _check_monitor_size(m)
        return layout

    def _check_inside_screen(self, layout: ScreenLayout) -> None:
        """Every monitor of an explicit layout must lie on the display's real screen (mss's union of all
        monitors): capturing outside it fails in the X server."""
        real = self._mss().monitors[0]
        left, top, width, height = (int(real[k]) for k in ("left", "top", "width", "height"))
        for m in layout.monitors:
            if m.width <= 0 or m.height <= 0:
                raise MonitorLayoutError(f"monitor {m.index} of the layout is {m.width}x{m.height}: give it a size")
            if m.left < left or m.top < top or m.left + m.width > left + width or m.top + m.height > top + height:
                raise MonitorLayoutError(
                    f"monitor {m.index} of the layout ({m.width}x{m.height}+{m.left}+{m.top}) lies outside the "
                    f"screen ({width}x{height}+{left}+{top}): fix --monitors or {MONITORS_ENV} "
                    f"(`desktop-agent doctor` shows the screen)")

    def grab(self, monitor: Monitor) -> ScreenFrame:
        """A capture of one monitor (BGR pixels with its geometry)."""
        _check_monitor_size(monitor)
        try:
            shot = self._mss().grab(
                {"left": monitor.left, "top": monitor.top, "width": monitor.width, "height": monitor.height}
            )
        except AgentError:
            raise
        except Exception as exc:
            lost = display_error(exc)
            if lost:
                raise lost from None
            if type(exc).__name__ != "ScreenShotError":
                raise
            raise AgentError(f"cannot capture monitor {monitor.index} ({monitor.width}x{monitor.height}+"
                             f"{monitor.left}+{monitor.top}): {' '.join(str(exc).split())[:200]}") from None
        why = check_image_size(int(shot.width), int(shot.height))
        if why:
            raise MonitorLayoutError(f"the capture of monitor {monitor.index}: {why}")
        bgra = np.frombuffer(shot.bgra, dtype=np.uint8).reshape(shot.height, shot.width, 4)
        image = np.ascontiguousarray(bgra[:, :, :3])
        geom = FrameGeometry(monitor, int(shot.width), int(shot.height))
        return ScreenFrame(image, geom)

    def close(self) -> None:
        """Release this thread's capture handle."""
        sct = getattr(self._local, "sct", None)
        if sct is not None:
            sct.close()
            self._local.sct = None
