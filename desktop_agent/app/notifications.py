"""Desktop notifications: a run that ends, fails or waits for approval while its window is not in view
says so. Sent with org.freedesktop.Notifications.Notify on the session bus (QtDBus); where no
notification server answers, shown as the tray icon's message; where neither exists, nothing but one
log line.

Run text (a task, a model's reason, a label read from the screen) goes into the body as plain text: a
server that renders markup in bodies (capability body-markup) gets it escaped."""

from __future__ import annotations

import html
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Q_ARG, Q_RETURN_ARG, QMetaObject, QObject, Qt
from PySide6.QtDBus import QDBusConnection, QDBusInterface, QDBusMessage
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from desktop_agent.agent import RunOutcome, StepProposal

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
APP_NAME = "desktop-agent"
BODY_LIMIT = 400  # characters: a notification is a nudge, the timeline has the rest
TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Note:
    """A desktop notification: its summary, body and whether it is urgent."""

    summary: str
    body: str
    urgent: bool = False


def in_view(window: QWidget | None) -> bool:
    """Whether the person has this window in front of them: shown, not minimised, and active."""
    return (window is not None and window.isVisible() and not window.isMinimized()
            and window.isActiveWindow())


def run_note(outcome: RunOutcome | str, task: str = "") -> Note:
    """What a notification says about a run that ended (a RunOutcome, or the error that kept it from
    starting)."""
    if isinstance(outcome, str):
        return Note("desktop-agent: the run could not start", outcome, urgent=True)
    titles = {"succeeded": "the run succeeded", "partial": "the run finished, some steps skipped",
              "failed": "the run failed", "aborted": "the run was stopped"}
    summary = f"desktop-agent: {titles.get(outcome.status, 'the run ended: ' + outcome.status)}"
    steps = f"{outcome.steps} step{'s' if outcome.steps != 1 else ''}"
    body = "\n".join(p for p in (task, f"{outcome.message} ({steps})" if outcome.message else steps) if p)
    return Note(summary, body, urgent=outcome.status == "failed")


def approval_note(proposal: StepProposal | str) -> Note:
    """What a notification says about a step (or a question) waiting for the person."""
    if isinstance(proposal, str):
        return Note("desktop-agent: the run has a question for you", proposal, urgent=True)
    words = f"Step {proposal.index + 1}: {proposal.planned.action.describe()}"
    if proposal.risk:
        words += f"\nAsked because it is {proposal.risk}."
    return Note("desktop-agent: a step waits for your approval", words, urgent=True)


def session_bus_known() -> bool:
    """Whether this session names its bus (the variable, or the usual socket): without one, asking for
    the session bus could make libdbus autolaunch a daemon that outlives the app."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")) or bool(runtime and Path(runtime, "bus").exists())


def _clip(text: str) -> str:
    text = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
    return text if len(text) <= BODY_LIMIT else text[: BODY_LIMIT - 1] + "…"


class Notifier(QObject):
    """Sends notes to the notification server of `bus` (default: the session bus), or to `tray`."""

    def __init__(self, tray: QSystemTrayIcon | None = None, bus: QDBusConnection | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tray = tray
        self._bus = bus
        self._iface: QDBusInterface | None = None
        self._caps: list[str] | None = None  # the server's capabilities; None: it did not say
        self._logged = False
        self.last_id = 0  # the server's id of the last notification (replaced by the next one)
        self.sent: list[tuple[str, Note]] = []  # (channel, note): what was shown, newest last

    def _interface(self) -> QDBusInterface | None:
        if self._iface is not None and self._iface.isValid():
            return self._iface
        if self._bus is None and not session_bus_known():
            return None
        bus = self._bus if self._bus is not None else QDBusConnection.sessionBus()
        if not bus.isConnected():
            return None
        iface = QDBusInterface(SERVICE, PATH, SERVICE, bus, self)
        if not iface.isValid():
            iface.deleteLater()
            return None
        iface.setTimeout(3000)
        caps = iface.call("GetCapabilities")
        args = caps.arguments() if caps.type() == QDBusMessage.MessageType.ReplyMessage else []
        self._caps = [str(c) for c in args[0]] if args and isinstance(args[0], list) else None
        self._iface = iface
        return iface

    def notify(self, note: Note) -> str:
        """Show a note: 'dbus', 'tray' or 'none' says where it went."""
        body = _clip(note.body)
        iface = self._interface()
        if iface is not None:
            # Escaped where the server renders markup, or does not say whether it does.
            markup = self._caps is None or "body-markup" in self._caps
            shown_body = html.escape(body, quote=False) if markup else body
            hints = {"desktop-entry": APP_NAME}
            # Invoked through the interface's introspected signature (susssasa{sv}i), so that the ids go
            # out as uint32: a plain call would send int32, which notification servers refuse.
            reply = QMetaObject.invokeMethod(
                iface, "Notify", Qt.ConnectionType.DirectConnection, Q_RETURN_ARG("uint"), Q_ARG(str, APP_NAME),
                Q_ARG("uint", self.last_id), Q_ARG(str, "dialog-question" if note.urgent else "dialog-information"),
                Q_ARG(str, _clip(note.summary)), Q_ARG(str, shown_body), Q_ARG("QStringList", []),
                Q_ARG("QVariantMap", hints), Q_ARG(int, TIMEOUT_MS))
            if iface.lastError().isValid():
                log.info("desktop notification refused: %s", iface.lastError().message())
                self._iface = None
            else:
                self.last_id = reply if isinstance(reply, int) else 0
                self.sent.append(("dbus", note))
                return "dbus"
        if self.tray is not None and self.tray.isVisible() and self.tray.supportsMessages():
            # Some tray hosts render messages as HTML, others as text: no tags either way.
            clean = body.replace("<", "‹").replace(">", "›")
            icon = (QSystemTrayIcon.MessageIcon.Warning if note.urgent
                    else QSystemTrayIcon.MessageIcon.Information)
            self.tray.showMessage(note.summary.replace("<", "‹").replace(">", "›"), clean, icon, TIMEOUT_MS)
            self.sent.append(("tray", note))
            return "tray"
        if not self._logged:
            log.info("no notification server and no tray: runs that end or wait are not announced")
            self._logged = True
        self.sent.append(("none", note))
        return "none"
