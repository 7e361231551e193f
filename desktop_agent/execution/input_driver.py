"""The `InputDriver` protocol: what the agent does to the desktop; the pyautogui one and a recorder."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from desktop_agent.errors import InputFailSafe, NoDisplayError
from desktop_agent.geometry import DesktopPoint


class InputDriver(Protocol):
    """What the agent does to the desktop, in desktop coordinates: the real drivers and a recording fake."""

    def move(self, p: DesktopPoint) -> None:
        """Move the pointer to `p`."""

    def click(self, p: DesktopPoint, button: str = "left", count: int = 1) -> None:
        """Click `count` times with `button` at `p`."""

    def type_text(self, text: str) -> None:
        """Type `text` (any Unicode) where the focus is."""

    def press(self, keys: list[str]) -> None:
        """Press a key or a chord (`['ctrl', 's']`)."""

    def scroll(self, p: DesktopPoint | None, clicks: int) -> None:
        """Positive scrolls up, negative down."""
        ...

    def drag(self, src: DesktopPoint, dst: DesktopPoint) -> None:
        """Drag with the left button held from `src` to `dst`."""


class PyAutoGuiDriver:
    """Real input through pyautogui. Its fail-safe stays on: slamming the mouse into a corner of the
    primary screen aborts the run. Text beyond one line of ASCII goes through the platform's Unicode typer."""

    def __init__(self) -> None:
        if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            raise NoDisplayError("DISPLAY is not set")
        try:
            import pyautogui
        except Exception as exc:  # pyautogui opens the X display on import
            raise NoDisplayError(str(exc)) from exc
        pyautogui.FAILSAFE = True
        pyautogui.PAUSE = 0.02
        self._pg: Any = pyautogui
        self._unicode: Any = None

    @contextlib.contextmanager
    def _guarded(self) -> Iterator[None]:
        """pyautogui's fail-safe as the run's own error: the loop stops the run, whatever sent the input."""
        try:
            yield
        except self._pg.FailSafeException:
            raise InputFailSafe() from None

    def move(self, p: DesktopPoint) -> None:
        """Move the pointer."""
        with self._guarded():
            self._pg.moveTo(p.x, p.y, duration=0)

    def click(self, p: DesktopPoint, button: str = "left", count: int = 1) -> None:
        """Click."""
        with self._guarded():
            self._pg.click(p.x, p.y, clicks=count, interval=0.05, button=button)

    def type_text(self, text: str) -> None:
        """Type ASCII with pyautogui and everything else with the Unicode typer."""
        with self._guarded():
            if text.isascii() and "\n" not in text:
                self._pg.write(text, interval=0.005)
                return
            typer = self._unicode_typer()
            if getattr(typer, "types_any_text", False):
                # The X11 typer takes the whole text: its ASCII goes on the keymap's own keys and the rest costs
                # one keymap change and one change back, not a pair for every run of non-ASCII characters.
                typer.type(text)
                return
            for chunk in _ascii_runs(text):
                if chunk == "\n":
                    self._pg.press("enter")
                elif chunk.isascii():
                    self._pg.write(chunk, interval=0.005)
                else:
                    typer.type(chunk)

    def close(self) -> None:
        """Close the Unicode typer's own X connection, if one was opened (pyautogui keeps its own)."""
        typer, self._unicode = self._unicode, None
        if typer is not None and hasattr(typer, "close"):
            typer.close()

    def _unicode_typer(self) -> Any:
        if self._unicode is None:
            from desktop_agent.execution.unicode_typing import unicode_typer

            self._unicode = unicode_typer()
        return self._unicode

    def press(self, keys: list[str]) -> None:
        """Press a key, or a chord as a hotkey."""
        with self._guarded():
            if len(keys) == 1:
                self._pg.press(keys[0])
            else:
                self._pg.hotkey(*keys, interval=0.03)

    def scroll(self, p: DesktopPoint | None, clicks: int) -> None:
        """Scroll, at `p` when given."""
        with self._guarded():
            if p is not None:
                self._pg.scroll(clicks, x=p.x, y=p.y)
            else:
                self._pg.scroll(clicks)

    def drag(self, src: DesktopPoint, dst: DesktopPoint) -> None:
        """Drag in steps, so toolkits see the pointer travel with the button held."""
        with self._guarded():
            self._pg.moveTo(src.x, src.y)
            self._pg.mouseDown(button="left")
            # Move in steps: toolkits start a drag only after the pointer travels with the button held.
            self._pg.moveTo((src.x + dst.x) // 2, (src.y + dst.y) // 2, duration=0.2)
            self._pg.moveTo(dst.x, dst.y, duration=0.2)
            self._pg.mouseUp(button="left")


def _ascii_runs(text: str) -> list[str]:
    runs: list[str] = []
    for ch in text:
        kind = "\n" if ch == "\n" else ("a" if ch.isascii() else "u")
        if runs and kind != "\n" and runs[-1] != "\n" and (runs[-1].isascii() == (kind == "a")):
            runs[-1] += ch
        else:
            runs.append(ch)
    return runs


@dataclass
class RecordingDriver:
    """A fake driver that records what it was asked to do and touches nothing (for planner/loop tests). `react`,
    when set, is called after each call with its name and arguments: a test's stand-in app (changing what a
    `FakeScreen` shows) answers the input there."""

    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    react: Callable[[str, tuple[Any, ...]], None] | None = None

    def _record(self, name: str, args: tuple[Any, ...]) -> None:
        self.calls.append((name, args))
        if self.react is not None:
            self.react(name, args)

    def move(self, p: DesktopPoint) -> None:
        """Record a pointer move."""
        self._record("move", (p,))

    def click(self, p: DesktopPoint, button: str = "left", count: int = 1) -> None:
        """Record a click."""
        self._record("click", (p, button, count))

    def type_text(self, text: str) -> None:
        """Record typed text."""
        self._record("type_text", (text,))

    def press(self, keys: list[str]) -> None:
        """Record a key chord."""
        self._record("press", (tuple(keys),))

    def scroll(self, p: DesktopPoint | None, clicks: int) -> None:
        """Record a scroll."""
        self._record("scroll", (p, clicks))

    def drag(self, src: DesktopPoint, dst: DesktopPoint) -> None:
        """Record a drag."""
        self._record("drag", (src, dst))
