"""The app: tray (or a small window where there is no tray), command bar, timeline, approval panel and
overlay, settings and hotkeys, around one AgentRunner. It only adapts the core to windows and signals.

Shutting down (Quit, closing the no-tray window, SIGTERM/SIGINT) goes in one order, once: stop the run and
wait for its thread, drop its late signals, disconnect, close the windows, then let Qt delete them."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QMenu,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from desktop_agent.agent import AgentEvent, EventKind, RunOutcome, StepProposal
from desktop_agent.agent.events import STEP_EVENTS
from desktop_agent.app.hotkeys import HotkeyError, Hotkeys, session_hotkeys
from desktop_agent.app.notifications import Notifier, approval_note, in_view, run_note
from desktop_agent.app.portal_shortcuts import PortalShortcuts
from desktop_agent.app.qt_approval import ApprovalPanel, QtApprover, TargetOverlay
from desktop_agent.app.qt_command_bar import CommandBar
from desktop_agent.app.qt_first_run import FirstRunWindow
from desktop_agent.app.qt_look import apply_look
from desktop_agent.app.qt_runner import AgentRunner
from desktop_agent.app.qt_screens import logical_layout, window_desktop_rect
from desktop_agent.app.qt_settings import SettingsDialog
from desktop_agent.app.qt_text import plain_label
from desktop_agent.app.qt_timeline import STOPPED_BY_YOU, TimelineWindow, outcome_words
from desktop_agent.app.settings import AppSettings, load_settings, save_settings
from desktop_agent.assemble import run_screen
from desktop_agent.capture.masked import ExcludedRegions
from desktop_agent.capture.screen import Screen
from desktop_agent.capture.session import Session, default_driver, detect_session
from desktop_agent.config import RunOptions, read_environment
from desktop_agent.execution.input_driver import InputDriver
from desktop_agent.geometry import DesktopPoint
from desktop_agent.runs.store import RunStore
from desktop_agent.secret_fields import redact_task

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def app_icon() -> QIcon:
    """The app's icon, from the assets folder."""
    return QIcon(str(ASSETS / "desktop-agent.svg"))


class FallbackWindow(QWidget):
    """Where there is no system tray (GNOME without an extension, minimal window managers): a small
    window with the tray menu's actions, always available."""

    closed = Signal()

    def __init__(self, actions: dict[str, QAction]) -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("fallback")
        self.setWindowTitle("desktop-agent")
        self.setWindowIcon(app_icon())
        self.status = plain_label("Ready")  # the run's status: task and model text, shown literally
        lay = QVBoxLayout(self)
        lay.addWidget(self.status)
        row = QHBoxLayout()
        self._actions = actions
        self.buttons: dict[str, QPushButton] = {}
        for name, act in actions.items():
            b = QPushButton(act.text())
            b.clicked.connect(act.trigger)
            act.changed.connect(self._sync_buttons)  # a slot of this window: gone with it, never dangling
            b.setEnabled(act.isEnabled())
            row.addWidget(b)
            self.buttons[name] = b
        lay.addLayout(row)

    def _sync_buttons(self) -> None:
        for name, act in self._actions.items():
            self.buttons[name].setText(act.text())
            self.buttons[name].setEnabled(act.isEnabled())

    def closeEvent(self, event: Any) -> None:
        """Closing the window quits the app (it says `closed`)."""
        self.closed.emit()  # the tray's stand-in: closing it quits, as the tray's Quit does
        super().closeEvent(event)


