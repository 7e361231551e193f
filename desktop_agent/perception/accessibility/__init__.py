"""The accessibility trees of the windows on screen: roles, names, states and desktop boxes of controls,
read live from the platform's accessibility API within a time budget (AT-SPI on Linux).

`fusion` makes one element list of a tree and a vision parse (the agent's default where a tree is there);
`reader.TreeReader` reads it beside each parse within its budget. Also the source of truth of the training
data the harvester in `models/harvest/` writes.
"""

from desktop_agent.perception.accessibility.fake import FakeAccessibilitySource
from desktop_agent.perception.accessibility.nodes import A11yNode, A11ySnapshot, A11yStates, A11yWindow, DesktopRect
from desktop_agent.perception.accessibility.source import (
    DEFAULT_BUDGET_S,
    AccessibilityError,
    AccessibilitySource,
    AccessibilityUnavailable,
    AxSource,
    UiaSource,
    default_source,
)

__all__ = ["DEFAULT_BUDGET_S", "A11yNode", "A11ySnapshot", "A11yStates", "A11yWindow", "AccessibilityError",
           "AccessibilitySource", "AccessibilityUnavailable", "AxSource", "DesktopRect", "FakeAccessibilitySource",
           "UiaSource", "default_source"]
