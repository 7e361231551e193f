"""The desktop-portal backend (GNOME's and KDE's way) end to end over a FAKE portal (tests/portal_fake.py: the
only fake part is the portal and the person's answer to its dialog): a real headless sway, its outputs cast
into real PipeWire nodes, read by the agent through GStreamer, and input that reaches the real Qt target app
as a native Wayland client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from desktop_agent.capture.headless_wayland import HeadlessSway
from desktop_agent.capture.portal import PortalSession
from desktop_agent.capture.portal_screen import PortalScreen
from desktop_agent.capture.wayland import WlrootsScreen
from desktop_agent.execution.portal_input import PortalDriver
from tests.sessions import running_portal
from tests.wayland.conftest import WaylandApp

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def portal_log(wayland_session: HeadlessSway, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    log = tmp_path_factory.mktemp("portal") / "portal.jsonl"
    with running_portal(wayland_session, log):
        yield log


def _events(log: Path, kind: str) -> list[dict[str, object]]:
    return [e for e in map(json.loads, log.read_text(encoding="utf-8").splitlines()) if e["event"] == kind]


def test_capture_through_the_portal_matches_the_compositor(portal_log: Path, wayland_app: WaylandApp,
                                                           tmp_path: Path) -> None:
    session = PortalSession(token_file=tmp_path / "token")
    screen = PortalScreen(session)
    truth = WlrootsScreen()
    try:
        layout = screen.layout()
        got = [(m.left, m.top, m.width, m.height, m.scale) for m in layout.monitors]
        assert got == [(0, 0, 1280, 800, 1.0), (1280, 0, 800, 600, 2.0)]
        for m, t in zip(layout.monitors, truth.layout().monitors, strict=True):
            a, b = screen.grab(m).image, truth.grab(t).image
            assert a.shape == b.shape
            assert np.mean(np.abs(a.astype(int) - b.astype(int))) < 2.0
    finally:
        screen.close()
        truth.close()
        session.close()
    assert _events(portal_log, "prompt")


def test_input_through_the_portal_reaches_the_app(portal_log: Path, wayland_app: WaylandApp, tmp_path: Path) -> None:
    session = PortalSession(token_file=tmp_path / "token")
    driver = PortalDriver(session)
    try:
        driver.click(wayland_app.point("Save"))
        wayland_app.wait_for("clicked", widget="Save")
        driver.click(wayland_app.point("name"))
        driver.type_text("Zürich 東京 ✓")
        wayland_app.wait_for("text", value="Zürich 東京 ✓")
    finally:
        session.close()
