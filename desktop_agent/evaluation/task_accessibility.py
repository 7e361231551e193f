"""A task's desktop with the accessibility tree on, for `eval tasks --accessibility on|both`.

The plain `TaskEnvironment` starts apps without their accessibility bridges (`NO_AT_BRIDGE=1`, no AT-SPI
bus): the agent sees pixels only. This one adds what a desktop session provides: an AT-SPI bus for the
task's display (published on its root window, where GTK 3, Qt and the agent find it) and Qt's switch
(`QT_LINUX_ACCESSIBILITY_ALWAYS_ON`). GTK 2 apps stay without a tree (their bridge is a module to load).
"""

from __future__ import annotations

from desktop_agent.evaluation.task_env import TaskEnvironment
from desktop_agent.perception.accessibility.atspi_bus import PrivateAtspiBus


class AccessibleTaskEnvironment(TaskEnvironment):
    """A task's desktop whose apps publish their accessibility trees on a bus of the task's own."""

    atspi: PrivateAtspiBus | None = None

    def _start_bus(self) -> None:
        super()._start_bus()
        # Its sockets in the task's home: apps in a private /tmp reach that, not the real /tmp.
        runtime = self.home / ".runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        self.atspi = PrivateAtspiBus.start(self.display, parent=runtime)

    def env(self) -> dict[str, str]:
        """The task's environment with its own AT-SPI bus."""
        env = super().env()
        env.pop("NO_AT_BRIDGE", None)
        env.pop("AT_SPI_BUS_ADDRESS", None)  # the task's bus, found on its display, not the caller's
        env["QT_LINUX_ACCESSIBILITY_ALWAYS_ON"] = "1"
        return env

    def stop(self) -> None:
        """Stop the apps, then the accessibility bus."""
        try:
            super().stop()
        finally:
            if self.atspi is not None:
                self.atspi.stop()
                self.atspi = None
