"""Which display backend this session gets, chosen at start from the session, with the reason and what is
missing: X11 (mss + XTEST); a wlroots Wayland compositor (screencopy + virtual pointer/keyboard); or, on any
other Wayland desktop (GNOME, KDE Plasma), the xdg-desktop-portal (RemoteDesktop with ScreenCast: the desktop
asks the person once which screens to share and whether to allow control; `capture/portal.py`).

`DESKTOP_AGENT_BACKEND=x11|wlroots|portal` forces one. A Wayland session with neither a wlroots compositor nor
a usable portal falls back to XWayland when DISPLAY is set: the agent then sees and drives only X11 windows,
which it says.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from desktop_agent.config import ENV_NAMES, read_environment
from desktop_agent.errors import MonitorLayoutError, NoDisplayError

BACKEND_ENV = ENV_NAMES["backend"]
BACKENDS = ("x11", "wlroots", "portal")

# What a missing part of the wlroots backend is, and where it comes from.
_TOOLS = {"grim": "grim (Debian/Ubuntu/Fedora package grim; captures wlroots outputs)"}


@dataclass(frozen=True)
class Session:
    """The session type, the backend chosen for it, why, and what would be needed for a better one."""

    kind: str  # "x11", "wayland", "native" (Windows, macOS), "none"
    backend: str  # "x11", "wlroots", "portal", "native", "none"
    reason: str
    missing: tuple[str, ...] = field(default=())
    compositor_globals: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """One line for logs and doctor."""
        need = f"; missing: {', '.join(self.missing)}" if self.missing else ""
        return f"session {self.kind}, backend {self.backend}: {self.reason}{need}"


def _wlroots_missing(env: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(what the wlroots backend lacks here, the compositor's global interfaces), connecting to it."""
    missing: list[str] = []
    try:
        import pywayland  # noqa: F401
    except ImportError:
        return ["the Python package pywayland (Apache-2.0): pip install pywayland"], []
    from desktop_agent.capture.wayland import WaylandConnection, wayland_socket

    socket = wayland_socket(env)
    if not socket:
        return ["WAYLAND_DISPLAY (the compositor's socket) is not set"], []
    try:
        conn = WaylandConnection(socket)
    except NoDisplayError:
        return [f"a Wayland compositor answering at {socket} (cannot connect)"], []
    try:
        names = sorted(conn.globals)
        lacking = conn.missing()
    finally:
        conn.close()
    if lacking:
        missing.append(f"the compositor's {', '.join(lacking)} (it is not wlroots-based)")
    missing += [why for tool, why in _TOOLS.items() if shutil.which(tool) is None]
    return missing, names


def detect_session(environ: Mapping[str, str] | None = None) -> Session:
    """The session and its backend, from DESKTOP_AGENT_BACKEND, XDG_SESSION_TYPE, WAYLAND_DISPLAY and DISPLAY
    (and, for Wayland, what the compositor offers)."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return Session("native", "native", f"{sys.platform}: the platform's own capture and input")
    forced = (read_environment(env).backend or "").strip().lower()
    kind, x11 = session_kind(env)
    if forced and forced not in BACKENDS:
        raise NoDisplayError(f"{BACKEND_ENV}={forced!r}: give one of {', '.join(BACKENDS)}")
    if forced == "x11" or (not forced and kind == "x11"):
        why = f"{BACKEND_ENV}=x11" if forced else "an X11 session (DISPLAY)"
        return Session(kind, "x11", why)
    if kind == "none" and not forced:
        return Session("none", "none", "neither WAYLAND_DISPLAY nor DISPLAY is set")
    if forced == "portal":
        return _forced_portal(env, kind)
    missing, names = _wlroots_missing(env)
    if not missing:
        why = f"{BACKEND_ENV}=wlroots" if forced else "a wlroots Wayland compositor (wlr-screencopy, virtual pointer)"
        return Session(kind, "wlroots", why, (), tuple(names))
    return _without_wlroots(env, kind, forced, x11, missing, names)


def session_kind(env: Mapping[str, str]) -> tuple[str, bool]:
    """The session's kind (wayland, x11 or none) and whether it has an X display (DISPLAY, XWayland too)."""
    wayland = bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"
    x11 = bool(env.get("DISPLAY"))
    return ("wayland" if wayland and env.get("XDG_SESSION_TYPE") != "x11" else ("x11" if x11 else "none")), x11


