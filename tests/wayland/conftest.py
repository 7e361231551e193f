"""A real headless wlroots compositor (sway) with two outputs, scale 1 and scale 2, and the Qt target app as a
native Wayland client, each started and stopped by its own handle."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from desktop_agent.capture.headless_wayland import HeadlessOutput, HeadlessSway
from desktop_agent.geometry import DesktopPoint
from tests.display import TargetApp
from tests.sessions import running_sway, window_at

# HEADLESS-1: 1280x800 at scale 1 at the origin; HEADLESS-2: 1600x1200 device pixels at scale 2, so 800x600
# logical (the whole target window fits), right of it.
OUTPUTS = [HeadlessOutput(1280, 800, 1.0, 0, 0), HeadlessOutput(1600, 1200, 2.0, 1280, 0)]


@pytest.fixture(scope="module")
def wayland_session() -> Iterator[HeadlessSway]:
    """Headless sway for the module; this process's environment is its Wayland session's while it runs."""
    with running_sway(OUTPUTS) as sway:
        yield sway


@dataclass
class WaylandApp:
    """The target app on the compositor: its log, and where its window is in the compositor's layout."""

    app: TargetApp
    sway: HeadlessSway

    def window(self) -> dict[str, Any]:
        found = [w for w in self.sway.windows() if w.get("name") == "Target"]
        assert found, f"no Target window in sway's tree: {[w.get('name') for w in self.sway.windows()]}"
        return found[0]

    def move_to(self, x: int, y: int) -> None:
        """Put the window's top-left at (x, y) of the layout, and wait until sway shows it there."""
        self.sway.swaymsg('[title="^Target$"]', "move", "absolute", "position", str(x), str(y))
        window_at(self.sway, "Target", x, y)

    def point(self, widget: str, dx: int | None = None, dy: int | None = None) -> DesktopPoint:
        """A widget's centre (or the point `dx`, `dy` from its top-left) in the compositor's layout: the window's
        position in sway plus the widget's place in the window (Qt on Wayland knows only the latter)."""
        r = self.window()["rect"]
        wx1, wy1, *_ = self.app.widgets["window"]
        x1, y1, x2, y2 = self.app.widgets[widget]
        x = x1 + dx if dx is not None else (x1 + x2) // 2
        y = y1 + dy if dy is not None else (y1 + y2) // 2
        return DesktopPoint(r["x"] + x - wx1, r["y"] + y - wy1)

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        return self.app.events(kind)

    def wait_for(self, kind: str, timeout: float = 5.0, **match: object) -> dict[str, Any]:
        """The first logged event of `kind` whose fields equal `match`, waiting for it up to `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events(kind):
                if all(e.get(k) == v for k, v in match.items()):
                    return e
            if time.monotonic() > deadline:
                raise AssertionError(f"no {kind} event with {match}; the app logged {self.events()[-8:]}")
            time.sleep(0.05)


@pytest.fixture
def wayland_app(wayland_session: HeadlessSway, tmp_path: Path) -> Iterator[WaylandApp]:
    """The Qt target app as a native Wayland window (QT_QPA_PLATFORM=wayland), at (100, 60) on the first output."""
    env = wayland_session.client_env()
    env.update(QT_QPA_PLATFORM="wayland", QT_WAYLAND_DISABLE_WINDOWDECORATION="1")
    app = TargetApp.start(tmp_path / "events.jsonl", env)
    try:
        handle = WaylandApp(app, wayland_session)
        handle.move_to(100, 60)
        yield handle
    finally:
        app.stop()
