"""`TreeReader`: one bounded read of the accessibility tree beside each vision parse.

The read runs on a worker thread while the pixels are parsed and is collected once they are; whatever has
not come back by the budget (plus a little slack) is not waited for: that step uses the vision result
alone. A source that says there is no tree here is not asked again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from desktop_agent.geometry import FrameGeometry, ScreenLayout
from desktop_agent.perception.accessibility.fusion import TreeView, tree_view
from desktop_agent.perception.accessibility.nodes import A11ySnapshot
from desktop_agent.perception.accessibility.source import (
    DEFAULT_BUDGET_S,
    AccessibilityError,
    AccessibilitySource,
    AccessibilityUnavailable,
)
from desktop_agent.perception.accessibility.visibility import ScreenWindow
from desktop_agent.perception.accessibility.x_windows import StackingOrder

# Time past the budget a collected read may still take: the stacking order query and thread hand-over.
SLACK_S = 0.05


@dataclass(frozen=True, slots=True)
class TreeRead:
    """A snapshot and the display's windows bottom to top (None: unknown), read together."""

    snapshot: A11ySnapshot
    windows: list[ScreenWindow] | None

    def view(self, geometry: FrameGeometry) -> TreeView:
        """What of the tree the frame of `geometry` shows."""
        return tree_view(self.snapshot, self.windows, geometry)


class PendingRead:
    """A read in flight; `result()` waits for it until its deadline at most."""

    def __init__(self, reader: TreeReader, deadline: float) -> None:
        self._reader = reader
        self._deadline = deadline
        self._done = threading.Event()
        self._value: TreeRead | None = None
        self.error = ""

    def _finish(self, value: TreeRead | None, error: str = "") -> None:
        self._value, self.error = value, error
        self._done.set()

    def result(self) -> TreeRead | None:
        """The read, or None when it failed or is not back by its deadline (then it is left to finish)."""
        if not self._done.wait(max(0.0, self._deadline - time.monotonic())):
            self.error = "the tree did not come back within the budget"
            return None
        return self._value


class TreeReader:
    """Starts bounded reads of `source` with the display's stacking order (`windows`: a function that
    returns it, or None where unknown; by default the X server's, asked on a kept connection). At most one
    read is in flight: a new one is not started while the last is still out (a hung bus costs no more)."""

    def __init__(self, source: AccessibilitySource, budget_s: float = DEFAULT_BUDGET_S,
                 windows: Callable[[], list[ScreenWindow] | None] | None = None) -> None:
        self.source = source
        self.budget_s = budget_s
        self.windows = windows or StackingOrder()
        self.unavailable = ""  # why the source is not asked any more ("" while it is)
        self._busy = threading.Lock()

    def start(self, within: ScreenLayout | None = None) -> PendingRead:
        """Start reading the tree in the background; the pending read gives it (or None) by its deadline."""
        deadline = time.monotonic() + self.budget_s + SLACK_S
        pending = PendingRead(self, deadline)
        if self.unavailable:
            pending._finish(None, self.unavailable)
            return pending
        if not self._busy.acquire(blocking=False):
            pending._finish(None, "the last read is still out")
            return pending

        def run() -> None:
            try:
                snap = self.source.read(budget_s=self.budget_s, within=within)
                pending._finish(TreeRead(snap, self.windows()))
            except AccessibilityUnavailable as exc:
                self.unavailable = str(exc)
                pending._finish(None, str(exc))
            except AccessibilityError as exc:
                pending._finish(None, str(exc))
            except Exception as exc:  # a misbehaving tree never fails a step: the pixels stand
                pending._finish(None, f"{type(exc).__name__}: {exc}")
            finally:
                self._busy.release()

        threading.Thread(target=run, name="a11y-read", daemon=True).start()
        return pending

    def read(self, within: ScreenLayout | None = None) -> TreeRead | None:
        """A read, waited for (bounded as `start`)."""
        return self.start(within).result()

    def close(self) -> None:
        """Close the source and the kept X connection of the window stack."""
        self.source.close()
        if isinstance(self.windows, StackingOrder):
            self.windows.close()
