"""Stopping and pausing a run from another thread: the flags the loop checks at each safe point."""

from __future__ import annotations

import threading
from collections.abc import Callable

from desktop_agent.errors import RunAborted


class RunControl:
    """Abort and pause flags a front end sets (any thread) and the running agent checks between inputs."""

    def __init__(self) -> None:
        self.aborted = threading.Event()
        self._resumed = threading.Event()  # cleared while paused
        self._resumed.set()

    def abort(self) -> None:
        """Ask the run to stop at its next safe point."""
        self.aborted.set()

    def pause(self) -> None:
        """Ask the run to hold at its next safe point until resume()."""
        self._resumed.clear()

    def resume(self) -> None:
        """Let a paused run go on."""
        self._resumed.set()

    @property
    def paused(self) -> bool:
        """Whether the run is held."""
        return not self._resumed.is_set()

    def check(self, on_pause: Callable[[], None], on_resume: Callable[[], None]) -> None:
        """Raise RunAborted when stopping was asked; while paused, wait (still stoppable), telling
        `on_pause` and `on_resume`."""
        if self.aborted.is_set():
            raise RunAborted("run stopped on request")
        if self._resumed.is_set():
            return
        on_pause()
        while not self._resumed.wait(0.1):
            if self.aborted.is_set():
                raise RunAborted("run stopped on request")
        on_resume()
