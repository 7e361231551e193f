"""Typing any Unicode text, which pyautogui.write cannot do beyond what a US layout has.

On X11 the text is pressed through XTEST. A character the current keymap already has (ASCII on most
layouts, Return, Tab) is pressed on its own key, with Shift where it sits on the second level. The others are
bound for a moment to borrowed keycodes (a run of consecutive unbound or media-key keycodes), a whole batch
in one keymap change, and one more change puts them back at the end. Every keymap change makes every client
reload its keymap, the window manager included: openbox re-grabs all its key bindings, about 0.1 s a change,
and meanwhile holds every click on the windows it manages. A change per character flooded it for seconds
after the typing had returned, and the next step's click came through long after its check.

Before the keymap changes back, the focused window is pinged (_NET_WM_PING): its answer means it has read
its keys with the borrowed symbols. Before returning, that window and the window manager each answer a
request queued behind the last change, so the step after the typing meets a desktop that has caught up.
Elsewhere the text goes through the clipboard and a paste shortcut.
"""

from __future__ import annotations

import itertools
import select
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

XK_RETURN = 0xFF0D
XK_TAB = 0xFF09


class UnicodeTyper(Protocol):
    """Types text a plain key press cannot (any Unicode character)."""

    def type(self, text: str) -> None:
        """Type `text` where the focus is."""


def keysym_for(ch: str) -> int:
    """The keysym that types `ch`: Return and Tab for newline and tab, Latin-1 keysyms for the characters
    that have one (they equal the code point), the Unicode keysym range for everything else."""
    if ch == "\n":
        return XK_RETURN
    if ch == "\t":
        return XK_TAB
    cp = ord(ch)
    return cp if 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xFF else 0x01000000 | cp


def _media(sym: int) -> bool:
    """An XF86 media or launcher keysym (0x1008FF00-0x1008FFFF, not the VT-switching and grab keysyms
    below them): the compatibility map gives these no action, so a keycode bound to one alone comes back
    exactly as it was when its core symbols are written back, and nothing types with it."""
    return 0x1008FF00 <= sym <= 0x1008FFFF


@dataclass(frozen=True)
class Keymap:
    """The core keyboard mapping at one moment, and which of its keycodes may be borrowed."""

    first: int
    rows: tuple[tuple[int, ...], ...]
    modifiers: frozenset[int]  # keycodes in the modifier map
    shift: int  # a keycode of the Shift modifier, 0 when there is none

    def syms(self, kc: int) -> tuple[int, ...]:
        """The keysyms bound to keycode `kc`."""
        return self.rows[kc - self.first]

    def empty(self, kc: int) -> bool:
        """Whether keycode `kc` is bound to nothing."""
        return not any(self.syms(kc))

    def borrowable(self, kc: int) -> bool:
        """Unbound, or bound to a single media keysym and no modifier."""
        if kc < self.first or kc >= self.first + len(self.rows) or kc in self.modifiers:
            return False
        distinct = {s for s in self.syms(kc) if s}
        return not distinct or (len(distinct) == 1 and _media(next(iter(distinct))))

    def runs(self) -> list[list[int]]:
        """The runs of consecutive borrowable keycodes: one keymap change can rebind a run."""
        out: list[list[int]] = []
        for kc in range(self.first, self.first + len(self.rows)):
            if self.borrowable(kc):
                if out and out[-1][-1] == kc - 1:
                    out[-1].append(kc)
                else:
                    out.append([kc])
        return out

    def window(self, n: int) -> list[int]:
        """`n` consecutive borrowable keycodes (fewer when no run is that long), as many of them unbound
        as can be, so the fewest bound keys are rewritten."""
        best: list[int] = []
        best_empty = -1
        for run in self.runs():
            size = min(n, len(run))
            if size < len(best):
                continue
            for i in range(len(run) - size + 1):
                cand = run[i:i + size]
                empty = sum(self.empty(kc) for kc in cand)
                if size > len(best) or empty > best_empty:
                    best, best_empty = cand, empty
        return best

    def key_for(self, sym: int) -> tuple[int, bool] | None:
        """The lowest keycode (not a borrowable one) with `sym` on its first or second level, and whether
        the second level (Shift) is needed."""
        for i, row in enumerate(self.rows):
            kc = self.first + i
            if sym in row[:2] and not self.borrowable(kc):
                shifted = row[0] != sym
                if shifted and not self.shift:
                    continue
                return kc, shifted
        return None


