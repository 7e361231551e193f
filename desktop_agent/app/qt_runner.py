"""Runs the agent off the GUI thread and turns its events into Qt signals."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop_agent.agent import Agent, AgentEvent, AgentSettings, RunOutcome
from desktop_agent.approval import Approver
from desktop_agent.capture.screen import Screen
from desktop_agent.errors import AgentError
from desktop_agent.execution.input_driver import InputDriver
from desktop_agent.planning.choice import PlannerOptions, make_planner
from desktop_agent.runs.store import RunStore


class AgentRunner(QObject):
    """One run at a time. Signals arrive in the GUI thread (queued across threads)."""

    agent_event = Signal(object)  # AgentEvent
    finished = Signal(object)  # RunOutcome, or an error message (str) when the run could not start
    status = Signal(str)

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

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, task: str, options: PlannerOptions, approve_mode: str = "ask") -> bool:
        if self.running:
            return False
        self._stop_requested.clear()
        opener = getattr(self.approver, "inner", self.approver)
        if hasattr(opener, "open"):
            opener.open()
        self._thread = threading.Thread(target=self._run, args=(task, options, approve_mode), name="agent-run",
                                        daemon=True)
        self._thread.start()
        return True

    def _run(self, task: str, options: PlannerOptions, approve_mode: str) -> None:
        try:
            if options.kind == "direct":
                planner = make_planner(options, task)  # a bad script fails here, before any model loads
            if self._parser is None:
                self.status.emit("loading the perception models")
                from desktop_agent.perception.parser import ScreenParser

                self._parser = ScreenParser()
            if options.kind != "direct":
                self.status.emit(f"loading the planner: {options.describe()}")
                planner = make_planner(options, task)
            if self._stop_requested.is_set():
                self.finished.emit("stopped before the run started")
                return
            store = RunStore(self.store_home)
            self.agent = Agent(self.screen, self._parser, self.driver, store, self.approver, self.settings,
                               on_event=self._on_event)
            if self._stop_requested.is_set():
                self.agent.abort()
            outcome: RunOutcome = self.agent.run(task, planner, approve_mode)
            store.close()
            self.finished.emit(outcome)
        except AgentError as exc:
            self.finished.emit(str(exc))
        except Exception as exc:  # never leave the GUI waiting on a dead thread
            self.finished.emit(f"internal error: {exc!r}")

    def _on_event(self, event: AgentEvent) -> None:
        self.agent_event.emit(event)

    def stop(self) -> None:
        """Abort the run at once: between steps or during one; no further input is sent."""
        self._stop_requested.set()
        if self.agent is not None:
            self.agent.abort()
        close = getattr(self.approver, "inner", self.approver)
        if hasattr(close, "close"):
            close.close()

    def pause(self) -> None:
        if self.agent is not None:
            self.agent.pause()

    def resume(self) -> None:
        if self.agent is not None:
            self.agent.resume()

    def wait(self, timeout: float = 30.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
