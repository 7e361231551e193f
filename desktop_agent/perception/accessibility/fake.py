"""`FakeAccessibilitySource`: a scripted tree for tests of the logic that uses one (fusion, the harvester's
visibility filter), and for demos. It honours the time budget as the real source does."""

from __future__ import annotations

import time

from desktop_agent.geometry import ScreenLayout
from desktop_agent.perception.accessibility.nodes import A11yNode, A11ySnapshot
from desktop_agent.perception.accessibility.source import DEFAULT_BUDGET_S


class FakeAccessibilitySource:
    """Returns the given nodes. `delay_s` plays an application that answers slowly: when it exceeds the
    budget the read returns empty and incomplete after the budget, naming `slow_app` as unanswered."""

    name = "fake"

    def __init__(self, nodes: list[A11yNode] | tuple[A11yNode, ...] = (), delay_s: float = 0.0,
                 slow_app: str = "fake") -> None:
        self.nodes = tuple(nodes)
        self.delay_s = delay_s
        self.slow_app = slow_app
        self.reads = 0

    def read(self, budget_s: float = DEFAULT_BUDGET_S, within: ScreenLayout | None = None) -> A11ySnapshot:
        """The scripted snapshot (a fake for tests)."""
        self.reads += 1
        t0 = time.monotonic()
        if self.delay_s > budget_s:
            time.sleep(budget_s)
            return A11ySnapshot((), (), (time.monotonic() - t0) * 1000, False, (self.slow_app,), self.name)
        time.sleep(self.delay_s)
        keep = {n.window for n in self.nodes if n.parent is None
                and (within is None or n.box is None or n.box.on_layout(within))}
        nodes = tuple(n for n in self.nodes if n.window in keep)
        windows = tuple(dict.fromkeys(n.window for n in nodes))
        return A11ySnapshot(nodes, windows, (time.monotonic() - t0) * 1000, True, (), self.name)

    def close(self) -> None:
        """Nothing to release."""
        pass
