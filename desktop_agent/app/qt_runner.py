"""Runs the agent off the GUI thread and turns its events into Qt signals."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop_agent.agent import Agent, AgentEvent, AgentSettings, RunOutcome
from desktop_agent.agent.approval import Approver
from desktop_agent.assemble import assemble_run
from desktop_agent.capture.screen import Screen
from desktop_agent.config import RunOptions
from desktop_agent.errors import AgentError
from desktop_agent.execution.input_driver import InputDriver
from desktop_agent.planning.choice import make_planner
from desktop_agent.runs.store import RunStore


class AgentRunner(QObject):
    """One run at a time. Signals arrive in the GUI thread (queued across threads)."""

    agent_event = Signal(object)  # AgentEvent
    finished = Signal(object)  # RunOutcome, or an error message (str) when the run could not start
    status = Signal(str)
    started = Signal()  # a run was started: emitted at once, in the GUI thread, before anything loads
    model_text = Signal(str)  # a piece of the model's answer as it streams (plain text; never logged)

    def __init__(self, screen: Screen, driver: InputDriver, store_home: Any, approver: Approver,
                 settings: AgentSettings | None = None) -> None:
        super().__init__()
        self.screen = screen
        self.driver = driver
        self.store_home = store_home
        self.approver = approver
        self.settings = settings or AgentSettings()
        self.agent: Agent | None = None
        self._thread: threading.Thread | None = None
        self._parser: Any = None  # loaded once, in the worker (a second of model loading)
        self._stop_requested = threading.Event()
        self._closed = threading.Event()  # the app is shutting down: the worker's late signals are dropped

    @property
    def stop_requested(self) -> bool:
        """The person stopped the current (or last) run."""
        return self._stop_requested.is_set()

    @property
    def running(self) -> bool:
        """Whether a run is in progress on the worker thread."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, task: str, options: RunOptions) -> bool:
        """Start `task` on the worker thread, assembled from `options` with `approver` as the person who is
        asked (after the approval policy); False while a run is in progress."""
        if self.running:
            return False
        self._stop_requested.clear()
        self.approver.open()
        self._thread = threading.Thread(target=self._run, args=(task, options), name="agent-run", daemon=True)
        self.started.emit()
        self._thread.start()
        return True

    def _run(self, task: str, run_options: RunOptions) -> None:
        try:
            from desktop_agent.planning.script import check_task_text

            check_task_text(task)  # a script or a goal: UTF-8, bounded, as on the command line
            options = run_options.planner_options()
            if options.kind == "direct":
                planner = make_planner(options, task)  # a bad script fails here, before any model loads
            if self._parser is None:
                self._emit(self.status, "loading the perception models")
                from desktop_agent.perception.parser import ScreenParser

                self._parser = ScreenParser()
            if options.kind != "direct":
                self._emit(self.status, f"loading the planner: {options.describe()}")
                planner = make_planner(options, task)
                if hasattr(planner, "on_token"):  # a model planner: its answers stream to the UI
                    planner.on_token = self._on_token
            if self._stop_requested.is_set():
                self._emit(self.finished, "stopped before the run started")
                return
            store = RunStore(self.store_home)
            run = assemble_run(run_options, screen=self.screen, parser=self._parser, driver=self.driver, store=store,
                               person=self.approver, settings=self.settings, on_event=self._on_event)
            self.agent = run.agent
            if self._stop_requested.is_set():
                self.agent.abort()
            try:
                outcome: RunOutcome = self.agent.run(task, planner, run.approve_mode)
            finally:
                run.close()
            store.close()
            self._emit(self.finished, outcome)
        except AgentError as exc:
            self._emit(self.finished, str(exc))
        except Exception as exc:  # never leave the GUI waiting on a dead thread
            self._emit(self.finished, f"internal error: {exc!r}")

    def _emit(self, signal: Any, value: Any) -> None:
        """Emit from the worker, unless the app is shutting down (its receivers may be gone)."""
        if self._closed.is_set():
            return
        with contextlib.suppress(RuntimeError):  # the runner itself was deleted while the worker finished
            signal.emit(value)

    def _on_event(self, event: AgentEvent) -> None:
        self._emit(self.agent_event, event)

    def _on_token(self, piece: str) -> None:
        self._emit(self.model_text, piece)

    def stop(self, why: str | None = None) -> None:
        """Abort the run at once: between steps or during one; no further input is sent. A step waiting for
        approval is refused: the run ends as stopped by the person (or, with `why`, for that reason)."""
        self._stop_requested.set()
        if self.agent is not None:
            self.agent.abort()
        self.approver.close(why if why is not None else "stopped by you")

    def close(self) -> None:
        """The app is shutting down: nothing more is emitted to it."""
        self._closed.set()

    def pause(self) -> None:
        """Pause the run in progress at its next safe point."""
        if self.agent is not None:
            self.agent.pause()

    def resume(self) -> None:
        """Resume a paused run."""
        if self.agent is not None:
            self.agent.resume()

    def wait(self, timeout: float = 30.0) -> None:
        """Wait (up to `timeout` seconds) for the worker thread to end."""
        if self._thread is not None:
            self._thread.join(timeout)
