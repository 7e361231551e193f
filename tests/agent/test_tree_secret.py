"""Which point the accessibility tree puts in a password field: the field itself, or the caption beside or
above one (typing aimed at the caption must be masked like typing into the field)."""

from __future__ import annotations

from desktop_agent.agent.risk import tree_secret_at
from desktop_agent.geometry import DesktopPoint, DesktopRect
from desktop_agent.perception.accessibility.nodes import A11yNode, A11yStates, A11yWindow

WIN = A11yWindow("Sign in", "frame", DesktopRect(0, 0, 800, 600), "app", 1)


def node(i: int, role: str, box: tuple[int, int, int, int], **states: bool) -> A11yNode:
    return A11yNode(i, role, f"n{i}", A11yStates(**states), DesktopRect(*box), WIN, 0 if i else None, 1)


def form(field_role: str = "password text", secret: bool = True, field_box: tuple[int, int, int, int] = (
        200, 100, 400, 124)) -> list[A11yNode]:
    return [node(0, "frame", (0, 0, 800, 600)),
            node(1, "label", (100, 104, 180, 120)),  # the caption, e.g. "Code"
            node(2, field_role, field_box, editable=True, secret=secret),
            node(3, "label", (100, 300, 180, 316)),  # an unrelated caption far below
            node(4, "text", (200, 296, 400, 320), editable=True)]


def test_the_field_itself_and_its_caption_are_secret() -> None:
    nodes = form()
    assert tree_secret_at(nodes, DesktopPoint(300, 112))
    assert tree_secret_at(nodes, DesktopPoint(140, 112))  # the caption left of the password field


def test_a_caption_above_its_password_field_is_secret() -> None:
    nodes = form(field_box=(100, 140, 300, 164))
    assert tree_secret_at(nodes, DesktopPoint(140, 112))


def test_ordinary_fields_and_far_captions_are_not() -> None:
    nodes = form()
    assert not tree_secret_at(nodes, DesktopPoint(300, 308))  # an ordinary text field
    assert not tree_secret_at(nodes, DesktopPoint(140, 308))  # its caption: the password field is far above
    assert not tree_secret_at(form(field_role="text", secret=False), DesktopPoint(140, 112))
    assert not tree_secret_at(nodes, DesktopPoint(790, 590))  # only the window there
    assert not tree_secret_at(nodes, DesktopPoint(900, 700))  # nothing there


def test_an_editable_field_next_to_a_password_field_is_not_taken_for_it() -> None:
    # The user-name field left of the password row is editable: the caption rule does not reach it.
    nodes = [node(0, "frame", (0, 0, 800, 600)), node(1, "text", (20, 100, 180, 124), editable=True),
             node(2, "password text", (200, 100, 400, 124), editable=True, secret=True)]
    assert not tree_secret_at(nodes, DesktopPoint(100, 112))