class AppController(QObject):
    """Runs the app: its windows, tray, hotkeys and settings around one `AgentRunner`."""

    run_finished = Signal(object)  # RunOutcome or an error message
    # The desktop portal's answer about the shortcuts, from its thread: (error, keys bound in words).
    _portal_keys = Signal(str, str)

    def __init__(self, settings: AppSettings | None = None, settings_path: str | None = None,
                 screen: Screen | None = None, driver: InputDriver | None = None, use_tray: bool | None = None,
                 hotkeys: bool = True, session: Session | None = None) -> None:
        """`session`: the display session, when the caller has detected it already (detecting it again asks
        the compositor or the desktop portal again); else it is detected here, once, if a screen or driver
        is to be made."""
        super().__init__()
        self.settings_path = settings_path
        self.settings = settings or load_settings(settings_path)
        self.regions = ExcludedRegions()
        self.approver = QtApprover()
        self.overlay = TargetOverlay()
        self.panel = ApprovalPanel(self.approver, self.overlay)
        home = Path(self.settings.data_folder) if self.settings.data_folder else None
        self.timeline = TimelineWindow(home)
        self.command_bar = CommandBar(self.settings.history)  # redacted tasks only
        self.command_bar.set_planner(self.settings.planner_options().describe())
        if session is None and (driver is None or screen is None):
            session = detect_session()
        if driver is None:
            driver = default_driver(session)
        self.screen = run_screen(self._run_options(), screen, self.regions, session)  # our own windows masked out
        self._acted_at: list[DesktopPoint] = []  # where the last step acted (desktop points)
        self.runner = AgentRunner(self.screen, driver, home, self.approver)  # asked after the approval policy
        self._connect_runner()
        self.last_outcome: RunOutcome | str | None = None
        self._timeline_placed = False
        self._shut_down = False

        self.actions = self._make_actions()
        self._set_running(False)
        self.tray: QSystemTrayIcon | None = None
        self.fallback: FallbackWindow | None = None
        self.tray_menu: QMenu | None = None
        self._show_tray_or_window(QSystemTrayIcon.isSystemTrayAvailable() if use_tray is None else use_tray)
        # A run that ends or waits while its window is not in front of the person says so.
        self.notifier = Notifier(self.tray, parent=self)
        self._task = ""  # the run's task, redacted: named in its notification
        self.first_run: FirstRunWindow | None = None
        self.approver.asked.connect(self._notify_waiting)
        self.approver.question.connect(self._notify_waiting)
        self.hotkeys: Hotkeys | None = None
        self.hotkey_error = ""
        self._portal_keys.connect(self._portal_keys_answered)
        if hotkeys:
            self.register_hotkeys()
        # The app's own windows are blanked in the agent's captures and never targets.
        self._regions_timer = QTimer(self)
        self._regions_timer.timeout.connect(self.update_regions)
        self._regions_timer.start(100)
        self.update_regions()

    def _connect_runner(self) -> None:
        """Wire the runner, the approver and the windows together (shutdown disconnects the same slots)."""
        # What the run is doing, from the moment its task is entered (connected first: hidden before the
        # windows resize at the end of a run).
        self.timeline.busy.follow(self.runner, self.approver)
        self.command_bar.busy_line.follow(self.runner, self.approver)
        self.runner.agent_event.connect(self._on_event)
        self.runner.finished.connect(self._on_finished)
        self.runner.status.connect(self._status)
        self.command_bar.submitted.connect(self.start_task)
        self.timeline.stop_requested.connect(self.stop)
        self.timeline.pause_toggled.connect(self.toggle_pause)
        self.approver.asked.connect(self._update_busy)
        self.approver.question.connect(self._update_busy)
        self.approver.settled.connect(self._update_busy)

    def _make_actions(self) -> dict[str, QAction]:
        """The tray menu's actions (also the no-tray window's buttons), connected to what they do."""
        actions = {name: QAction(text, self) for name, text in (
            ("new", "New task"), ("timeline", "Timeline"), ("pause", "Pause"), ("stop", "Stop"),
            ("settings", "Settings"), ("quit", "Quit"))}
        actions["new"].triggered.connect(self.command_bar.summon)
        actions["timeline"].triggered.connect(self.show_timeline)
        actions["pause"].triggered.connect(self.toggle_pause)
        actions["stop"].triggered.connect(self.stop)
        actions["settings"].triggered.connect(self.open_settings)
        actions["quit"].triggered.connect(self.quit)
        return actions

    def _show_tray_or_window(self, tray_ok: bool) -> None:
        """Show the tray icon with its menu or, where there is no tray, the small window with the same actions."""
        if tray_ok:
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray_menu = QMenu()  # kept here: the tray does not own it
            for act in self.actions.values():
                self.tray_menu.addAction(act)
            self.tray.setContextMenu(self.tray_menu)
            self.tray.setToolTip("desktop-agent")
            self.tray.activated.connect(self._tray_activated)
            self.tray.show()
        else:
            self.fallback = FallbackWindow(self.actions)
            self.fallback.closed.connect(self.quit)
            self.fallback.show()

    def _tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.command_bar.summon()

    # -- windows that the agent must not see -------------------------------------------------------------
    def own_windows(self) -> list[QWidget]:
        """The app's visible windows, which the agent's captures blank (the overlay's edges excepted)."""
        wins: list[QWidget] = [self.timeline, self.command_bar, self.panel]
        if self.fallback is not None:
            wins.append(self.fallback)
        wins += [w for w in QApplication.topLevelWidgets() if w.isVisible() and w not in wins
                 and w not in self.overlay.edges]
        return wins

    def update_regions(self) -> None:
        """Blank the app's own windows in the agent's captures, where the X server shows them."""
        # Qt's geometry is logical: each window is blanked where the X server shows it, at its screen's scale.
        layout = logical_layout()
        self.regions.set([window_desktop_rect(w, layout) for w in self.own_windows() if w.isVisible()])

    # -- hotkeys ---------------------------------------------------------------------------------------
    def register_hotkeys(self) -> None:
        """Set up the summon and stop hotkeys from the settings (again): X11 grabs in an X11 session, the desktop
        portal's GlobalShortcuts on Wayland (the desktop may ask the person to confirm them). A failure is shown,
        not raised; where there are none, the desktop's own bindings can run `desktop-agent app --summon`."""
        if self.hotkeys is not None:
            self.hotkeys.stop()
            self.hotkeys = None
        try:
            keys = session_hotkeys()
            # Callbacks come from the hotkey thread: go through queued signals to the GUI thread.
            keys.register(self.settings.summon_hotkey, lambda: QTimer.singleShot(0, self, self.command_bar.summon),
                          "summon", "Open the desktop-agent command bar")
            keys.register(self.settings.stop_hotkey, self._stop_from_hotkey, "stop-run",
                          "Stop the desktop-agent run in progress")
            if isinstance(keys, PortalShortcuts):
                keys.on_error = lambda why: self._portal_keys.emit(why, "")
                keys.on_bound = lambda bound: self._portal_keys.emit("", ", ".join(v for v in bound.values() if v))
            keys.start()
            self.hotkeys = keys
            self.hotkey_error = ""
        except HotkeyError as exc:
            self.hotkey_error = str(exc)
            self._status(f"hotkeys unavailable: {exc}")

    def _portal_keys_answered(self, error: str, keys: str) -> None:
        """The desktop portal bound the shortcuts (or did not): said in the status line."""
        if self._shut_down:
            return
        if error:
            self.hotkey_error = error
            self._status(f"hotkeys unavailable: {error}")
        else:
            self._status(f"hotkeys set by the desktop: {keys or 'as the desktop chose'}")

    def remote_command(self, command: str) -> str:
        """A command from a second invocation (`desktop-agent app --summon`, `--stop-run`, a second plain
        `desktop-agent app`), which a desktop's own key binding can run; its answer in one line."""
        if self._shut_down:
            return "error: the app is closing"
        if command == "summon":
            self.command_bar.summon()
            return "ok: the command bar is shown"
        if command == "stop-run":
            if not self.runner.running:
                return "ok: no run in progress"
            self.stop()
            return "ok: stopping the run in progress"
        if command == "ping":
            return "ok"
        return f"error: unknown command {command[:40]!r}"

    def _stop_from_hotkey(self) -> None:
        # Abort at once from the hotkey thread (the agent checks the flag), then tidy up in the GUI.
        self.runner.stop()
        QTimer.singleShot(0, self, lambda: self._status("stopping…"))

    # -- runs ------------------------------------------------------------------------------------------
    def start_task(self, task: str) -> bool:
        """Start a task; while a run is in progress the task is refused visibly: it stays in the command bar
        with a notice, to start once the run is over (never queued behind it, never dropped)."""
        if self._shut_down:
            return False
        if self.runner.running:
            self.command_bar.refuse(task)
            self._status("a run is in progress: your new task waits in the command bar")
            return False
        self.settings.remember(task)  # redacted: a typed password never reaches the settings file
        self.command_bar.history = list(self.settings.history)
        save_settings(self.settings, self.settings_path)
        self._task = redact_task(task)
        self.runner.start(task, self._run_options())
        self.show_timeline()  # its busy line works from now, before anything has loaded
        self._set_running(True)
        self._status(f"starting: {redact_task(task)}")
        return True

    def _run_options(self) -> RunOptions:
        """The settings as the next run's options (with the HiDPI emulation the environment may ask for)."""
        return self.settings.run_options(read_environment().scale())

    def stop(self) -> None:
        """Stop the run in progress: a step waiting for approval is refused."""
        self.runner.stop()  # a step waiting for approval is refused: the run ends stopped, not failed
        self._status("stopping…")

    def _busy_reason(self) -> str | None:
        if not self.runner.running:
            return None
        if self.approver.pending is not None or self.panel.isVisible():
            return "A run is waiting for your approval"
        return "A run is in progress"

    def _update_busy(self, *_: object) -> None:
        if not self._shut_down and self.runner.running:
            self.command_bar.set_busy(self._busy_reason())

    def toggle_pause(self) -> None:
        """Pause the run in progress, or resume it if it is paused."""
        agent = self.runner.agent
        if agent is None or not self.runner.running:
            return
        if agent.paused:
            self.runner.resume()
        else:
            self.runner.pause()
        self._set_running(True, agent.paused)

    def _on_event(self, event: AgentEvent) -> None:
        if event.kind == EventKind.RUN_STARTED:
            self.timeline.follow(event.run_id)
            self.show_timeline()
        elif event.kind in STEP_EVENTS:
            self.timeline.update_step(event.run_id, event.step)
            if event.kind == EventKind.STEP_LOCATED:
                self._acted_at = [DesktopPoint(*t.desktop) for t in event.targets]
            if event.kind in (EventKind.STEP_DONE, EventKind.STEP_FAILED) and not self._covers_driven_window():
                self.timeline.resurface()  # the acted-on app was raised over it: its result back in view
        if event.kind == EventKind.STATUS:
            self._status(f"step {(event.step or 0) + 1}: {event.message}…")
        elif event.kind == EventKind.PAUSED:
            self._status("paused")
        elif event.message and event.kind != EventKind.RUN_STARTED:
            said = event.data.get("outcome") or event.message  # the step's result in words, not a pixel count
            self._status(f"step {(event.step or 0) + 1}: {said}" if event.step is not None else said)

    def _covers_driven_window(self) -> bool:
        """Whether the timeline, raised, would cover the window the last step acted in: the agent's captures
        blank the app's own windows, so mid-run it stays below that window (at the end it comes back up)."""
        if not self._acted_at:
            return False
        from desktop_agent.perception.accessibility.x_windows import stacked_windows

        try:
            windows = stacked_windows()
        except Exception:  # no X display to ask (Wayland, a lost connection): keep the agent's view clear
            return True
        if windows is None:
            return True
        own = os.getpid()
        mine = window_desktop_rect(self.timeline)
        for p in self._acted_at:
            under = [w for w in windows if w.pid != own and w.box.contains(p)]
            if under and under[-1].box.intersection(mine) is not None:
                return True
        return False

    def _on_finished(self, outcome: RunOutcome | str) -> None:
        self.last_outcome = outcome
        self.overlay.hide()
        self.panel.hide()
        self._set_running(False)
        if isinstance(outcome, RunOutcome):
            self.timeline.finished(outcome.run_id)
            if outcome.status == "aborted":  # the person stopped it: neutral words, not a failure
                self._status(outcome_words(outcome.status, outcome.message))
            else:
                self._status(f"run {outcome.status}: {outcome.message}")
        else:
            self.timeline.finished(None)
            if self.runner.stop_requested:
                self._status(f"{STOPPED_BY_YOU} before the run started")
            else:
                self._status(f"could not run: {outcome}")
                self.show_timeline()
        if not in_view(self.timeline):
            self.notifier.notify(run_note(outcome, self._task))
        self.run_finished.emit(outcome)

    def _notify_waiting(self, proposal: StepProposal | str) -> None:
        if self._shut_down or in_view(self.panel) or in_view(self.timeline):
            return
        self.notifier.notify(approval_note(proposal))

    def _set_running(self, running: bool, paused: bool = False) -> None:
        self.actions["stop"].setEnabled(running)
        self.actions["pause"].setEnabled(running)
        self.actions["pause"].setText("Resume" if paused else "Pause")
        self.timeline.set_running(running, paused)
        self.command_bar.set_busy(self._busy_reason() if running else None)

    def _status(self, text: str) -> None:
        self.timeline.set_status(text)
        if self.fallback is not None:
            self.fallback.status.setText(text)
        if self.tray is not None:
            # Some tray hosts render tooltips as HTML, others as text: no tags either way.
            self.tray.setToolTip(f"desktop-agent: {text}".replace("<", "‹").replace(">", "›"))

    # -- windows ---------------------------------------------------------------------------------------
    def show_timeline(self) -> None:
        """Show the timeline window and raise it (docked at the primary screen's right edge the first time)."""
        if not self._timeline_placed:
            self.timeline.dock()
            self._timeline_placed = True
        self.timeline.show()
        self.timeline.raise_()

    def show_first_run(self) -> FirstRunWindow:
        """The welcome window: hotkey, approval, data folder, planner (main shows it once, at the first start)."""
        win = FirstRunWindow(self.settings, self.timeline.home, self.tray is not None, self.settings_path,
                             self.hotkey_error)
        win.finished.connect(self._first_run_closed)
        win.settings_requested.connect(self.open_settings)
        win.show()
        win.raise_()
        self.first_run = win  # held: a window without a parent lives as long as its Python object
        return win

    def _first_run_closed(self, _result: int) -> None:
        self.command_bar.set_planner(self.settings.planner_options().describe())

    def open_settings(self) -> SettingsDialog:
        """Open the settings dialog; its OK applies the settings."""
        dlg = SettingsDialog(self.settings, self.timeline if self.timeline.isVisible() else None)
        dlg.accepted.connect(lambda: self.apply_settings(dlg.result_settings()))
        dlg.show()
        return dlg

    def apply_settings(self, settings: AppSettings) -> None:
        """Use and save new settings: the data folder (unless a run is in progress), the planner and the hotkeys."""
        if settings.data_folder != str(self.timeline.home) and not self.runner.running:
            # Another run database: the timeline and the next run use it from now on.
            home = Path(settings.data_folder) if settings.data_folder else None
            self.timeline.store.close()
            self.timeline.store = RunStore(home)
            self.timeline.home = self.timeline.store.home
            self.timeline.shown_run = None
            self.timeline.refresh_runs()
            self.runner.store_home = home
        keys_changed = ((settings.summon_hotkey, settings.stop_hotkey)
                        != (self.settings.summon_hotkey, self.settings.stop_hotkey))
        self.settings = settings
        save_settings(settings, self.settings_path)
        self.command_bar.set_planner(settings.planner_options().describe())
        # Bound again only when they changed: through the portal, binding may ask the person again.
        if keys_changed and (self.hotkeys is not None or self.hotkey_error):
            self.register_hotkeys()

    def quit(self) -> None:
        """Quit (the tray's or window's Quit, closing the no-tray window, SIGTERM/SIGINT). Deferred to the
        event loop: the button or window that asked may be deleted by the shutdown, so not inside its own
        signal."""
        QTimer.singleShot(0, self._quit_now)

    def _quit_now(self) -> None:
        self.shutdown()
        QApplication.quit()

    def shutdown(self) -> None:
        """Stop the run (a waiting step is refused, nothing is sent) and wait for its thread; drop its late
        signals; release the hotkeys; disconnect; close the windows; let Qt delete them. Once."""
        if self._shut_down:
            return
        self._shut_down = True
        self._regions_timer.stop()
        if self.hotkeys is not None:
            self.hotkeys.stop()  # joins the hotkey thread: no callback after this
            self.hotkeys = None
        self.runner.stop("the app was closed")
        self.runner.wait(10)
        self.runner.close()  # a worker still loading models emits nothing to the closed app
        for signal, slot in ((self.runner.agent_event, self._on_event), (self.runner.finished, self._on_finished),
                             (self.runner.status, self._status), (self.command_bar.submitted, self.start_task),
                             (self.timeline.stop_requested, self.stop), (self.timeline.pause_toggled,
                                                                          self.toggle_pause),
                             (self.approver.asked, self._update_busy), (self.approver.question, self._update_busy),
                             (self.approver.settled, self._update_busy),
                             (self.approver.asked, self._notify_waiting),
                             (self.approver.question, self._notify_waiting)):
            with contextlib.suppress(RuntimeError, TypeError):  # (not connected)
                signal.disconnect(slot)
        if self.fallback is not None:
            self.fallback.closed.disconnect(self.quit)  # closing it below is not another quit
        if self.first_run is not None:
            with contextlib.suppress(RuntimeError, TypeError):  # closed at quit: not a choice of the person
                self.first_run.finished.disconnect()
        self.panel.proposal = None  # the approver is closed: closing the panel answers nothing
        self.panel._question = False
        self.overlay.hide()
        self.timeline.store.close()
        windows = [w for w in (self.panel, self.command_bar, self.timeline, self.fallback, self.first_run,
                               *self.overlay.edges) if w is not None]
        for w in windows:
            w.close()
        if self.tray is not None:
            self.tray.hide()
            self.tray.setContextMenu(None)  # type: ignore[arg-type]
        # Deleted by Qt now, in order, rather than by Python's collector at exit.
        for obj in (*windows, self.tray_menu, self.tray):
            if obj is not None:
                obj.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def apply_scheme(app: QApplication, dark: bool) -> None:
    """Fusion with a light or dark palette, every text at 4.5:1 and every control outline at 3:1 (qt_look).
    (Platforms that report a dark scheme without a dark palette, and Qt's offscreen platform, would
    otherwise paint light.)"""
    apply_look(app, dark)


def follow_system_scheme(app: QApplication) -> None:
    """Paint the app light or dark as the system's scheme is, now and when it changes."""
    hints = app.styleHints()
    apply_scheme(app, hints.colorScheme() == Qt.ColorScheme.Dark)
    hints.colorSchemeChanged.connect(lambda scheme: apply_scheme(app, scheme == Qt.ColorScheme.Dark))


def make_qapplication(argv: list[str] | None = None) -> QApplication:
    """The QApplication, styled to follow the system's light or dark scheme."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv or ["desktop-agent"])
    app.setApplicationName("desktop-agent")
    app.setOrganizationName("desktop-agent")
    app.setStyle("Fusion")  # follows the platform's colour scheme (light/dark) on every OS
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)  # the tray keeps it running
    follow_system_scheme(app)
    return app
