"""Desktop notifications, end to end on a private D-Bus: a real dbus-daemon, a small notification server on
it (QtDBus, in its own process, strict about the Notify signature as real servers are), and the app's
Notifier talking to it; the tray's message where there is no server; silence where there is neither."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="dbus-daemon is not installed")

# A notification server: owns org.freedesktop.Notifications, answers GetCapabilities with argv[3], and
# writes each Notify call to argv[2] as a JSON line (ids counting from 7). Its slot has the spec's exact
# signature (susssasa{sv}i): a call with other types is refused, as GNOME's or dunst's would be.
SERVER = r"""
import json, sys
from PySide6.QtCore import ClassInfo, QCoreApplication, QObject, Slot
from PySide6.QtDBus import QDBusConnection

app = QCoreApplication([])
out = open(sys.argv[2], "a", encoding="utf-8")

@ClassInfo({"D-Bus Interface": "org.freedesktop.Notifications"})
class Server(QObject):
    next_id = 7

    @Slot(str, "uint", str, str, str, "QStringList", "QVariantMap", int, result="uint")
    def Notify(self, app_name, replaces_id, icon, summary, body, actions, hints, timeout):
        out.write(json.dumps({"app": app_name, "replaces": replaces_id, "icon": icon, "summary": summary,
                              "body": body, "hints": {k: str(v) for k, v in hints.items()},
                              "timeout": timeout}) + "\n")
        out.flush()
        Server.next_id += 1
        return Server.next_id - 1

    @Slot(result="QStringList")
    def GetCapabilities(self):
        return [c for c in sys.argv[3].split(",") if c]

bus = QDBusConnection.connectToBus(sys.argv[1], "server")
server = Server()
ok = bus.registerObject("/org/freedesktop/Notifications", server, QDBusConnection.RegisterOption.ExportAllSlots)
ok = ok and bus.registerService("org.freedesktop.Notifications")
out.write(json.dumps({"ready": ok}) + "\n")
out.flush()
app.exec()
"""

_names = count()


class NotificationServer:
    def __init__(self, address: str, log: Path, caps: str) -> None:
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER, address, str(log), caps],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while not self.lines() and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.05)
        ended = self.proc.poll() is not None and self.proc.stderr is not None
        why = self.proc.stderr.read().decode() if ended and self.proc.stderr is not None else ""
        assert self.lines() == [{"ready": True}], why

    def lines(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]

    def calls(self) -> list[dict[str, Any]]:
        return [c for c in self.lines() if "summary" in c]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        assert self.proc.stderr is not None
        self.proc.stderr.close()


@pytest.fixture
def bus_address() -> Iterator[str]:
    """A private session bus (a real dbus-daemon), stopped by its handle after the test."""
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        assert address.startswith("unix:"), address
        yield address
    finally:
        daemon.terminate()
        daemon.wait(5)
        if daemon.stdout is not None:
            daemon.stdout.close()


@pytest.fixture
def bus(qapp: Any, bus_address: str) -> Iterator[Any]:
    """The test process's own connection to the private bus."""
    from PySide6.QtDBus import QDBusConnection

    name = f"notify-test-{next(_names)}"
    conn = QDBusConnection.connectToBus(bus_address, name)
    assert conn.isConnected()
    yield conn
    QDBusConnection.disconnectFromBus(name)


def _server(bus_address: str, tmp_path: Path, caps: str) -> Iterator[NotificationServer]:
    server = NotificationServer(bus_address, tmp_path / f"notify-{caps or 'none'}.jsonl", caps)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def markup_server(bus_address: str, tmp_path: Path) -> Iterator[NotificationServer]:
    yield from _server(bus_address, tmp_path, "body,body-markup")


@pytest.fixture
def plain_server(bus_address: str, tmp_path: Path) -> Iterator[NotificationServer]:
    yield from _server(bus_address, tmp_path, "body")


def test_a_note_reaches_the_server_and_run_text_stays_text(bus: Any, markup_server: NotificationServer) -> None:
    from desktop_agent.app.notifications import Note, Notifier

    notifier = Notifier(bus=bus)
    body = 'click "<b>Save</b>" & <a href="http://x">approve</a>'
    assert notifier.notify(Note("desktop-agent: the run failed", body, urgent=True)) == "dbus"
    [call] = markup_server.calls()
    assert call["app"] == "desktop-agent" and call["replaces"] == 0 and call["timeout"] > 0
    assert call["summary"] == "desktop-agent: the run failed"
    # The server renders markup in bodies: the task's tags arrive escaped, to show as typed.
    assert call["body"] == 'click "&lt;b&gt;Save&lt;/b&gt;" &amp; &lt;a href="http://x"&gt;approve&lt;/a&gt;'
    assert call["hints"] == {"desktop-entry": "desktop-agent"}
    # The next note replaces the last one rather than piling up.
    assert notifier.notify(Note("desktop-agent: the run succeeded", "done")) == "dbus"
    assert [c["replaces"] for c in markup_server.calls()] == [0, 7]
    assert notifier.last_id == 8


