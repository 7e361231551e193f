"""The accessibility package's logic without a bus: boxes between spaces, states, the time budget of a
source, which nodes are seen, the platform stubs, and the D-Bus wire format against jeepney's."""

from __future__ import annotations

import sys
import time

import pytest
from jeepney import DBusAddress, new_error, new_method_call, new_method_return
from jeepney.low_level import Endianness, HeaderFields, Parser

from desktop_agent.geometry import FrameGeometry, Monitor, Rect, ScreenLayout, parse_monitor_spec
from desktop_agent.perception.accessibility import (
    A11yNode,
    A11yStates,
    A11yWindow,
    AccessibilitySource,
    AccessibilityUnavailable,
    AxSource,
    DesktopRect,
    FakeAccessibilitySource,
    UiaSource,
    default_source,
)
from desktop_agent.perception.accessibility.atspi_constants import has, role_name, state_set
from desktop_agent.perception.accessibility.dbus_wire import ERROR, METHOD_RETURN, _parse, method_call
from desktop_agent.perception.accessibility.visibility import ScreenWindow, visible_nodes

WINDOW = A11yWindow("Editor", "frame", DesktopRect(100, 100, 500, 400), "editor", 42)
OTHER = A11yWindow("Other", "frame", DesktopRect(300, 50, 700, 300), "other", 43)


def _node(i: int, role: str, name: str, box: DesktopRect | None, parent: int | None,
          window: A11yWindow = WINDOW, depth: int = 1) -> A11yNode:
    return A11yNode(i, role, name, A11yStates(), box, window, parent, depth)


def _tree() -> list[A11yNode]:
    return [
        _node(0, "frame", "Editor", WINDOW.box, None, depth=0),
        _node(1, "menu bar", "", DesktopRect(100, 120, 500, 140), 0),
        _node(2, "menu", "File", DesktopRect(104, 120, 140, 140), 1, depth=2),
        _node(3, "menu item", "Open", DesktopRect(104, 140, 220, 160), 2, depth=3),  # in the open popup
        _node(4, "list", "", DesktopRect(110, 200, 290, 300), 0),
        _node(5, "list item", "row 1", DesktopRect(110, 200, 290, 220), 4, depth=2),
        _node(6, "list item", "row 6", DesktopRect(110, 290, 290, 310), 4, depth=2),  # half below the viewport
        _node(7, "push button", "Save", DesktopRect(400, 350, 480, 380), 0),  # under the other window? no
        _node(8, "push button", "Covered", DesktopRect(320, 200, 380, 230), 0),  # under the other window
        _node(9, "frame", "Other", OTHER.box, None, window=OTHER, depth=0),
        _node(10, "push button", "OK", DesktopRect(600, 250, 680, 280), 9, window=OTHER),
    ]


def test_desktop_boxes_map_into_a_frame_and_back() -> None:
    mon = Monitor(2, 1024, 0, 1280, 800, scale=2.0)
    geo = FrameGeometry(mon, 2560, 1600)
    box = DesktopRect.from_xywh(1124, 50, 80, 24)
    img = box.to_image(geo)
    assert img == Rect(200, 100, 360, 148)
    assert DesktopRect.from_image(img, geo) == box
    assert box.center.x == 1164 and box.on_layout(ScreenLayout((mon,)))
    assert not DesktopRect(0, 0, 10, 10).on_layout(ScreenLayout((mon,)))
    assert box.intersection(DesktopRect(0, 0, 1130, 60)) == DesktopRect(1124, 50, 1130, 60)
    assert box.intersection(DesktopRect(0, 0, 10, 10)) is None


def test_states_round_trip_by_name_and_from_atspi_bits() -> None:
    s = A11yStates(enabled=True, focused=True, secret=True)
    assert s.names() == ["enabled", "focused", "secret", "showing"]
    assert A11yStates.from_names(s.names()) == s
    bits = state_set([1126170882, 0])  # a GTK frame: active, enabled, sensitive, showing, visible
    assert has(bits, 1) and has(bits, 8) and has(bits, 25) and has(bits, 30) and not has(bits, 12)
    assert role_name(40) == "password text" and role_name(43) == "push button" and role_name(999) == "role 999"


def test_fake_source_keeps_to_its_budget_and_filters_by_monitor() -> None:
    nodes = _tree()
    fake = FakeAccessibilitySource(nodes)
    assert isinstance(fake, AccessibilitySource)
    snap = fake.read()
    assert snap.complete and len(snap.nodes) == len(nodes) and len(snap.windows) == 2
    assert [n.name for n in snap.find("save", role="push button")] == ["Save"]
    left = parse_monitor_spec("250x800+0+0")  # only the editor's window reaches this monitor
    assert {w.title for w in fake.read(within=left).windows} == {"Editor"}
    slow = FakeAccessibilitySource(nodes, delay_s=5.0, slow_app="editor")
    t0 = time.monotonic()
    snap = slow.read(budget_s=0.05)
    assert time.monotonic() - t0 < 1.0
    assert not snap.complete and snap.unanswered == ("editor",) and not snap.nodes


