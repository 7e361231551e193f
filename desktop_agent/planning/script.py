"""The direct planner's language: steps separated by `;` or new lines.

    click <target> | double-click <target> | right-click <target>
    type "<text>" [into <target>]
    press <keys>                      press ctrl+s, press enter
    scroll up|down [N] [on <target>]
    wait <seconds> | wait for <target>
    drag <target> to <target>

A target is visible text or an icon description, quoted or not (`click the "Save" button`).

Any text either parses into actions or raises ScriptError (one line naming the step), before anything
runs: a task is at most MAX_TASK_CHARS characters and MAX_SCRIPT_STEPS steps, and valid UTF-8.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from pydantic import ValidationError

from desktop_agent.errors import ScriptError, quote
from desktop_agent.planning.actions import (
    MAX_SCROLL,
    MAX_WAIT_SECONDS,
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

MAX_TASK_CHARS = 10_000  # a script, or a model planner's goal
MAX_SCRIPT_STEPS = 200

VERBS = ("click", "double-click", "right-click", "type", "press", "scroll", "wait", "drag")

_MODIFIERS = {"ctrl", "control", "alt", "shift", "super", "win", "winleft", "cmd", "command", "option", "meta"}
_NAMED_KEYS = _MODIFIERS | {
    "enter", "return", "tab", "esc", "escape", "space", "backspace", "delete", "del", "insert", "home", "end",
    "pageup", "pagedown", "pgup", "pgdn", "up", "down", "left", "right", "capslock", "printscreen", "menu",
    "apps", "numlock", "scrolllock", "pause", *(f"f{i}" for i in range(1, 25)),
}
_KEY_ALIASES = {"control": "ctrl", "escape": "esc", "return": "enter", "del": "delete", "pgup": "pageup",
                "pgdn": "pagedown", "cmd": "command", "super": "win", "meta": "win", "apps": "menu"}


def check_task_text(task: str) -> None:
    """ScriptError unless `task` is a script or goal desktop-agent takes: UTF-8 text (no undecodable bytes,
    which reach Python as lone surrogates) of at most MAX_TASK_CHARS characters."""
    if len(task) > MAX_TASK_CHARS:
        raise ScriptError(f"the task is {len(task)} characters long: at most {MAX_TASK_CHARS} "
                          "(split it into several runs)")
    bad = re.search(r"[\ud800-\udfff]", task)
    if bad:
        raise ScriptError(f"the task is not valid UTF-8 text (undecodable byte at character {bad.start() + 1}: "
                          f"{quote(task[max(0, bad.start() - 10):bad.start() + 10])}): write it in UTF-8")


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
    """`press`'s key spec (`ctrl+s`) as key names; ScriptError naming step `n` when it is not one."""
    keys = [k.strip().lower() for k in re.split(r"\s*\+\s*", spec.strip()) if k.strip()]
    if not keys:
        raise ScriptError(f"step {n}: `press` needs keys, e.g. `press ctrl+s` or `press enter`")
    out = []
    for k in keys:
        if len(k) == 1 or k in _NAMED_KEYS:
            out.append(_KEY_ALIASES.get(k, k))
        else:
            raise ScriptError(f"step {n}: unknown key {quote(k, 30)} in `press`: use names like enter, tab, esc, "
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


def _number(text: str, n: int, verb: str, unit: str, low: float, high: float) -> float:
    """A step's number within [low, high], or ScriptError naming the step and the range."""
    value = float(text)  # digits and at most one point (the step's pattern): inf at worst, never an error
    if not low <= value <= high:
        raise ScriptError(f"step {n}: `{verb}` takes {low:g} to {high:g} {unit}, not {quote(text, 20)}")
    return value


def parse_step(step: str, n: int = 1) -> Action:
    """One step as an action, or ScriptError naming step `n` (never another exception)."""
    try:
        return _parse_step(step, n)
    except ValidationError as exc:  # a value the action schema refuses: name the step and the field
        errs = exc.errors()
        field = ".".join(str(p) for p in errs[0]["loc"]) if errs else "value"
        why = errs[0]["msg"] if errs else str(exc)
        raise ScriptError(f"step {n}: bad {field or 'value'} in {quote(step.strip(), 60)}: "
                          f"{' '.join(why.split())}") from None


def _click_step(verb: str, rest: str, n: int) -> Action:
    kind = {"click": "click", "double-click": "double_click", "right-click": "right_click"}[verb]
    return Click(action=kind, target=_target(rest, n, verb))  # type: ignore[arg-type]


def _type_step(verb: str, rest: str, n: int) -> Action:
    tm = _TYPE.match(rest)
    if not tm:
        raise ScriptError(f'step {n}: `type` needs quoted text, e.g. `type "hello" into "Name"`')
    into = _target(tm.group(2), n, "type ... into") if tm.group(2) else None
    return TypeText(text=_unescape(tm.group(1)), into=into)


def _press_step(verb: str, rest: str, n: int) -> Action:
    return Press(keys=parse_keys(rest, n))


def _scroll_step(verb: str, rest: str, n: int) -> Action:
    sm = re.match(r"^(up|down)(?:\s+([0-9]+))?(?:\s+(?:on|in)\s+(.+))?$", rest, re.S | re.I)
    if not sm:
        raise ScriptError(f"step {n}: write `scroll up|down [N] [on <target>]`, not {quote('scroll ' + rest)}")
    amount = int(_number(sm.group(2), n, "scroll", "notches", 1, MAX_SCROLL)) if sm.group(2) else 3
    on = _target(sm.group(3), n, "scroll ... on") if sm.group(3) else None
    return Scroll(direction=sm.group(1).lower(), amount=amount, on=on)  # type: ignore[arg-type]


def _wait_step(verb: str, rest: str, n: int) -> Action:
    fm = re.match(r"^for\s+(.+)$", rest, re.S | re.I)
    if fm:
        return WaitFor(target=_target(fm.group(1), n, "wait for"))
    wm = re.match(r"^([0-9]+(?:\.[0-9]+)?)\s*(?:s|sec|secs|seconds?)?$", rest, re.I)
    if not wm:
        raise ScriptError(f"step {n}: write `wait <seconds>` or `wait for <target>`, not {quote('wait ' + rest)}")
    return Wait(seconds=_number(wm.group(1), n, "wait", "seconds", 0, MAX_WAIT_SECONDS))


def _drag_step(verb: str, rest: str, n: int) -> Action:
    parts = _split_outside_quotes(rest, " to ")
    if len(parts) != 2:
        raise ScriptError(f"step {n}: write `drag <target> to <target>`, not {quote('drag ' + rest)}")
    return Drag(source=_target(parts[0], n, "drag"), dest=_target(parts[1], n, "drag ... to"))


# Each verb's reader: (verb, the rest of the step, the step's number) -> its action, or ScriptError.
_STEP_READERS: dict[str, Callable[[str, str, int], Action]] = {
    "click": _click_step, "double-click": _click_step, "right-click": _click_step,
    "type": _type_step, "press": _press_step, "scroll": _scroll_step, "wait": _wait_step, "drag": _drag_step,
}


def _parse_step(step: str, n: int) -> Action:
    m = re.match(r"^(double[- ]click|right[- ]click|[a-z-]+)\b\s*(.*)$", step.strip(), re.S | re.I)
    if not m:
        raise ScriptError(f"step {n}: cannot read {quote(step)}: start each step with one of {', '.join(VERBS)}")
    verb = m.group(1).lower().replace(" ", "-")
    read = _STEP_READERS.get(verb)
    if read is None:
        raise ScriptError(f"step {n}: unknown step {quote(verb, 30)}: expected one of {', '.join(VERBS)}")
    return read(verb, m.group(2).strip(), n)


def parse_script(script: str) -> list[Action]:
    """Every step of a task script, or ScriptError naming the first bad step (nothing runs then)."""
    check_task_text(script)
    steps = split_steps(script)
    if not steps:
        raise ScriptError("the task is empty: write steps such as `click \"File\"; click \"Save As…\"`")
    if len(steps) > MAX_SCRIPT_STEPS:
        raise ScriptError(f"the script has {len(steps)} steps: at most {MAX_SCRIPT_STEPS} (split it into several runs)")
    return [parse_step(s, i + 1) for i, s in enumerate(steps)]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def format_step(action: Action) -> str:
    """A step of the script language that parses back into `action` (for actions a script can hold:
    targets by text). ValueError for the others (a model's element numbers, done, ask_user)."""
    def t(target: Target | None) -> str:
        """The target's text; ValueError when it is not given by text."""
        if target is None or not target.text:
            raise ValueError(f"{action.describe()}: only targets given by text can be written as a script")
        return target.text

    if isinstance(action, Click):
        return f"{action.action.replace('_', '-')} {t(action.target)}"
    if isinstance(action, TypeText):
        return f"type {_quoted(action.text)}" + (f" into {t(action.into)}" if action.into else "")
    if isinstance(action, Press):
        return "press " + "+".join(action.keys)
    if isinstance(action, Scroll):
        return f"scroll {action.direction} {action.amount}" + (f" on {t(action.on)}" if action.on else "")
    if isinstance(action, Wait):
        return f"wait {Decimal(repr(float(action.seconds))):f}"  # shortest exact decimal, never 1e-05
    if isinstance(action, WaitFor):
        return f"wait for {t(action.target)}"
    if isinstance(action, Drag):
        return f"drag {t(action.source)} to {t(action.dest)}"
    raise ValueError(f"{action.describe()} has no step in the script language")
