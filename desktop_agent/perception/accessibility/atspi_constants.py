"""AT-SPI's role numbers and state bits as they travel over D-Bus (`AtspiRole`, `AtspiStateType` in
at-spi2-core's atspi-constants.h). Role names are AT-SPI's own ("push button", "password text")."""

from __future__ import annotations

# AtspiRole, by number. 21 (focus traversable) and 70 (extended) are reserved slots.
_ROLES = (
    "invalid", "accelerator label", "alert", "animation", "arrow", "calendar", "canvas", "check box",
    "check menu item", "color chooser", "column header", "combo box", "date editor", "desktop icon",
    "desktop frame", "dial", "dialog", "directory pane", "drawing area", "file chooser", "filler",
    "focus traversable", "font chooser", "frame", "glass pane", "html container", "icon", "image",
    "internal frame", "label", "layered pane", "list", "list item", "menu", "menu bar", "menu item",
    "option pane", "page tab", "page tab list", "panel", "password text", "popup menu", "progress bar",
    "push button", "radio button", "radio menu item", "root pane", "row header", "scroll bar", "scroll pane",
    "separator", "slider", "spin button", "split pane", "status bar", "table", "table cell",
    "table column header", "table row header", "tearoff menu item", "terminal", "text", "toggle button",
    "tool bar", "tool tip", "tree", "tree table", "unknown", "viewport", "window", "extended", "header",
    "footer", "paragraph", "ruler", "application", "autocomplete", "edit bar", "embedded", "entry", "chart",
    "caption", "document frame", "heading", "page", "section", "redundant object", "form", "link",
    "input method window", "table row", "tree item", "document spreadsheet", "document presentation",
    "document text", "document web", "document email", "comment", "list box", "grouping", "image map",
    "notification", "info bar", "level bar", "title bar", "block quote", "audio", "video", "definition",
    "article", "landmark", "log", "marquee", "math", "rating", "timer", "static", "math fraction",
    "math root", "subscript", "superscript", "description list", "description term", "description value",
    "footnote", "content deletion", "content insertion", "mark", "suggestion", "push button menu", "switch",
)
ROLE_PASSWORD_TEXT = 40
# Roles whose text the person types: their content is read (never a password field's).
VALUE_ROLES = frozenset({"text", "entry", "spin button"})


def role_name(number: int) -> str:
    """AT-SPI's name of a role number; `role 140` for one newer than this table."""
    return _ROLES[number] if 0 <= number < len(_ROLES) else f"role {number}"


# Roles of top-level objects: the windows an application shows.
WINDOW_ROLES = frozenset({"frame", "dialog", "window", "alert", "file chooser", "color chooser", "font chooser"})

# AtspiStateType bit positions in the two 32-bit words GetState returns.
ACTIVE = 1
CHECKED = 4
EDITABLE = 7
ENABLED = 8
EXPANDED = 10
FOCUSABLE = 11
FOCUSED = 12
PRESSED = 20
SELECTED = 23
SENSITIVE = 24
SHOWING = 25
VISIBLE = 30
MANAGES_DESCENDANTS = 31
INDETERMINATE = 32
READ_ONLY = 43


def state_set(words: list[int] | tuple[int, ...]) -> int:
    """The two 32-bit words of GetState as one integer of state bits."""
    out = 0
    for i, w in enumerate(words[:2]):
        out |= (int(w) & 0xFFFFFFFF) << (32 * i)
    return out


def has(bits: int, state: int) -> bool:
    """Whether state number `state` is set in the AT-SPI state bits."""
    return bool(bits >> state & 1)
