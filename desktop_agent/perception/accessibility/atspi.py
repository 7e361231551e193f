"""`AtspiSource`: the accessibility trees of Linux applications, read over AT-SPI's D-Bus protocol.

Talks D-Bus directly (no libatspi). Every request of a read is pipelined on one connection to the
accessibility bus, and the read ends at its deadline whatever is still outstanding: a slow or hung
application costs at most the budget and never blocks the caller; its nodes are left out and the snapshot
names it in `unanswered`. Subtrees that are not showing are never walked, and a node with more children
than `max_children` (a spreadsheet's cells) is not opened.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from desktop_agent.geometry import ScreenLayout
from desktop_agent.perception.accessibility import atspi_constants as c
from desktop_agent.perception.accessibility.atspi_bus import accessibility_bus_address
from desktop_agent.perception.accessibility.dbus_wire import ERROR, WireConnection, method_call
from desktop_agent.perception.accessibility.nodes import A11yNode, A11ySnapshot, A11yStates, A11yWindow, DesktopRect
from desktop_agent.perception.accessibility.source import DEFAULT_BUDGET_S, AccessibilityUnavailable

ACCESSIBLE = "org.a11y.atspi.Accessible"
COMPONENT = "org.a11y.atspi.Component"
TEXT = "org.a11y.atspi.Text"
MAX_VALUE = 2000  # characters of a field's content kept (a long document is not a field's value)
APPLICATION = "org.a11y.atspi.Application"
PROPERTIES = "org.freedesktop.DBus.Properties"
ROOT_PATH = "/org/a11y/atspi/accessible/root"
NULL_PATH = "/org/a11y/atspi/null"
COORD_TYPE_SCREEN = 0
# Toolkits whose Properties.GetAll answers in one call what otherwise takes two. Qt 5 crashes on it.
GET_ALL_TOOLKITS = frozenset({"gtk", "gail"})
# Requests in flight at once: enough to hide round trips, few enough that no socket buffer fills.
_WINDOW = 256
# GTK reports G_MININT for the position of objects it has no place for.
_NO_POSITION = -(2**30)

# A request: destination, object path, interface, method, signature, arguments.
_Request = tuple[str, str, str, str, str, tuple[str | int, ...]]


@dataclass
class _App:
    order: int
    bus_name: str
    name: str = ""
    pid: int | None = None
    toolkit: str = ""
    outstanding: int = 0


@dataclass
class _Node:
    bus_name: str
    path: str
    app: _App
    order: tuple[int, ...]  # child indexes from the application root: sorting by it gives tree order
    parent: _Node | None
    depth: int
    stage: int = 0  # 0: states asked; 1: role, name and box asked; 2: settled
    waiting: int = 0
    role: int = 0
    name: str = ""
    description: str = ""
    states: int = 0
    box: DesktopRect | None = None
    child_count: int = 0
    window: A11yWindow | None = None
    index: int = -1
    value: str | None = None
    value_asked: bool = False


@dataclass
class _Read:
    """One read's requests and what has come back."""

    deadline: float
    within: ScreenLayout | None
    exclude_pids: frozenset[int]
    queue: deque[tuple[_Request, Any, str]] = field(default_factory=deque)
    pending: dict[int, tuple[Any, str]] = field(default_factory=dict)
    apps: list[_App] = field(default_factory=list)
    kept: list[_Node] = field(default_factory=list)
    read_count: int = 0
    truncated: bool = False


def _accessible(node: _Node, method: str, interface: str = ACCESSIBLE, signature: str = "",
                args: tuple[str | int, ...] = ()) -> _Request:
    return (node.bus_name, node.path, interface, method, signature, args)


def _property(bus_name: str, path: str, interface: str, name: str) -> _Request:
    return (bus_name, path, PROPERTIES, "Get", "ss", (interface, name))


def _note_states(node: _Node, body: tuple[Any, ...]) -> None:
    node.states = c.state_set(body[0])


