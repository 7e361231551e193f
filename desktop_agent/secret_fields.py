"""Secrets: which fields hold them, and taking them out of a task's text before it is written or printed.

A field is secret when its label says so (password, passphrase, PIN, token, secret, API key, ... in a few
languages), when the text it shows is a run of mask glyphs (••••), or when the platform says so (the
accessibility role "password text"). Text typed into such a field is typed, never recorded.
"""

from __future__ import annotations

import re

MASK = "•" * 8

_SECRET_WORDS = (
    r"pass ?(?:word|code|phrase)s?|passwd|\bpwd\b|\bpins?\b|\bpin ?code\b|\bsecrets?\b|\btokens?\b|"
    r"\bapi[ _-]?keys?\b|\baccess[ _-]?keys?\b|\bprivate[ _-]?keys?\b|\bsecret[ _-]?keys?\b|\bcredentials?\b|"
    r"\bone[- ]time (?:code|password)\b|\botp\b|\b2fa\b|\bsecurity code\b|\bcvv\b|\bcvc\b|"
    r"kennwort|passwort|mot de passe|contrase[ñn]a|\bparola\b|\bсекрет|\bпароль"
)
SECRET_LABEL = re.compile(_SECRET_WORDS, re.IGNORECASE)
# A masked field shows one glyph per character: bullets, dots, asterisks.
MASKED_TEXT = re.compile(r"^[•●*·∙⚫◦⬤]{3,}$")
# The accessibility roles a platform gives a masked field.
SECRET_ROLES = frozenset({"password text", "password_text", "passwordtext", "password"})


def is_secret_label(text: str | None) -> bool:
    """Whether a field's label (or the words naming it) says it holds a secret."""
    return bool(text) and SECRET_LABEL.search(text or "") is not None


def is_masked_text(text: str | None) -> bool:
    """Whether a field shows its content as mask glyphs (••••, ****)."""
    return bool(text) and MASKED_TEXT.match((text or "").replace(" ", "")) is not None


def is_secret_role(role: str | None) -> bool:
    """Whether an accessibility role names a secret field (a password entry)."""
    return (role or "").strip().lower() in SECRET_ROLES


# `type "..."` in a script, with an optional `into <target>`; quotes escaped with a backslash.
_TYPE_STEP = re.compile(r'^(\s*type\s+)"((?:[^"\\]|\\.)*)"(\s+(?:into|in|on)\s+(.+))?\s*$', re.S | re.I)
_CLICK_STEP = re.compile(r"^\s*(?:double[- ]click|right[- ]click|click)\s+(.+)$", re.S | re.I)
# In plain words: "password is hunter2", "PIN: 1234", "with the API key sk-...", "token=abc".
_SAID_SECRET = re.compile(
    r"(?P<label>" + _SECRET_WORDS + r")(?P<sep>\s*(?:is|was|=|:|of)\s*|\s+(?=[\"'“‘]))"
    r"(?P<value>\"[^\"]*\"|'[^']*'|“[^”]*”|‘[^’]*’|[^\s;,]+)",
    re.IGNORECASE)
_WITH_SECRET = re.compile(
    r"(?P<label>\b(?:with|using|use|enter|type)\s+(?:the\s+|my\s+|a\s+)?(?:" + _SECRET_WORDS + r"))\s+"
    r"(?P<value>\"[^\"]*\"|'[^']*'|“[^”]*”|‘[^’]*’|[^\s;,]+)",
    re.IGNORECASE)
_FILLER = {"in", "into", "the", "field", "box", "a", "to", "for", "and", "then"}


def _split_keeping_separators(script: str) -> list[str]:
    """The script cut at `;` and new lines outside quotes, separators kept, so joining gives it back."""
    parts: list[str] = []
    buf: list[str] = []
    quoted = escaped = False
    for ch in script:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch in ";\n" and not quoted:
            parts.append("".join(buf))
            parts.append(ch)
            buf = []
            continue
        buf.append(ch)
    parts.append("".join(buf))
    return parts


def _mask_value(m: re.Match[str]) -> str:
    value = m.group("value")
    if value.lower() in _FILLER:
        return m.group(0)
    quote = value[0] if value[0] in "\"'“‘" else ""
    close = {"“": "”", "‘": "’"}.get(quote, quote)
    return m.group(0)[: m.start("value") - m.start(0)] + f"{quote}{MASK}{close}"


def _redact_step(part: str, secret_focus: bool, all_typed: bool) -> tuple[str, bool]:
    """One step of a script with its typed text masked when it goes into a secret field, and whether the
    focus is on a secret field after it (`secret_focus`: before it)."""
    tm = _TYPE_STEP.match(part)
    if tm:
        into = tm.group(4)
        if all_typed or (into and is_secret_label(into)) or (not into and secret_focus):
            part = f'{tm.group(1)}"{MASK}"{tm.group(3) or ""}'
        return part, is_secret_label(into) if into else secret_focus
    return part, _focus_after(part, secret_focus)


def _focus_after(part: str, secret_focus: bool) -> bool:
    """Whether the focus is on a secret field after a step that types nothing: a click decides it (by what
    it clicks), a press with Tab in it moves it off, any other step leaves it as it was."""
    cm = _CLICK_STEP.match(part)
    if cm:
        return is_secret_label(cm.group(1))
    if part.strip() and not re.match(r"^\s*(wait|scroll)\b", part, re.I):
        return False if re.match(r"^\s*press\b", part, re.I) and "tab" in part.lower() else secret_focus
    return secret_focus


def redact_task(task: str, secret_texts: tuple[str, ...] = (), all_typed: bool = False) -> str:
    """The task as it may be written or printed: text typed into a secret field replaced by ••••••••.

    In a script, `type "x" into <secret field>`, and `type "x"` right after a click on one (with
    `all_typed`, every `type "x"`: whether a field is secret may only show once it is on screen); in
    plain words, a value said to be a password, PIN, token, ... (`password is x`, `with the API key x`).
    Any of `secret_texts` (values found secret while running) is masked wherever it appears."""
    parts = _split_keeping_separators(task)
    secret_focus = False
    for i, part in enumerate(parts):
        if part not in (";", "\n"):
            parts[i], secret_focus = _redact_step(part, secret_focus, all_typed)
    out = "".join(parts)
    out = _SAID_SECRET.sub(_mask_value, out)
    out = _WITH_SECRET.sub(_mask_value, out)
    for secret in secret_texts:
        if secret:
            out = out.replace(secret, MASK)
    return out
