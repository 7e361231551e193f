"""What reading an accessibility tree returns: typed nodes with boxes in desktop coordinates."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from desktop_agent.geometry import DesktopRect


@dataclass(frozen=True, slots=True)
class A11yStates:
    """The states of a node that matter for acting on it. `secret` marks a password field (never read
    its text); `showing` means the toolkit says it is on screen (not that nothing covers it)."""

    enabled: bool = True
    focused: bool = False
    focusable: bool = False
    checked: bool = False
    selected: bool = False
    expanded: bool = False
    editable: bool = False
    read_only: bool = False
    secret: bool = False
    showing: bool = True

    def names(self) -> list[str]:
        """The states that are set, by name (`enabled` included): the JSON form."""
        return [f.name for f in fields(self) if getattr(self, f.name)]

    @staticmethod
    def from_names(names: list[str] | tuple[str, ...]) -> A11yStates:
        """The states named in `names` set, the others not."""
        given = set(names)
        return A11yStates(**{f.name: f.name in given for f in fields(A11yStates)})


@dataclass(frozen=True, slots=True)
class A11yWindow:
    """A top-level window of an application as its accessibility tree names it."""

    title: str
    role: str
    box: DesktopRect | None
    app: str
    pid: int | None
    active: bool = False


@dataclass(frozen=True, slots=True)
class A11yNode:
    """One accessible object on screen. `box` is in desktop coordinates (None when the toolkit gives no
    extents); `parent` is the index of the parent node in the snapshot, None for a window itself."""

    id: int
    role: str
    name: str
    states: A11yStates
    box: DesktopRect | None
    window: A11yWindow
    parent: int | None
    depth: int
    child_count: int = 0
    description: str = ""
    value: str | None = None  # an editable text field's content (never a password field's); None: not read

    @property
    def app(self) -> str:
        """The name of the application whose window holds the node."""
        return self.window.app

    def to_dict(self) -> dict[str, Any]:
        """The node as JSON-ready data."""
        out: dict[str, Any] = {
            "id": self.id, "role": self.role, "name": self.name, "states": self.states.names(),
            "box": self.box.as_list() if self.box else None, "app": self.window.app, "window": self.window.title,
            "parent": self.parent, "depth": self.depth,
        }
        if self.description:
            out["description"] = self.description
        if self.value is not None:
            out["value"] = self.value
        return out


@dataclass(frozen=True, slots=True)
class A11ySnapshot:
    """The accessible objects of the windows on screen at one moment, in tree order (a parent before its
    children). `complete` is False when the time budget ran out first or an application did not answer
    (those are named in `unanswered`): what came back in time is still here."""

    nodes: tuple[A11yNode, ...]
    windows: tuple[A11yWindow, ...]
    elapsed_ms: float
    complete: bool = True
    unanswered: tuple[str, ...] = ()
    source: str = ""
    stats: dict[str, int] = field(default_factory=dict)

    def find(self, name: str, role: str | None = None) -> list[A11yNode]:
        """Nodes whose name is `name` (case-insensitive), optionally of one role."""
        want = name.casefold()
        return [n for n in self.nodes if n.name.casefold() == want and (role is None or n.role == role)]

    def children(self, node: A11yNode) -> list[A11yNode]:
        """The nodes whose parent is `node`."""
        return [n for n in self.nodes if n.parent == node.id]

    def to_dict(self) -> dict[str, Any]:
        """The snapshot as JSON-ready data."""
        return {"source": self.source, "complete": self.complete, "unanswered": list(self.unanswered),
                "elapsed_ms": round(self.elapsed_ms, 1), "nodes": [n.to_dict() for n in self.nodes]}