def _note_role(node: _Node, body: tuple[Any, ...]) -> None:
    node.role = int(body[0])


def _note_props(node: _Node, body: tuple[Any, ...]) -> None:
    props = {k: v[1] for k, v in body[0].items()}
    node.name = str(props.get("Name") or "")
    node.description = str(props.get("Description") or "")
    node.child_count = int(props.get("ChildCount") or 0)


def _note_name(node: _Node, body: tuple[Any, ...]) -> None:
    node.name = str(body[0][1] or "")


def _note_count(node: _Node, body: tuple[Any, ...]) -> None:
    node.child_count = int(body[0][1] or 0)


def _note_extents(node: _Node, body: tuple[Any, ...]) -> None:
    x, y, w, h = body[0]
    if w > 0 and h > 0 and x > _NO_POSITION and y > _NO_POSITION:
        node.box = DesktopRect.from_xywh(x, y, w, h)


def _note_value(node: _Node, body: tuple[Any, ...]) -> None:
    node.value = str(body[0])[:MAX_VALUE]


def _wants_value(node: _Node) -> bool:
    """An editable text field whose content is read: never a password field (its role says so)."""
    return (not node.value_asked and node.role != c.ROLE_PASSWORD_TEXT and c.has(node.states, c.EDITABLE)
            and c.role_name(node.role) in c.VALUE_ROLES)


# How each kind of answer about a node is noted on it (`children` opens nodes: see `_answer_node`).
_NODE_ANSWERS: dict[str, Callable[[_Node, tuple[Any, ...]], None]] = {
    "state": _note_states, "role": _note_role, "props": _note_props, "name": _note_name, "count": _note_count,
    "extents": _note_extents, "value": _note_value,
}