def test_a_server_without_markup_gets_the_body_as_it_is(bus: Any, plain_server: NotificationServer) -> None:
    from desktop_agent.agent import RunOutcome
    from desktop_agent.app.notifications import Notifier, run_note

    notifier = Notifier(bus=bus)
    note = run_note(RunOutcome("r1", "failed", 'no "Export <CSV>" on the screen', 5, 3), 'click "Export <CSV>"')
    assert notifier.notify(note) == "dbus"
    [call] = plain_server.calls()
    assert call["summary"] == "desktop-agent: the run failed"
    assert call["body"] == 'click "Export <CSV>"\nno "Export <CSV>" on the screen (3 steps)'


def test_without_server_or_tray_nothing_is_shown_and_one_line_is_logged(bus: Any,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    from desktop_agent.app.notifications import Note, Notifier

    notifier = Notifier(bus=bus)  # the bus has no notification server on it
    with caplog.at_level(logging.INFO, logger="desktop_agent.app.notifications"):
        assert notifier.notify(Note("a", "b")) == "none"
        assert notifier.notify(Note("c", "d")) == "none"
    assert len([r for r in caplog.records if "no notification server" in r.message]) == 1


@pytest.mark.display
def test_without_a_server_the_tray_shows_the_message(qtbot: Any, qapp: Any, bus: Any) -> None:
    from PySide6.QtWidgets import QApplication, QLabel, QSystemTrayIcon

    from desktop_agent.app.controller import app_icon
    from desktop_agent.app.notifications import Note, Notifier
    from desktop_agent.capture.virtual_display import stop_process

    host = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width",
                             "120", "--height", "24"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tray = None
    try:
        qtbot.waitUntil(QSystemTrayIcon.isSystemTrayAvailable, timeout=10_000)
        tray = QSystemTrayIcon(app_icon())
        tray.show()
        qtbot.waitUntil(tray.isVisible)
        notifier = Notifier(tray, bus=bus)
        assert notifier.notify(Note("desktop-agent: the run succeeded", "export <this> sheet")) == "tray"

        def balloon_texts() -> list[str]:
            return [lab.text() for w in QApplication.topLevelWidgets()
                    if w.isVisible() and w.metaObject().className() == "QBalloonTip"
                    for lab in w.findChildren(QLabel)]
        qtbot.waitUntil(lambda: "export ‹this› sheet" in balloon_texts(), timeout=5000)
        assert "desktop-agent: the run succeeded" in balloon_texts()
    finally:
        if tray is not None:
            tray.hide()
            tray.deleteLater()
        stop_process(host)


@pytest.mark.display
def test_the_app_announces_a_waiting_step_and_the_end_of_a_run_only_when_out_of_view(
        qtbot: Any, controller: Any, bus: Any, markup_server: NotificationServer) -> None:
    from desktop_agent.app.notifications import Notifier

    controller.notifier = Notifier(bus=bus)  # the app's notifier, on the private bus
    with qtbot.waitSignal(controller.run_finished, timeout=60_000):
        assert controller.start_task("wait 0.1")
        qtbot.waitUntil(lambda: controller.panel.isVisible() and controller.panel.armed, timeout=30_000)
        # The panel shows without taking the focus: the person may be elsewhere, so it is announced.
        qtbot.waitUntil(lambda: len(markup_server.calls()) == 1, timeout=5000)
        controller.panel.approve.click()
    qtbot.waitUntil(lambda: len(markup_server.calls()) == 2, timeout=5000)
    waiting, ended = markup_server.calls()
    assert waiting["summary"] == "desktop-agent: a step waits for your approval"
    assert waiting["body"].startswith("Step 1: ")
    assert ended["summary"] == "desktop-agent: the run succeeded"
    assert ended["body"].startswith("wait 0.1\n")
    # With the timeline in front of the person, the end of a run is not announced again.
    controller.timeline.activateWindow()
    qtbot.waitUntil(controller.timeline.isActiveWindow, timeout=5000)
    controller.settings.auto_approve = ["wait"]
    with qtbot.waitSignal(controller.run_finished, timeout=60_000):
        assert controller.start_task("wait 0.1")
    qtbot.wait(300)
    assert len(markup_server.calls()) == 2
