"""The direct planner's language: steps separated by `;` or new lines.

    click <target> | double-click <target> | right-click <target>
    type "<text>" [into <target>]
    press <keys>                      press ctrl+s, press enter
    scroll up|down [N] [on <target>]
    wait <seconds> | wait for <target>
    drag <target> to <target>

A target is visible text or an icon description, quoted or not (`click the "Save" button`).
"""

from __future__ import annotations

import re

from desktop_agent.errors import ScriptError
from desktop_agent.planning.actions import (
    Action,
    Click,
    Drag,
    Press,
    Scroll,
    Target,
    TypeText,
    Wait,
    WaitFor,
)

VERBS = ("click", "double-click", "right-click", "type", "press", "scroll", "wait", "drag")

_MODIFIERS = {"ctrl", "control", "alt", "shift", "super", "win", "winleft", "cmd", "command", "option", "meta"}
_NAMED_KEYS = _MODIFIERS | {
    "enter", "return", "tab", "esc", "escape", "space", "backspace", "delete", "del", "insert", "home", "end",
    "pageup", "pagedown", "pgup", "pgdn", "up", "down", "left", "right", "capslock", "printscreen", "menu",
    "apps", "numlock", "scrolllock", "pause", *(f"f{i}" for i in range(1, 25)),
}
_KEY_ALIASES = {"control": "ctrl", "escape": "esc", "return": "enter", "del": "delete", "pgup": "pageup",
                "pgdn": "pagedown", "cmd": "command", "super": "win", "meta": "win", "apps": "menu"}


def split_steps(script: str) -> list[str]:
    """Split on `;` and new lines outside double quotes."""
    steps, buf, quoted, escaped = [], [], False, False
    for ch in script:
        if escaped:
            buf.append(ch)
            escaped = False
        elif ch == "\\" and quoted:
            buf.append(ch)
            escaped = True
        elif ch == '"':
            quoted = not quoted
            buf.append(ch)
        elif ch in ";\n" and not quoted:
            steps.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if quoted:
        raise ScriptError("unclosed quote in the task: every \" needs its closing \"")
    steps.append("".join(buf))
    return [s.strip() for s in steps if s.strip() and not s.strip().startswith("#")]


def _target(text: str, n: int, verb: str) -> Target:
    text = text.strip()
    if not text:
        raise ScriptError(f"step {n}: `{verb}` needs a target, e.g. `{verb} \"Save\"`")
    return Target(text=text)


def parse_keys(spec: str, n: int = 1) -> list[str]:
    keys = [k.strip().lower() for k in re.split(r"\s*\+\s*", spec.strip()) if k.strip()]
    if not keys:
        raise ScriptError(f"step {n}: `press` needs keys, e.g. `press ctrl+s` or `press enter`")
    out = []
    for k in keys:
        if len(k) == 1 or k in _NAMED_KEYS:
            out.append(_KEY_ALIASES.get(k, k))
        else:
            raise ScriptError(f"step {n}: unknown key {k!r} in `press {spec}`: use names like enter, tab, esc, "
                              "ctrl, alt, shift, f5, pagedown or a single character")
    return out


_TYPE = re.compile(r'^"((?:[^"\\]|\\.)*)"(?:\s+(?:into|in|on)\s+(.+))?$', re.S)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts, buf, quoted, i = [], "", False, 0
    while i < len(text):
        if text[i] == '"':
            quoted = not quoted
        if not quoted and text[i:i + len(sep)].lower() == sep:
            parts.append(buf)
            buf = ""
            i += len(sep)
            continue
        buf += text[i]
        i += 1
    parts.append(buf)
    return parts


def parse_step(step: str, n: int = 1) -> Action:
    m = re.match(r"^(double[- ]click|right[- ]click|[a-z-]+)\b\s*(.*)$", step.strip(), re.S | re.I)
    if not m:
        raise ScriptError(f"step {n}: cannot read {step!r}: start each step with one of {', '.join(VERBS)}")
    verb = m.group(1).lower().replace(" ", "-")
    rest = m.group(2).strip()
    if verb in ("click", "double-click", "right-click"):
        kind = {"click": "click", "double-click": "double_click", "right-click": "right_click"}[verb]
        return Click(action=kind, target=_target(rest, n, verb))  # type: ignore[arg-type]
    if verb == "type":
        tm = _TYPE.match(rest)
        if not tm:
            raise ScriptError(f'step {n}: `type` needs quoted text, e.g. `type "hello" into "Name"`')
        into = _target(tm.group(2), n, "type ... into") if tm.group(2) else None
        return TypeText(text=_unescape(tm.group(1)), into=into)
    if verb == "press":
        return Press(keys=parse_keys(rest, n))
    if verb == "scroll":
        sm = re.match(r"^(up|down)(?:\s+(\d+))?(?:\s+(?:on|in)\s+(.+))?$", rest, re.S | re.I)
        if not sm:
            raise ScriptError(f"step {n}: write `scroll up|down [N] [on <target>]`, not `scroll {rest}`")
        on = _target(sm.group(3), n, "scroll ... on") if sm.group(3) else None
        return Scroll(direction=sm.group(1).lower(), amount=int(sm.group(2) or 3), on=on)  # type: ignore[arg-type]
    if verb == "wait":
        fm = re.match(r"^for\s+(.+)$", rest, re.S | re.I)
        if fm:
            return WaitFor(target=_target(fm.group(1), n, "wait for"))
        wm = re.match(r"^(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?)?$", rest, re.I)
        if not wm:
            raise ScriptError(f"step {n}: write `wait <seconds>` or `wait for <target>`, not `wait {rest}`")
        return Wait(seconds=float(wm.group(1)))
    if verb == "drag":
        parts = _split_outside_quotes(rest, " to ")
        if len(parts) != 2:
            raise ScriptError(f"step {n}: write `drag <target> to <target>`, not `drag {rest}`")
        return Drag(source=_target(parts[0], n, "drag"), dest=_target(parts[1], n, "drag ... to"))
    raise ScriptError(f"step {n}: unknown step {verb!r}: expected one of {', '.join(VERBS)}")


def parse_script(script: str) -> list[Action]:
    """Every step of a task script, or ScriptError naming the first bad step (nothing runs then)."""
    steps = split_steps(script)
    if not steps:
        raise ScriptError("the task is empty: write steps such as `click \"File\"; click \"Save As…\"`")
    return [parse_step(s, i + 1) for i, s in enumerate(steps)]