class AtspiSource:
    """Reads AT-SPI trees. `bus_address` is the accessibility bus (found from the environment, the X root
    window or the session bus when not given). The desktop-agent process's own windows are left out."""

    name = "atspi"

    def __init__(self, bus_address: str | None = None, max_nodes: int = 5000, max_children: int = 400,
                 exclude_pids: tuple[int, ...] = (), exclude_self: bool = True,
                 connect_timeout: float = 2.0) -> None:
        self.bus_address = bus_address
        self.max_nodes = max_nodes
        self.max_children = max_children
        self.exclude_pids = frozenset(exclude_pids) | ({os.getpid()} if exclude_self else set())
        self.connect_timeout = connect_timeout
        self._conn: WireConnection | None = None
        self._known: dict[str, tuple[str, int | None, str]] = {}  # bus name -> app name, pid, toolkit
        self._lock = threading.Lock()

    def close(self) -> None:
        """Drop the connection to the accessibility bus (a later read reconnects)."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def _connection(self) -> WireConnection:
        if self._conn is None:
            address = self.bus_address or accessibility_bus_address(timeout=self.connect_timeout)
            try:
                self._conn = WireConnection(address, self.connect_timeout)
            except (OSError, TimeoutError, ValueError) as e:
                raise AccessibilityUnavailable(f"cannot connect to the accessibility bus at {address}: {e}") from e
        return self._conn

    def read(self, budget_s: float = DEFAULT_BUDGET_S, within: ScreenLayout | None = None) -> A11ySnapshot:
        """The accessible objects of the windows on screen, read within the time budget."""
        with self._lock:
            # Connecting happens once per source, bounded by its own timeout rather than the read's budget.
            conn = self._connection()
            t0 = time.monotonic()
            st = _Read(deadline=t0 + budget_s, within=within, exclude_pids=self.exclude_pids)
            try:
                self._run(conn, st)
            except (OSError, ConnectionError) as e:
                self._drop()  # the bus went away: reconnect on the next read
                raise AccessibilityUnavailable(f"the accessibility bus connection failed: {e}") from e
            return self._snapshot(st, (time.monotonic() - t0) * 1000)

    # -- the pipelined walk --------------------------------------------------------------------------------

    def _ask(self, st: _Read, request: _Request, target: Any, what: str) -> None:
        st.queue.append((request, target, what))
        if isinstance(target, _App):
            target.outstanding += 1
        elif isinstance(target, _Node):
            target.app.outstanding += 1
            target.waiting += 1

    def _run(self, conn: WireConnection, st: _Read) -> None:
        self._ask(st, ("org.a11y.atspi.Registry", ROOT_PATH, ACCESSIBLE, "GetChildren", "", ()), None, "apps")
        while st.queue or st.pending:
            batch = []
            while st.queue and len(st.pending) < _WINDOW:
                request, target, what = st.queue.popleft()
                serial = conn.next_serial()
                batch.append(method_call(serial, *request))
                st.pending[serial] = (target, what)
            if batch:
                conn.send(batch, st.deadline)
            progressed = False
            for reply in conn.replies(st.deadline):
                entry = st.pending.pop(reply.reply_serial, None)
                if entry is None:
                    continue  # a late answer to an earlier read
                progressed = True
                self._answer(st, entry[0], entry[1], None if reply.kind == ERROR else reply.body)
                if st.queue or not st.pending:
                    break
            if not progressed:
                return  # the deadline passed

    def _answer(self, st: _Read, target: Any, what: str, body: tuple[Any, ...] | None) -> None:
        if what == "apps":
            self._answer_apps(st, body)
        elif isinstance(target, _App):
            self._answer_app(st, target, what, body)
        else:
            self._answer_node(st, target, what, body)

    def _answer_apps(self, st: _Read, body: tuple[Any, ...] | None) -> None:
        """The registry's applications: open the windows of those known, ask the others' process ids."""
        registered = [bus_name for bus_name, _path in (body[0] if body else [])]
        # A bus name is never reused: what is known of an application stays true while it runs.
        self._known = {b: k for b, k in self._known.items() if b in registered}
        for i, bus_name in enumerate(registered):
            app = _App(i, bus_name)
            st.apps.append(app)
            if bus_name in self._known:
                app.name, app.pid, app.toolkit = self._known[bus_name]
                if app.pid not in st.exclude_pids:
                    self._ask(st, (app.bus_name, ROOT_PATH, ACCESSIBLE, "GetChildren", "", ()), app, "windows")
                continue
            self._ask(st, ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "GetConnectionUnixProcessID", "s", (bus_name,)), app, "pid")

    def _answer_node(self, st: _Read, node: _Node, what: str, body: tuple[Any, ...] | None) -> None:
        """A node's answer: note it (or open its children), then settle the node once nothing is awaited."""
        node.app.outstanding -= 1
        node.waiting -= 1
        if body is not None:
            if what == "children":
                for i, (bus_name, path) in enumerate(body[0][: self.max_children]):
                    if path != NULL_PATH:
                        self._open(st, _Node(bus_name, path, node.app, (*node.order, i), node, node.depth + 1))
            elif what in _NODE_ANSWERS:
                _NODE_ANSWERS[what](node, body)
        if node.waiting == 0 and what != "children":
            self._settle(st, node)

    def _answer_app(self, st: _Read, app: _App, what: str, body: tuple[Any, ...] | None) -> None:
        app.outstanding -= 1
        if body is None:
            return
        if what == "pid":
            app.pid = int(body[0])
            if app.pid in st.exclude_pids:
                return
            # Replies come in the order asked: the toolkit is known before the windows are opened.
            self._ask(st, _property(app.bus_name, ROOT_PATH, ACCESSIBLE, "Name"), app, "app-name")
            self._ask(st, _property(app.bus_name, ROOT_PATH, APPLICATION, "ToolkitName"), app, "toolkit")
            self._ask(st, (app.bus_name, ROOT_PATH, ACCESSIBLE, "GetChildren", "", ()), app, "windows")
        elif what == "app-name":
            app.name = str(body[0][1])
        elif what == "toolkit":
            app.toolkit = str(body[0][1])
            self._known[app.bus_name] = (app.name, app.pid, app.toolkit)
        elif what == "windows":
            for i, (bus_name, path) in enumerate(body[0]):
                self._open(st, _Node(bus_name, path, app, (app.order, i), None, 0))

    def _open(self, st: _Read, node: _Node) -> None:
        """Ask for a node's states first: most of what an application holds is not showing."""
        if st.read_count >= self.max_nodes:
            st.truncated = True
            return
        st.read_count += 1
        self._ask(st, _accessible(node, "GetState"), node, "state")

    def _settle(self, st: _Read, node: _Node) -> None:
        """All asked so far has come back: ask the next thing, or keep the node and walk into it."""
        if node.stage == 0:
            if not c.has(node.states, c.SHOWING):
                return
            node.stage = 1
            self._ask(st, _accessible(node, "GetRole"), node, "role")
            if node.app.toolkit.casefold() in GET_ALL_TOOLKITS:
                self._ask(st, _accessible(node, "GetAll", PROPERTIES, "s", (ACCESSIBLE,)), node, "props")
            else:
                self._ask(st, _property(node.bus_name, node.path, ACCESSIBLE, "Name"), node, "name")
                self._ask(st, _property(node.bus_name, node.path, ACCESSIBLE, "ChildCount"), node, "count")
            self._ask(st, _accessible(node, "GetExtents", COMPONENT, "u", (COORD_TYPE_SCREEN,)), node, "extents")
            return
        if node.stage != 1:
            return
        if _wants_value(node):  # its role is known now: a field's content, asked once
            node.value_asked = True
            self._ask(st, _accessible(node, "GetText", TEXT, "ii", (0, MAX_VALUE)), node, "value")
            return
        node.stage = 2
        if node.parent is None:
            if st.within is not None and node.box is not None and not node.box.on_layout(st.within):
                return  # a window on no captured monitor
            node.window = A11yWindow(node.name, c.role_name(node.role), node.box, node.app.name, node.app.pid,
                                     c.has(node.states, c.ACTIVE))
        else:
            node.window = node.parent.window
        st.kept.append(node)
        if 0 < node.child_count <= self.max_children:
            self._ask(st, _accessible(node, "GetChildren"), node, "children")

    # -- the result ---------------------------------------------------------------------------------------

    def _snapshot(self, st: _Read, elapsed_ms: float) -> A11ySnapshot:
        nodes: list[A11yNode] = []
        windows: list[A11yWindow] = []
        for n in sorted(st.kept, key=lambda n: n.order):
            if n.window is None or (n.parent is not None and n.parent.index < 0):
                continue
            n.index = len(nodes)
            if n.parent is None:
                windows.append(n.window)
            bits = n.states
            states = A11yStates(
                enabled=c.has(bits, c.ENABLED), focused=c.has(bits, c.FOCUSED), focusable=c.has(bits, c.FOCUSABLE),
                checked=c.has(bits, c.CHECKED), selected=c.has(bits, c.SELECTED), expanded=c.has(bits, c.EXPANDED),
                editable=c.has(bits, c.EDITABLE), read_only=c.has(bits, c.READ_ONLY),
                secret=n.role == c.ROLE_PASSWORD_TEXT, showing=True)
            nodes.append(A11yNode(n.index, c.role_name(n.role), n.name, states, n.box, n.window,
                                  n.parent.index if n.parent is not None else None, n.depth, n.child_count,
                                  n.description, n.value))
        unanswered = tuple(a.name or a.bus_name for a in st.apps if a.outstanding > 0)
        complete = not st.pending and not st.queue and not st.truncated
        stats = {"apps": len(st.apps), "read": st.read_count, "kept": len(nodes), "outstanding": len(st.pending)}
        return A11ySnapshot(tuple(nodes), tuple(windows), elapsed_ms, complete, unanswered, self.name, stats)
