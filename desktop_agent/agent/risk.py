"""The approval floor: steps that always need a person's explicit yes, whatever the approval settings
(typing into a password field, sending or submitting, deleting, closing work that may be unsaved,
anything the planner marks risky)."""

from __future__ import annotations

import re

from desktop_agent.agent.proposal import Located
from desktop_agent.perception.elements import Element, ElementKind
from desktop_agent.planning.actions import Action, Click, Drag, Press, TypeText
from desktop_agent.planning.planner import PlannedStep

_DELETE = re.compile(r"\b(delete|remove|erase|trash|discard|destroy|wipe|uninstall|empty bin|empty trash|"
                     r"move to (the )?(bin|trash))\b", re.IGNORECASE)
_SEND = re.compile(r"\b(send|submit|post|publish|pay|purchase|buy|place order|check ?out|transfer|reply all)\b",
                   re.IGNORECASE)
_CLOSE = re.compile(r"\b(don'?t save|do not save|close without saving|discard changes|quit|exit)\b", re.IGNORECASE)
_PASSWORD = re.compile(r"pass ?(word|code|phrase)|\bpin\b|secret|kennwort|mot de passe|contrase[ñn]a|parola",
                       re.IGNORECASE)
_MASKED = re.compile(r"^[•●*·∙⚫]{3,}$")
_ICON_DELETE = {"trash", "delete", "close"}  # close: an "x" on a tab or document can drop unsaved work
_ICON_SEND = {"send", "upload", "share"}
PASSWORD_RISK = "typing into a password field"
_CLOSING_KEYS = ({"alt", "f4"}, {"ctrl", "w"}, {"ctrl", "q"}, {"shift", "delete"})


def _words(el: Element) -> str:
    return el.text


def _icon_names(el: Element) -> set[str]:
    return {name for name, prob in el.icon[:1] if prob >= 0.5}


def _is_password_field(loc: Located) -> bool:
    el = loc.result.element
    if _PASSWORD.search(el.text or "") or _MASKED.match((el.text or "").strip()) or _PASSWORD.search(
            loc.target.text or loc.target.label or ""):
        return True
    if loc.parsed is None:
        return False
    b = el.bbox
    for other in loc.parsed.elements:
        if other.kind != ElementKind.TEXT or other is el or not _PASSWORD.search(other.text):
            continue
        o = other.bbox
        same_row_left = abs(o.center.y - b.center.y) < max(b.height, 12) and b.x1 - 320 <= o.x2 <= b.x1 + 8
        just_above = 0 <= b.y1 - o.y2 <= 40 and o.x1 < b.x2 and o.x2 > b.x1
        if same_row_left or just_above:
            return True
    return False


def step_risk(planned: PlannedStep, targets: list[Located]) -> str | None:
    """Why this step must be approved by a person explicitly, or None."""
    action: Action = planned.action
    if isinstance(action, TypeText) and targets and _is_password_field(targets[0]):
        return PASSWORD_RISK
    if isinstance(action, Click | Drag) and targets:
        el = targets[0].result.element
        words = f"{_words(el)} {targets[0].target.text or ''} {targets[0].target.label or ''}"
        icons = _icon_names(el) if not el.text else set()
        if _DELETE.search(words) or icons & _ICON_DELETE:
            return "deleting or closing something"
        if _SEND.search(words) or icons & _ICON_SEND:
            return "sending or submitting"
        if _CLOSE.search(words):
            return "closing work that may be unsaved"
    if isinstance(action, Press) and {k.lower() for k in action.keys} in _CLOSING_KEYS:
        return "closing work that may be unsaved" if "delete" not in action.keys else "deleting"
    if planned.risky:
        return "the planner marked it risky"
    return None
