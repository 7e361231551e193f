"""Clicks and drags made of pointer moves and button presses, shared by the Wayland input drivers (the wlroots
virtual pointer, the desktop portal's remote desktop): evdev button codes, the pointer entering before the
press, a drag moved in steps."""

from __future__ import annotations

import time

from desktop_agent.errors import AgentError
from desktop_agent.geometry import DesktopPoint

BTN_LEFT, BTN_RIGHT, BTN_MIDDLE = 0x110, 0x111, 0x112  # linux/input-event-codes.h
BUTTONS = {"left": BTN_LEFT, "right": BTN_RIGHT, "middle": BTN_MIDDLE}
DRAG_STEPS = 12


class ButtonPointer:
    """`click` and `drag` over a driver's own `move` and `_button`."""

    SETTLE = 0.03  # after a press or release: the client reads it before the next one

    def move(self, p: DesktopPoint) -> None:
        """Put the pointer on `p` (each driver's own)."""
        raise NotImplementedError

    def _button(self, code: int, pressed: bool) -> None:
        """Press or release the evdev button `code` (each driver's own)."""
        raise NotImplementedError

    def click(self, p: DesktopPoint, button: str = "left", count: int = 1) -> None:
        """Click `count` times at `p`."""
        code = BUTTONS.get(button)
        if code is None:
            raise AgentError(f"unknown mouse button {button!r}: left, right or middle")
        self.move(p)
        time.sleep(self.SETTLE)  # the client sees the pointer enter before the press
        for _ in range(count):
            self._button(code, True)
            self._button(code, False)

    def drag(self, src: DesktopPoint, dst: DesktopPoint) -> None:
        """Drag from `src` to `dst` with the left button held, in steps: toolkits start a drag only after the
        pointer travels with the button held."""
        self.move(src)
        time.sleep(self.SETTLE)
        self._button(BTN_LEFT, True)
        try:
            for i in range(1, DRAG_STEPS + 1):
                self.move(DesktopPoint(src.x + (dst.x - src.x) * i // DRAG_STEPS,
                                       src.y + (dst.y - src.y) * i // DRAG_STEPS))
                time.sleep(0.03)
        finally:
            self._button(BTN_LEFT, False)
