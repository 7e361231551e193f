"""What `doctor` says about reading accessibility trees: is the AT-SPI bus there, is accessibility switched
on for Qt and Chromium, which applications expose a tree, and how to fix what is missing."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from desktop_agent.perception.accessibility.source import AccessibilityError

CHROMIUM_HINT = "start Chromium/Chrome/Electron apps with --force-renderer-accessibility for their web content"
QT_HINT = ("Qt apps expose their tree only when a screen reader switched accessibility on, or with "
           "QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1 in their environment (or run `desktop-agent` with it switched on: "
           "set_accessibility_enabled)")


@dataclass(frozen=True, slots=True)
class SetupCheck:
    """One check of the accessibility set-up: passed or not, what, and the fix."""

    ok: bool
    what: str
    fix: str = ""

    def line(self) -> str:
        """The check as one line of `doctor`'s report."""
        mark = "ok  " if self.ok else "FIX "
        return f"{mark}{self.what}" + (f": {self.fix}" if self.fix and not self.ok else "")


def check_setup(env: Mapping[str, str] | None = None, timeout: float = 1.0) -> list[SetupCheck]:
    """Checks of the accessibility set-up, each with the fix when it fails. Reads one snapshot (bounded)."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return [SetupCheck(False, "accessibility trees are read on Linux only so far",
                           "UI Automation (Windows) and AX (macOS) are planned")]
    from desktop_agent.perception.accessibility.atspi import AtspiSource
    from desktop_agent.perception.accessibility.atspi_bus import (
        SETUP_HINT,
        accessibility_bus_address,
        accessibility_enabled,
    )

    out: list[SetupCheck] = []
    if env.get("XDG_SESSION_TYPE") == "wayland":
        out.append(SetupCheck(False, "Wayland session: AT-SPI gives window-relative boxes there",
                              "use an X11 session (or XWayland apps) for desktop coordinates"))
    if env.get("NO_AT_BRIDGE") == "1":
        out.append(SetupCheck(False, "NO_AT_BRIDGE=1 is set", "unset it: GTK apps started from here hide their tree"))
    try:
        address = accessibility_bus_address(env, timeout=timeout)
    except AccessibilityError as e:
        out.append(SetupCheck(False, "AT-SPI bus not found", str(e) if SETUP_HINT in str(e) else f"{e} ({SETUP_HINT})"))
        return out
    out.append(SetupCheck(True, f"AT-SPI bus at {address.split(',')[0]}"))
    enabled = accessibility_enabled(env, timeout=timeout)
    qt_forced = env.get("QT_LINUX_ACCESSIBILITY_ALWAYS_ON") == "1"
    out.append(SetupCheck(bool(enabled) or qt_forced,
                          f"accessibility switched on (org.a11y.Status.IsEnabled={enabled}, "
                          f"QT_LINUX_ACCESSIBILITY_ALWAYS_ON={'1' if qt_forced else 'unset'})", QT_HINT))
    source = AtspiSource(bus_address=address, exclude_self=False, connect_timeout=timeout)
    try:
        snap = source.read(budget_s=timeout)
    except AccessibilityError as e:
        out.append(SetupCheck(False, "reading the tree failed", str(e)))
        return out
    finally:
        source.close()
    apps = sorted({w.app for w in snap.windows})
    out.append(SetupCheck(bool(apps), f"{len(snap.nodes)} accessible objects in {len(snap.windows)} windows of "
                          f"{len(apps)} apps ({', '.join(apps) or 'none'}) read in {snap.elapsed_ms:.0f} ms",
                          f"no application exposes a tree: {QT_HINT}; {CHROMIUM_HINT}"))
    if snap.unanswered:
        out.append(SetupCheck(False, f"no answer in {timeout:g} s from {', '.join(snap.unanswered)}",
                              "a busy or hung app; its windows fall back to vision"))
    return out