def _next_batch(syms: list[int], pos: int, own: dict[int, tuple[int, bool]],
                window: list[int]) -> tuple[dict[int, int], int]:
    """The longest run of `syms` from `pos` whose keysyms missing from the keymap (not in `own`) fit the
    keycodes of `window`: the keycode each of them is bound to, and where the run ends."""
    assign: dict[int, int] = {}
    end = pos
    while end < len(syms):
        s = syms[end]
        if s not in own and s not in assign:
            if len(assign) == len(window):
                break
            assign[s] = window[len(assign)]
        end += 1
    return assign, end


def _cased(row: tuple[int, ...]) -> bool:
    """A letter key whose second level is the first one's capital: Caps Lock inverts these."""
    lo, up = (*row, 0, 0)[:2]
    return 0 < lo < 0x100 and 0 < up < 0x100 and chr(lo) != chr(up) and chr(lo).upper() == chr(up)


class X11KeysymTyper:
    """Types any text through XTEST on the X display it opens (see the module's docstring)."""

    types_any_text = True  # newlines and ASCII too: the driver hands it whole texts
    INTERVAL = 0.004  # seconds between keys, as pyautogui.write's interval
    SETTLE = 0.08  # the wait for a client that cannot be asked whether it has caught up
    ANSWER_TIMEOUT = 3.0  # the longest wait for a ping's or the window manager's answer

    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import X, display
        from Xlib.ext import xtest

        self._X = X
        self._xtest = xtest
        self._d = display.Display(display_name)
        self._root = self._d.screen().root
        atom = self._d.intern_atom
        self._wm_protocols = atom("WM_PROTOCOLS")
        self._net_wm_ping = atom("_NET_WM_PING")
        self._net_supported = atom("_NET_SUPPORTED")
        self._net_wm_check = atom("_NET_SUPPORTING_WM_CHECK")
        self._request_extents = atom("_NET_REQUEST_FRAME_EXTENTS")
        self._frame_extents = atom("_NET_FRAME_EXTENTS")
        self._probe: Any = None  # an unmapped window of ours the window manager estimates frames for
        self._tokens = itertools.count(1)
        self.keymap_changes = 0  # how many keymap changes this typer made, for logs and tests
        self.unanswered = 0  # how many waits for a ping's or the window manager's answer timed out

    def close(self) -> None:
        """Close the typer's own X connection."""
        try:
            if self._probe is not None:
                self._probe.destroy()
            self._d.close()
        except Exception:  # the display went away
            pass

    # -- the keymap ----------------------------------------------------------------------------------

    def keymap(self) -> Keymap:
        """The core keyboard mapping as it is now."""
        info = self._d.display.info
        first, count = info.min_keycode, info.max_keycode - info.min_keycode + 1
        rows = tuple(tuple(int(s) for s in row) for row in self._d.get_keyboard_mapping(first, count))
        modmap = self._d.get_modifier_mapping()
        modifiers = frozenset(int(kc) for keys in modmap for kc in keys if kc)
        shift = next((int(kc) for kc in modmap[self._X.ShiftMapIndex] if kc), 0)
        return Keymap(first, rows, modifiers, shift)

    def _change(self, first: int, rows: list[tuple[int, ...]]) -> None:
        self._d.change_keyboard_mapping(first, rows)
        self._d.sync()
        self.keymap_changes += 1

    # -- typing --------------------------------------------------------------------------------------

    def type(self, text: str) -> None:
        """Type `text` by binding borrowed keycodes to its keysyms, then restoring them."""
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not text:
            return
        km = self.keymap()
        syms = [keysym_for(ch) for ch in text]
        own = {s: k for s in set(syms) if (k := km.key_for(s)) is not None}
        lock = bool(self._root.query_pointer().mask & self._X.LockMask)
        missing = list(dict.fromkeys(s for s in syms if s not in own))
        if not missing:
            for s in syms:
                self._press_own(km, own[s], lock)
            self._d.sync()
            return
        window = km.window(len(missing))
        if not window:
            window = [km.first + len(km.rows) - 1]  # a strange keymap: borrow the last keycode alone
        self._type_borrowing(km, syms, own, lock, window)

    def _type_borrowing(self, km: Keymap, syms: list[int], own: dict[int, tuple[int, bool]], lock: bool,
                        window: list[int]) -> None:
        """Type `syms`, those missing from the keymap (not in `own`) on the keycodes of `window`, bound a
        batch at a time; the keycodes' own symbols are written back at the end, whatever happens."""
        used = 0  # keycodes window[:used] are rebound
        try:
            pos = 0
            while pos < len(syms):
                assign, end = _next_batch(syms, pos, own, window)
                if used:
                    self._wait_for_focused_window()  # the last batch's keys are read before rebinding
                rows: list[tuple[int, ...]] = [(s, s) for s in assign]
                self._change(window[0], rows)
                used = max(used, len(rows))
                for s in syms[pos:end]:
                    if s in assign:
                        self._tap(assign[s])
                    else:
                        self._press_own(km, own[s], lock)
                pos = end
            self._wait_for_focused_window()  # every key is read with the borrowed symbols
        finally:
            if used:
                self._change(window[0], [km.syms(kc) for kc in window[:used]])
                self._wait_until_caught_up()

    def _tap(self, kc: int) -> None:
        X = self._X
        self._xtest.fake_input(self._d, X.KeyPress, kc)
        self._xtest.fake_input(self._d, X.KeyRelease, kc)
        self._d.sync()
        time.sleep(self.INTERVAL)

    def _press_own(self, km: Keymap, key: tuple[int, bool], lock: bool) -> None:
        kc, shifted = key
        if lock and _cased(km.syms(kc)):
            shifted = not shifted  # Caps Lock is on: Shift gives the small letter
        if not shifted or not km.shift:
            self._tap(kc)
            return
        X = self._X
        self._xtest.fake_input(self._d, X.KeyPress, km.shift)
        try:
            self._tap(kc)
        finally:
            self._xtest.fake_input(self._d, X.KeyRelease, km.shift)
            self._d.sync()

    # -- waiting for clients to catch up -------------------------------------------------------------

    def _wait_for_focused_window(self) -> None:
        with self._root_events():
            token = self._ping(self._focused_window())
            answered = token is not None and self._await(token, None)
        if not answered:
            time.sleep(self.SETTLE)

    def _wait_until_caught_up(self) -> None:
        """Until the focused window and the window manager have handled everything up to the last keymap
        change (both asked at once), with a short settle instead when the window cannot be asked."""
        with self._root_events():
            token = self._ping(self._focused_window())
            probe = self._ask_window_manager()
            answered = self._await(token, probe)
        if token is None or not answered:
            time.sleep(self.SETTLE)

    @contextmanager
    def _root_events(self) -> Iterator[None]:
        """Pongs come to the root window, sent for SubstructureRedirect and either SubstructureNotify (GTK)
        or StructureNotify (Qt): listen there for both, only while waiting."""
        X = self._X
        self._root.change_attributes(event_mask=X.SubstructureNotifyMask | X.StructureNotifyMask)
        self._d.sync()
        try:
            yield
        finally:
            self._root.change_attributes(event_mask=X.NoEventMask)
            self._d.sync()
            while self._d.pending_events():
                self._d.next_event()

    def _focused_window(self) -> Any:
        """The client window the keys go to, if it answers _NET_WM_PING; else None. That is the top-level
        holding the focus, or with the focus on PointerRoot or the root (no window manager to set it), the
        one under the pointer."""
        X = self._X
        try:
            focus = self._d.get_input_focus().focus
            if isinstance(focus, int) or focus.id == self._root.id:
                if focus == X.NONE:
                    return None
                under = self._root.query_pointer().child
                return None if isinstance(under, int) else self._pingable_below(under, 3)
            w = focus
            while w and not isinstance(w, int) and w.id != self._root.id:
                protocols = w.get_full_property(self._wm_protocols, X.AnyPropertyType)
                if protocols is not None:
                    return w if self._net_wm_ping in protocols.value else None
                w = w.query_tree().parent
        except Exception:  # the window went away
            return None
        return None

    def _pingable_below(self, w: Any, depth: int) -> Any:
        """`w` or the topmost client window inside it (a window manager's frame), if it answers pings."""
        protocols = w.get_full_property(self._wm_protocols, self._X.AnyPropertyType)
        if protocols is not None:
            return w if self._net_wm_ping in protocols.value else None
        if depth:
            for child in reversed(w.query_tree().children):
                found = self._pingable_below(child, depth - 1)
                if found is not None:
                    return found
        return None

    def _ping(self, w: Any) -> int | None:
        """Send _NET_WM_PING to `w`, which answers once it has handled every event queued before it.
        Returns the token its answer carries, or None when there is nobody to ask."""
        if w is None:
            return None
        from Xlib.protocol import event

        token = 0x5A000000 | (next(self._tokens) & 0xFFFFFF)
        msg = event.ClientMessage(window=w, client_type=self._wm_protocols,
                                  data=(32, [self._net_wm_ping, token, w.id, 0, 0]))
        try:
            w.send_event(msg, event_mask=self._X.NoEventMask)
            self._d.flush()
        except Exception:
            return None
        return token

    def _window_manager(self) -> bool:
        """Whether an EWMH window manager that estimates frames for unmapped windows is running."""
        X = self._X
        try:
            check = self._root.get_full_property(self._net_wm_check, X.AnyPropertyType)
            if check is None or not check.value:
                return False
            w = self._d.create_resource_object("window", int(check.value[0]))
            own = w.get_full_property(self._net_wm_check, X.AnyPropertyType)  # a stale one has gone
            if own is None or not own.value or int(own.value[0]) != w.id:
                return False
            supported = self._root.get_full_property(self._net_supported, X.AnyPropertyType)
            return supported is not None and self._request_extents in supported.value
        except Exception:
            return False

    def _ask_window_manager(self) -> Any:
        """Ask the window manager for a frame estimate (_NET_REQUEST_FRAME_EXTENTS) for our unmapped probe
        window: it answers by setting a property on it once it has handled every event before the request.
        Returns the probe to wait on, or None when there is no such window manager."""
        if not self._window_manager():
            return None
        X = self._X
        from Xlib.protocol import event

        try:
            if self._probe is None:
                self._probe = self._root.create_window(-10, -10, 1, 1, 0, X.CopyFromParent, X.InputOnly,
                                                       X.CopyFromParent, event_mask=X.PropertyChangeMask)
            self._probe.delete_property(self._frame_extents)
            msg = event.ClientMessage(window=self._probe, client_type=self._request_extents,
                                      data=(32, [0, 0, 0, 0, 0]))
            self._root.send_event(msg, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
            self._d.flush()
        except Exception:
            return None
        return self._probe

    def _await(self, token: int | None, probe: Any) -> bool:
        """Read events until the pong carrying `token` and the frame estimate on `probe` have come (each
        when not None), or ANSWER_TIMEOUT passes. Returns whether everything awaited came."""
        deadline = time.monotonic() + self.ANSWER_TIMEOUT
        while token is not None or probe is not None:
            token, probe = self._take_answers(token, probe)
            if token is None and probe is None:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                self.unanswered += 1
                return False
            select.select([self._d], [], [], min(left, 0.05))
        return True

    def _take_answers(self, token: int | None, probe: Any) -> tuple[int | None, Any]:
        """Read the pending events: `token` and `probe`, each None once its answer has come."""
        while self._d.pending_events():
            e = self._d.next_event()
            if token is not None and self._is_pong(e, token):
                token = None
            elif probe is not None and self._is_frame_estimate(e, probe):
                probe = None
        return token, probe

    def _is_pong(self, e: Any, token: int) -> bool:
        """Whether event `e` is the answer to the _NET_WM_PING carrying `token`."""
        return bool(e.type == self._X.ClientMessage and e.client_type == self._wm_protocols
                    and e.data[1][0] == self._net_wm_ping and e.data[1][1] == token)

    def _is_frame_estimate(self, e: Any, probe: Any) -> bool:
        """Whether event `e` is the window manager's frame estimate set on our `probe` window."""
        X = self._X
        return bool(e.type == X.PropertyNotify and e.window.id == probe.id and e.atom == self._frame_extents
                    and e.state == X.PropertyNewValue)


class ClipboardTyper:
    """Types by pasting through the clipboard (where keysyms cannot be bound)."""

    def type(self, text: str) -> None:
        """Paste `text` where the focus is."""
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
    """The Unicode typer for this platform."""
    if sys.platform.startswith("linux"):
        return X11KeysymTyper()
    return ClipboardTyper()
