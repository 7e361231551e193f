"""The desktop-portal backend (GNOME's and KDE's way) end to end over a FAKE portal (tests/portal_fake.py: the
only fake part is the portal and the person's answer to its dialog): a real headless sway, its outputs cast
into real PipeWire nodes, read by the agent through GStreamer, and input that reaches the real Qt target app
as a native Wayland client."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from desktop_agent.capture.headless_wayland import HeadlessSway
from desktop_agent.capture.portal import PortalSession
from desktop_agent.capture.portal_screen import PortalScreen
from desktop_agent.capture.session import default_driver, default_screen, detect_session
from desktop_agent.capture.wayland import WlrootsScreen
from desktop_agent.execution.portal_input import PortalDriver
from tests.e2e_helpers import cli
from tests.sessions import running_portal
from tests.wayland.conftest import WaylandApp

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def portal_log(wayland_session: HeadlessSway, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    log = tmp_path_factory.mktemp("portal") / "portal.jsonl"
    with running_portal(wayland_session, log):
        yield log


def _stream_readers() -> set[str]:
    """The PIDs of the gst-launch processes reading a screen cast, on this machine."""
    found = subprocess.run(["pgrep", "-f", "pipewiresrc fd="], capture_output=True, text=True, check=False)
    return set(found.stdout.split())


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
        driver.drag(wayland_app.point("drag_source"), wayland_app.point("drop"))
        wayland_app.wait_for("dropped", source="Drag me", target="Drop here")
        # Three wheel clicks down scroll the list by nine rows (Qt's three a click): its top row is then Item 10.
        driver.scroll(wayland_app.point("list"), -3)
        driver.click(wayland_app.point("list", dx=40, dy=8))
        wayland_app.wait_for("list_clicked", item="Item 10")
    finally:
        session.close()


def test_the_session_picks_the_portal_where_wlroots_cannot_run(portal_log: Path) -> None:
    bus = os.environ["DBUS_SESSION_BUS_ADDRESS"]
    # No wlroots compositor to reach (GNOME's or KDE's case), the desktop's portal on the session bus.
    auto = detect_session({"WAYLAND_DISPLAY": "/nonexistent/wayland-9", "XDG_SESSION_TYPE": "wayland",
                           "DBUS_SESSION_BUS_ADDRESS": bus})
    assert (auto.kind, auto.backend, auto.missing) == ("wayland", "portal", ())
    forced = detect_session()  # running_portal sets DESKTOP_AGENT_BACKEND=portal
    assert forced.backend == "portal"
    no_portal = detect_session({"WAYLAND_DISPLAY": "/nonexistent/wayland-9", "XDG_SESSION_TYPE": "wayland",
                                "DISPLAY": ":99", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"})
    assert no_portal.backend == "x11" and any("portal" in m for m in no_portal.missing), no_portal
    screen, driver = default_screen(session=forced), default_driver(session=forced)
    try:
        assert isinstance(screen, PortalScreen) and isinstance(driver, PortalDriver)
    finally:
        screen.close()
        driver.close()


def test_desktop_agent_run_through_the_portal(portal_log: Path, wayland_app: WaylandApp, home: Path) -> None:
    """The whole chain on a desktop that only offers the portal: the CLI asks the desktop once (its restore
    token then kept in the data folder), captures the shared monitors, finds the targets by OCR and clicks and
    types through the portal; a second run is let in without asking."""
    readers_before = _stream_readers()
    prompts = len(_events(portal_log, "prompt"))
    r = cli("run", 'click "Save"', "--approve", "auto", home=home, timeout=240)
    got = [e for e in wayland_app.events() if e["event"] != "ready"]
    assert r.returncode == 0, f"{r.stdout}{r.stderr}the app logged: {got}"
    assert [e for e in got if e["event"] == "clicked"] == [{"event": "clicked", "widget": "Save"}]
    assert len(_events(portal_log, "prompt")) == prompts + 1
    token = home / "portal-restore-token"
    assert token.exists() and token.stat().st_mode & 0o777 == 0o600
    restored = len(_events(portal_log, "restored"))
    r = cli("run", 'type "Zürich ✓" into "Name"', "--approve", "auto", home=home, timeout=240)
    got = [e for e in wayland_app.events() if e["event"] != "ready"]
    assert r.returncode == 0, f"{r.stdout}{r.stderr}the app logged: {got}"
    assert [e["value"] for e in got if e["event"] == "text"][-1] == "Zürich ✓"
    assert len(_events(portal_log, "prompt")) == prompts + 1
    assert len(_events(portal_log, "restored")) == restored + 1
    # A run that abstains (nothing to click) ends non-zero, and no run leaves a stream reader behind (the CLI
    # closes its screen; a reader left by any other path is closed at exit).
    r = cli("run", 'click "Quarterly Forecast"', "--approve", "auto", home=home, timeout=240)
    assert r.returncode != 0, r.stdout
    assert _stream_readers() <= readers_before, "gst-launch stream readers outlived the CLI"
