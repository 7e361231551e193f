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
    def __init__(self) -> None:
        from Xlib import X, display
        from Xlib.ext import xtest

        self._X = X
        self._xtest = xtest
        self._d = display.Display()
        first = self._d.display.info.min_keycode
        count = self._d.display.info.max_keycode - first + 1
        mapping = self._d.get_keyboard_mapping(first, count)
        spare = [first + i for i, syms in enumerate(mapping) if not any(syms)]
        if not spare:
            # No free keycode: borrow the last one and put it back after each character.
            spare = [first + count - 1]
        self._keycode = spare[-1]
        self._original = list(mapping[self._keycode - first])

    def _keysym(self, ch: str) -> int:
        cp = ord(ch)
        # Latin-1 keysyms equal their code points; everything else uses the Unicode keysym range.
        return cp if 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xFF else 0x01000000 | cp

    def type(self, text: str) -> None:
        d, kc = self._d, self._keycode
        try:
            for ch in text:
                sym = self._keysym(ch)
                d.change_keyboard_mapping(kc, [(sym, sym)])
                d.sync()
                time.sleep(0.02)  # let clients fetch the new mapping before the key arrives
                self._xtest.fake_input(d, self._X.KeyPress, kc)
                self._xtest.fake_input(d, self._X.KeyRelease, kc)
                d.sync()
                time.sleep(0.01)
        finally:
            width = max(1, len(self._original))
            d.change_keyboard_mapping(kc, [tuple(self._original) if any(self._original) else (0,) * width])
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
