"""The one interface every accessibility backend implements, its errors, and the platform's default.

Linux reads AT-SPI over D-Bus (`atspi.AtspiSource`, tested). Windows and macOS are named here and not
implemented yet (untested paths that raise `AccessibilityUnavailable` with what to use):

* Windows: UI Automation through `uiautomation` (Apache-2.0) over `comtypes` (MIT): walk the control view
  from each top-level window, `BoundingRectangle` in physical screen pixels, `ControlType`, `Name`,
  `IsEnabled`, `HasKeyboardFocus`, `IsPassword`, with a per-call timeout via `UIA_TransactionTimeout`.
* macOS: the AX API through `pyobjc-framework-ApplicationServices` (MIT): `AXUIElementCreateApplication`
  per running app, `kAXRoleAttribute`, `kAXTitleAttribute`, `kAXPositionAttribute`/`kAXSizeAttribute` in
  points (multiply by the monitor's scale), `AXUIElementSetMessagingTimeout` per app; needs the
  Accessibility permission in System Settings.
"""

from __future__ import annotations

import sys
from typing import Protocol, runtime_checkable

from desktop_agent.errors import AccessibilityError as AccessibilityError  # raised by the backends; defined there
from desktop_agent.errors import AccessibilityUnavailable
from desktop_agent.geometry import ScreenLayout
from desktop_agent.perception.accessibility.nodes import A11ySnapshot

# A step's perception must not wait longer than this for a tree; the vision result stands in for it.
DEFAULT_BUDGET_S = 0.15


@runtime_checkable
class AccessibilitySource(Protocol):
    """Reads the accessible objects of the windows on screen, within a time budget."""

    name: str

    def read(self, budget_s: float = DEFAULT_BUDGET_S, within: ScreenLayout | None = None) -> A11ySnapshot:
        """The nodes of every showing window (only those on `within`'s monitors when given). Never takes
        much longer than `budget_s`: what has not answered by then is left out and the snapshot says so."""
        ...

    def close(self) -> None:
        """Release connections; the source may be read again afterwards (it reconnects)."""
        ...


class UiaSource:
    """Windows UI Automation (untested, not implemented): see this module's docstring."""

    name = "uia"

    def read(self, budget_s: float = DEFAULT_BUDGET_S, within: ScreenLayout | None = None) -> A11ySnapshot:
        """Not implemented: raises AccessibilityUnavailable."""
        raise AccessibilityUnavailable(
            "reading UI Automation trees on Windows is not implemented yet (planned: the uiautomation package)")

    def close(self) -> None:
        """Nothing to release."""
        pass


class AxSource:
    """macOS AX API (untested, not implemented): see this module's docstring."""

    name = "ax"

    def read(self, budget_s: float = DEFAULT_BUDGET_S, within: ScreenLayout | None = None) -> A11ySnapshot:
        """Not implemented: raises AccessibilityUnavailable."""
        raise AccessibilityUnavailable(
            "reading AX trees on macOS is not implemented yet (planned: pyobjc-framework-ApplicationServices)")

    def close(self) -> None:
        """Nothing to release."""
        pass


def default_source() -> AccessibilitySource:
    """This platform's accessibility source: AT-SPI on Linux, the (untested) stubs elsewhere."""
    if sys.platform.startswith("win"):
        return UiaSource()
    if sys.platform == "darwin":
        return AxSource()
    from desktop_agent.perception.accessibility.atspi import AtspiSource

    return AtspiSource()
