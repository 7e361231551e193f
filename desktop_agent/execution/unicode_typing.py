"""Typing any Unicode text, which pyautogui.write cannot do beyond what a US layout has.

On X11 each character's Unicode keysym is bound for a moment to a spare keycode and pressed through
XTEST (the method xdotool uses), so it works on any keyboard layout. Elsewhere the text goes through the
clipboard and a paste shortcut.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol


class UnicodeTyper(Protocol):
    def type(self, text: str) -> None: ...


class X11KeysymTyper:
    """Binds the text's characters to spare keycodes (a batch at a time), lets clients pick up the new
    keymap, presses them through XTEST, then puts the keycodes back."""

    SETTLE = 0.08  # seconds for clients to process MappingNotify before the first key of a batch

    def __init__(self) -> None:
        from Xlib import X, display
        from Xlib.ext import xtest

        self._X = X
        self._xtest = xtest
        self._d = display.Display()
        first = self._d.display.info.min_keycode
        count = self._d.display.info.max_keycode - first + 1
        mapping = self._d.get_keyboard_mapping(first, count)
        self._spare = [first + i for i, syms in enumerate(mapping) if not any(syms)][-32:]
        if not self._spare:
            # No free keycode: borrow the last one and put it back afterwards.
            self._spare = [first + count - 1]
        self._original = {kc: list(mapping[kc - first]) for kc in self._spare}

    @staticmethod
    def _keysym(ch: str) -> int:
        cp = ord(ch)
        # Latin-1 keysyms equal their code points; everything else uses the Unicode keysym range.
        return cp if 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xFF else 0x01000000 | cp

    def _map(self, kc: int, syms: list[int]) -> None:
        self._d.change_keyboard_mapping(kc, [tuple(syms)])

    def type(self, text: str) -> None:
        d = self._d
        pos = 0
        try:
            while pos < len(text):
                # The longest run of text whose distinct characters fit the spare keycodes.
                assign: dict[str, int] = {}
                end = pos
                while end < len(text) and (text[end] in assign or len(assign) < len(self._spare)):
                    assign.setdefault(text[end], self._spare[len(assign)])
                    end += 1
                for ch, kc in assign.items():
                    sym = self._keysym(ch)
                    self._map(kc, [sym, sym])
                d.sync()
                time.sleep(self.SETTLE)
                for ch in text[pos:end]:
                    kc = assign[ch]
                    self._xtest.fake_input(d, self._X.KeyPress, kc)
                    self._xtest.fake_input(d, self._X.KeyRelease, kc)
                    d.sync()
                    time.sleep(0.008)
                time.sleep(self.SETTLE)  # let the last key be read with this keymap before restoring
                pos = end
        finally:
            for kc, syms in self._original.items():
                self._map(kc, syms if any(syms) else [0, 0])
            d.sync()


class ClipboardTyper:
    def type(self, text: str) -> None:
        import pyautogui
        import pyperclip

        saved = None
        try:
            saved = pyperclip.paste()
        except Exception:
            saved = None
        pyperclip.copy(text)
        pyautogui.hotkey("command" if sys.platform == "darwin" else "ctrl", "v")
        time.sleep(0.1)
        if saved is not None:
            pyperclip.copy(saved)


def unicode_typer() -> Any:
    if sys.platform.startswith("linux"):
        return X11KeysymTyper()
    return ClipboardTyper()
