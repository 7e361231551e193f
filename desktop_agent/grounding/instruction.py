"""Reading a ScreenSpot-style instruction: the label it names and the kind of element it wants."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from desktop_agent.perception.elements import ElementKind

_VERBS = ("double-click", "double click", "right-click", "right click", "click on", "click", "tap on", "tap",
          "press", "select", "choose", "open", "toggle", "check", "uncheck", "go to", "type into", "focus")
_KIND_WORDS: dict[str, ElementKind] = {
    "button": ElementKind.BUTTON, "btn": ElementKind.BUTTON,
    "icon": ElementKind.ICON,
    "field": ElementKind.INPUT, "input": ElementKind.INPUT, "box": ElementKind.INPUT, "textbox": ElementKind.INPUT,
    "text field": ElementKind.INPUT, "search box": ElementKind.INPUT, "search field": ElementKind.INPUT,
    "entry": ElementKind.INPUT,
    "checkbox": ElementKind.CHECKBOX, "check box": ElementKind.CHECKBOX, "toggle": ElementKind.TOGGLE,
    "switch": ElementKind.TOGGLE, "dropdown": ElementKind.DROPDOWN, "drop-down": ElementKind.DROPDOWN,
    "drop down": ElementKind.DROPDOWN, "combo box": ElementKind.DROPDOWN, "combobox": ElementKind.DROPDOWN,
    "select box": ElementKind.DROPDOWN, "slider": ElementKind.SLIDER, "scrollbar": ElementKind.SCROLLBAR,
    "scroll bar": ElementKind.SCROLLBAR,
    "radio": ElementKind.RADIO, "radio button": ElementKind.RADIO, "option": ElementKind.RADIO,
    "menu item": ElementKind.MENU_ITEM, "menu": ElementKind.MENU_ITEM, "item": ElementKind.MENU_ITEM,
    "link": ElementKind.LINK, "tab": ElementKind.TAB,
    "column header": ElementKind.TEXT, "header": ElementKind.TEXT, "heading": ElementKind.TEXT,
    "label": ElementKind.TEXT, "text": ElementKind.TEXT, "title": ElementKind.TEXT,
}
_ARTICLES = {"the", "a", "an", "this", "that"}
# An instruction names one element: `locate` refuses longer ones, and parse_instruction reads at most this
# much of any text, so its label stays bounded (NFKC can turn one character into up to 18).
MAX_INSTRUCTION_CHARS = 1000
MAX_LABEL_CHARS = 1000
_QUOTED = re.compile(r"[\"“”«»'‘’]([^\"“”«»'‘’]+)[\"“”«»'‘’]")


@dataclass(frozen=True, slots=True)
class Instruction:
    """An instruction read: the label to find, the kind of element asked for, and whether it was quoted."""

    raw: str
    label: str  # what should be written on (or named by) the target, normalised
    kind: ElementKind | None  # the kind of element asked for, if the instruction says
    quoted: bool  # the label was given in quotes: match it literally


# Symbols stay: calculators label buttons with them (and with any mathematical sign: √, ±, ≠, ∑; or a
# currency sign).
_KEEP = set("./:+#@&%$-_'()[]{}*=×÷<>^~|")


def _normal_chars(ch: str) -> str:
    """One input character as normalised characters: NFKC, case folded, unified punctuation (the minus sign is
    "-"), and a space for what is neither a letter, a digit nor a kept sign."""
    out = []
    for c in unicodedata.normalize("NFKC", ch).casefold():
        c = {"…": ".", "’": "'", "‘": "'", "“": '"', "”": '"', "−": "-"}.get(c, c)
        out.append(c if c.isalnum() or c in _KEEP or unicodedata.category(c) in ("Sm", "Sc") else " ")
    return "".join(out)


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """`normalize`, plus for each output character the index of the input character it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in _normal_chars(ch):
            if c == " " and (not out or out[-1] == " "):
                continue
            if c == " " and len(out) >= 2 and out[-1] == "-" and out[-2] == " ":
                # A hyphen standing alone between words separates them, as an en or em dash does ("notes.txt
                # - Mousepad"): read so, a line the text detector cut at the dash reads the same.
                out.pop()
                where.pop()
                continue
            out.append(c)
            where.append(i)
    while out and out[-1] in " .:":
        out.pop()
        where.pop()
    while out and out[0] in " .:":
        out.pop(0)
        where.pop(0)
    return "".join(out), where


def normalize(text: str) -> str:
    """Lower case, unified punctuation and spacing, accents kept (they are part of the text)."""
    return normalize_with_map(text)[0]


def parse_instruction(instruction: str) -> Instruction:
    """The label and kind an instruction asks for. Never raises; reads at most MAX_INSTRUCTION_CHARS
    characters and returns a label of at most MAX_LABEL_CHARS."""
    ins = _parse(instruction[:MAX_INSTRUCTION_CHARS].strip())
    if len(ins.label) > MAX_LABEL_CHARS:
        ins = Instruction(ins.raw, ins.label[:MAX_LABEL_CHARS].rstrip(" .:"), ins.kind, ins.quoted)
    return ins


def _parse(raw: str) -> Instruction:
    kind = None
    quoted = _QUOTED.search(raw)
    rest = raw
    if quoted:
        label = quoted.group(1)
        rest = (raw[: quoted.start()] + " " + raw[quoted.end():]).casefold()
        for word, k in sorted(_KIND_WORDS.items(), key=lambda kv: -len(kv[0])):
            if re.search(rf"\b{re.escape(word)}\b", rest):
                kind = k
                break
        return Instruction(raw, normalize(label), kind, True)
    text = raw.casefold().strip()
    for verb in _VERBS:
        if text.startswith(verb + " "):
            text = text[len(verb) + 1:]
            break
    words = text.split()
    while words and words[0] in _ARTICLES:
        words = words[1:]
    text = " ".join(words)
    for word, k in sorted(_KIND_WORDS.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(" " + word):
            text = text[: -len(word) - 1]
            kind = k
            break
    return Instruction(raw, normalize(text), kind, False)


def with_kind_word(ins: Instruction) -> Instruction | None:
    """The instruction read with its trailing kind word as part of the name ("New Tab", "Copy Link", "Add
    Item" are names), when a kind was taken from the end of an unquoted name; None otherwise."""
    if ins.quoted or ins.kind is None:
        return None
    whole = _parse(ins.raw[:MAX_INSTRUCTION_CHARS].strip() + " .")  # a trailing "." ends with no kind word
    if whole.kind is not None or whole.label == ins.label or not whole.label.startswith(ins.label):
        return None
    return Instruction(ins.raw, whole.label[:MAX_LABEL_CHARS].rstrip(" .:"), None, False)
