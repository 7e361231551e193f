"""Start with the session: an XDG autostart entry in ~/.config/autostart (Linux desktops)."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

ENTRY = "desktop-agent.desktop"


def autostart_path() -> Path:
    """Where the XDG autostart entry goes (under $XDG_CONFIG_HOME, or ~/.config)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / ENTRY


def launch_command() -> str:
    """How this installation starts the app: the bundle's binary, or this Python with the package."""
    if getattr(sys, "frozen", False):
        return f"{shlex.quote(sys.executable)} app"
    return f"{shlex.quote(sys.executable)} -m desktop_agent app"


def autostart_enabled() -> bool:
    """Whether the app starts with the session (its autostart entry exists)."""
    return autostart_path().exists()


def set_autostart(enabled: bool) -> Path:
    """Write or remove the autostart entry; returns its path."""
    path = autostart_path()
    if not enabled:
        path.unlink(missing_ok=True)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[Desktop Entry]\nType=Application\nName=desktop-agent\n"
                    f"Exec={launch_command()}\nIcon=desktop-agent\nTerminal=false\n"
                    "X-GNOME-Autostart-enabled=true\n", encoding="utf-8")
    return path