def test_visible_nodes_drop_covered_and_scrolled_out_parts() -> None:
    snap = FakeAccessibilitySource(_tree()).read()
    screen = DesktopRect(0, 0, 800, 600)
    windows = [ScreenWindow(DesktopRect(100, 100, 500, 400), 42),  # the editor, bottom
               ScreenWindow(DesktopRect(300, 50, 700, 300), 43),  # the other app, on top
               ScreenWindow(DesktopRect(104, 140, 220, 200), 42, popup=True)]  # the editor's open menu
    seen = {v.node.name: v.box for v in visible_nodes(snap, windows, screen)}
    assert "Covered" not in seen  # under the other app's window
    assert seen["Open"] == DesktopRect(104, 140, 220, 160)  # in its popup, outside the menu bar's box
    assert seen["row 1"] == DesktopRect(110, 200, 290, 220)
    assert seen["row 6"] == DesktopRect(110, 290, 290, 300)  # clipped to the list's viewport
    assert "Save" in seen and "OK" in seen
    assert "File" in seen and "Editor" not in seen  # the frame is partly covered
    # A main-window control under the app's own popup is not seen either.
    popup_over_list = [*windows, ScreenWindow(DesktopRect(100, 190, 300, 240), 42, popup=True)]
    assert "row 1" not in {v.node.name for v in visible_nodes(snap, popup_over_list, screen)}


def test_other_platforms_name_what_is_missing() -> None:
    for stub in (UiaSource(), AxSource()):
        with pytest.raises(AccessibilityUnavailable, match="not implemented"):
            stub.read()
    expected = {"win32": UiaSource, "darwin": AxSource}.get(sys.platform)
    if expected is not None:
        assert isinstance(default_source(), expected)
    else:
        assert default_source().name == "atspi"


def _jeepney_parse(data: bytes):  # type: ignore[no-untyped-def]
    p = Parser()
    p.add_data(data)
    return p.get_next_message()


@pytest.mark.parametrize(("signature", "args"), [
    ("", ()), ("u", (0,)), ("s", ("org.a11y.atspi.Accessible",)), ("ss", ("org.a11y.atspi.Accessible", "Name")),
    ("ss", ("Zürich — 東京", "x")),
])
def test_wire_calls_read_back_with_jeepney(signature: str, args: tuple[str | int, ...]) -> None:
    data = method_call(77, ":1.234", "/org/a11y/atspi/accessible/2147483700", "org.freedesktop.DBus.Properties",
                       "Get", signature, args)
    msg = _jeepney_parse(data)
    f = msg.header.fields
    assert msg.header.serial == 77 and msg.body == args
    assert f[HeaderFields.path] == "/org/a11y/atspi/accessible/2147483700"
    assert (f[HeaderFields.destination], f[HeaderFields.member]) == (":1.234", "Get")
    assert f.get(HeaderFields.signature, "") == signature


@pytest.mark.parametrize(("signature", "body"), [
    ("u", (23,)), ("au", ([1126170882, 0],)), ("(iiii)", ((-2147483648, 5, 7, 9),)), ("v", (("s", "Untitled"),)),
    ("v", (("i", 5),)), ("a(so)", ([(":1.2", f"/org/a11y/atspi/accessible/{i}") for i in range(7)],)),
    ("a(so)", ([],)), ("a{sv}", ({"Name": ("s", "File"), "ChildCount": ("i", 3), "Parent": ("(so)", (":1.2", "/p"))},)),
])
def test_wire_replies_from_jeepney_parse(signature: str, body: tuple[object, ...]) -> None:
    call = new_method_call(DBusAddress("/x", bus_name=":1.1", interface="a.b"), "M")
    call.header.serial = 9
    for endian in (Endianness.little, Endianness.big):
        msg = new_method_return(call, signature, body)
        msg.header.endianness = endian
        reply = _parse(msg.serialise(serial=11))
        assert (reply.kind, reply.reply_serial, reply.body) == (METHOD_RETURN, 9, body)
    err = _parse(new_error(call, "org.freedesktop.DBus.Error.UnknownMethod", "s", ("no",)).serialise(serial=12))
    assert (err.kind, err.error, err.body) == (ERROR, "org.freedesktop.DBus.Error.UnknownMethod", ("no",))


def test_a_dialog_of_the_same_app_covers_its_main_window() -> None:
    """A Save dialog nearly the size of its app's main window, on top of it: the main window's toolbar button
    under the dialog is not offered (it once was: the dialog was taken for the main window itself)."""
    main = A11yWindow("draft.txt - Geany", "frame", DesktopRect(40, 40, 1000, 700), "geany", 7)
    dialog = A11yWindow("Save File", "dialog", DesktopRect(0, 0, 1100, 800), "geany", 7)
    snap = FakeAccessibilitySource([
        _node(0, "frame", main.title, main.box, None, window=main, depth=0),
        _node(1, "push button", "Save", DesktopRect(203, 89, 246, 140), 0, window=main),
        _node(2, "dialog", dialog.title, dialog.box, None, window=dialog, depth=0),
        _node(3, "push button", "Save", DesktopRect(995, 755, 1091, 789), 2, window=dialog),
    ]).read()
    windows = [ScreenWindow(DesktopRect(40, 20, 1000, 700), 7),  # the main window with its title bar
               ScreenWindow(DesktopRect(0, 0, 1100, 800), 7)]  # the dialog, on top
    seen = [(v.node.name, v.node.window.title) for v in visible_nodes(snap, windows, DesktopRect(0, 0, 1280, 800))]
    assert ("Save", "Save File") in seen and ("Save", main.title) not in seen
    # Without the dialog the main window's button shows again.
    alone = [v.node.name for v in visible_nodes(snap, windows[:1], DesktopRect(0, 0, 1280, 800))]
    assert "Save" in alone
