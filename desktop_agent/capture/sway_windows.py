"""The windows of a sway session, read from sway's IPC (`swaymsg -t get_tree`): where each is in the
compositor's logical layout (the desktop coordinates of `WlrootsScreen`) and which one has the focus. A native
Wayland client cannot tell where its windows are; the compositor can. Other wlroots compositors (Hyprland,
river, labwc) have IPCs of their own, not read yet: there the focus is unknown."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from desktop_agent.geometry import DesktopRect
from desktop_agent.perception.accessibility.visibility import ScreenWindow


def _views(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The windows (nodes with an app_id, or an XWayland window id) under a node of sway's tree, in tree order."""
    found = [node] if node.get("app_id") is not None or node.get("window") is not None else []
    for child in node.get("nodes", []) + node.get("floating_nodes", []):
        found += _views(child)
    return found


def windows_from_tree(tree: dict[str, Any]) -> list[ScreenWindow]:
    """Every visible window of a sway tree (get_tree's answer) with its box, process and focus; tiled windows
    first, then floating ones (which sway draws above)."""
    out = []
    for v in sorted(_views(tree), key=lambda v: v.get("type") == "floating_con"):
        r = v.get("rect") or {}
        if not v.get("visible", True) or not r.get("width") or not r.get("height"):
            continue
        box = DesktopRect.from_xywh(int(r["x"]), int(r["y"]), int(r["width"]), int(r["height"]))
        out.append(ScreenWindow(box, v.get("pid"), active=bool(v.get("focused"))))
    return out


class SwayWindows:
    """Calling it gives the sway session's windows (None where there is no sway to ask: no SWAYSOCK, no
    swaymsg, or no answer within a second)."""

    def __init__(self, socket: str | None = None) -> None:
        self.socket = socket or os.environ.get("SWAYSOCK", "")

    def __call__(self) -> list[ScreenWindow] | None:
        swaymsg = shutil.which("swaymsg")
        if not self.socket or swaymsg is None:
            return None
        try:
            done = subprocess.run([swaymsg, "-s", self.socket, "-r", "-t", "get_tree"], capture_output=True,
                                  timeout=1.0, check=True)
            return windows_from_tree(json.loads(done.stdout))
        except (OSError, subprocess.SubprocessError, ValueError):
            return None

    def close(self) -> None:
        """Nothing kept open (each question is one swaymsg)."""