def _forced_portal(env: Mapping[str, str], kind: str) -> Session:
    lacking = _portal_missing(env)
    if lacking:
        return Session(kind, "none", f"{BACKEND_ENV}=portal but the backend cannot run", tuple(lacking))
    return Session(kind, "portal", f"{BACKEND_ENV}=portal")


def _portal_missing(env: Mapping[str, str]) -> list[str]:
    """What the portal backend lacks here: the portal's interfaces on the session bus, GStreamer's tools."""
    from desktop_agent.capture.pipewire_frames import missing_tools
    from desktop_agent.capture.portal import portal_offers

    offers, why = portal_offers(env)
    return ([] if offers else [f"the desktop portal's RemoteDesktop and ScreenCast ({why})"]) + missing_tools()


def _without_wlroots(env: Mapping[str, str], kind: str, forced: str, x11: bool, missing: list[str],
                     names: list[str]) -> Session:
    """A Wayland session whose compositor cannot run the wlroots backend: the desktop's portal where it offers
    remote desktop and screen cast (GNOME, KDE Plasma), else XWayland where there is one."""
    if forced == "wlroots":
        return Session(kind, "none", f"{BACKEND_ENV}=wlroots but the backend cannot run", tuple(missing), tuple(names))
    lacking = _portal_missing(env)
    if not lacking:
        return Session(kind, "portal", "the desktop portal's RemoteDesktop and ScreenCast (the desktop asks once "
                       "which screens to share)", (), tuple(names))
    missing = missing + lacking
    if x11:
        return Session(kind, "x11", "XWayland (DISPLAY): only X11 windows can be seen and driven, as neither the "
                       "wlroots nor the portal backend can run", tuple(missing), tuple(names))
    return Session(kind, "none", "a Wayland session without a usable backend and without XWayland",
                   tuple(missing), tuple(names))


def _unusable(session: Session) -> NoDisplayError:
    need = f": missing {'; '.join(session.missing)}" if session.missing else ""
    return NoDisplayError(f"no display backend ({session.reason}){need}")


def check_display(session: Session | None = None) -> Session:
    """Raise NoDisplayError early, with the fix, where this session has no usable backend; else the session."""
    session = session or detect_session()
    if session.backend in ("wlroots", "portal", "native"):
        return session
    if session.backend == "none" and session.kind == "wayland":
        raise _unusable(session)
    from desktop_agent.capture import screen

    screen.check_display()
    return session


def default_screen(monitors_spec: str | None = None, session: Session | None = None) -> Any:
    """The `Screen` for this session: MssScreen on X11, WlrootsScreen on a wlroots compositor, PortalScreen
    through the desktop portal."""
    session = session or detect_session()
    if session.backend == "portal":
        if monitors_spec:
            raise MonitorLayoutError("--monitors is for X11: the desktop portal reports the shared monitors' "
                                     "layout and scale")
        from desktop_agent.capture.portal_screen import PortalScreen

        return PortalScreen()
    if session.backend == "wlroots":
        if monitors_spec:
            raise MonitorLayoutError("--monitors is for X11: a wlroots compositor reports its outputs' exact "
                                     "layout and scale")
        from desktop_agent.capture.wayland import WlrootsScreen

        return WlrootsScreen()
    if session.backend == "none" and session.kind == "wayland":
        raise _unusable(session)
    from desktop_agent.capture.screen import MssScreen

    return MssScreen(monitors_spec)


def default_driver(session: Session | None = None) -> Any:
    """The `InputDriver` for this session: pyautogui on X11, virtual pointer/keyboard on wlroots, the portal's
    remote desktop through the desktop portal."""
    session = session or detect_session()
    if session.backend == "portal":
        from desktop_agent.execution.portal_input import PortalDriver

        return PortalDriver()
    if session.backend == "wlroots":
        from desktop_agent.execution.wayland_input import WlrootsDriver

        return WlrootsDriver()
    if session.backend == "none" and session.kind == "wayland":
        raise _unusable(session)
    from desktop_agent.execution.input_driver import PyAutoGuiDriver

    return PyAutoGuiDriver()
