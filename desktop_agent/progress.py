"""Progress of the CLI's long commands (`eval grounding`, `eval tasks`) on stderr, with rate and ETA.

On a terminal: a tqdm bar, redrawn in place. Anywhere else (a pipe, a log file, CI, a terminal that
reports no width): plain lines, one as soon as another 5% is done or 10 s have passed since the last one,
each with done/total, the rate and the ETA; none for work done within its first 2 s (a quick command's
stderr stays its own), and a "started" line at once for work whose every item takes long (`announce`):

    eval grounding: 140/375 samples (37%), 2.3 samples/s, 1m02s elapsed, ETA 1m42s
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

LINE_INTERVAL_S = 10.0  # off a terminal: a line at least this often while work gets done ...
LINE_FRACTION = 0.05  # ... or whenever this share of the total is done since the last line
QUIET_START_S = 2.0  # no line before this: a command done sooner prints no progress at all


def duration(seconds: float) -> str:
    """`42s`, `3m05s`, `1h02m`."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def rate_text(done: int, elapsed: float, unit: str) -> str:
    """`2.3 samples/s`, or `41.0 s/task` when each takes longer than a second; `-` before the first."""
    if done <= 0 or elapsed <= 0:
        return f"- {unit}s/s"
    per_second = done / elapsed
    if per_second >= 1:
        return f"{per_second:.1f} {unit}s/s"
    return f"{elapsed / done:.1f} s/{unit}"


def _width(file: TextIO) -> int:
    """The terminal's width in columns (0 when it reports none: a bar would not show there)."""
    try:
        return os.get_terminal_size(file.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0


class Progress:
    """done/total of a long command, shown on `file` (stderr): a bar on a terminal, plain lines elsewhere.
    `write` prints a line of the command's own output (stdout) without tearing the bar."""

    def __init__(self, total: int, label: str, unit: str, file: TextIO | None = None, tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic, announce: bool = False) -> None:
        self.total = max(0, total)
        self.label = label
        self.unit = unit
        self.file: TextIO = file if file is not None else sys.stderr
        self.clock = clock
        self.done = 0
        self.start = clock()
        self._last_line_at = self.start
        self._last_line_done = 0
        self._printed = False
        self._bar: Any = None
        if tty is None:
            tty = bool(getattr(self.file, "isatty", lambda: False)()) and _width(self.file) > 0
        if tty:
            try:
                from tqdm import tqdm
            except ImportError:  # tqdm comes with rapidocr; without it, plain lines
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=self.total, desc=label, unit=unit, file=self.file, mininterval=0.5,
                                 dynamic_ncols=True, leave=True, smoothing=0.1)
        if self._bar is None and announce:
            self._print(f"{label}: 0/{self.total} {unit}s, started")

    def _print(self, line: str) -> None:
        print(line, file=self.file, flush=True)
        self._printed = True

    def line(self) -> str:
        """The plain progress line for what is done now."""
        elapsed = self.clock() - self.start
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        eta = ""
        if 0 < self.done < self.total:
            eta = f", ETA {duration(elapsed / self.done * (self.total - self.done))}"
        return (f"{self.label}: {self.done}/{self.total} {self.unit}s{share}, "
                f"{rate_text(self.done, elapsed, self.unit)}, {duration(elapsed)} elapsed{eta}")

    def update(self, done: int) -> None:
        """`done` of the total are finished (a count, not an increment)."""
        step = done - self.done
        self.done = done
        if self._bar is not None:
            if step:
                self._bar.update(step)
            return
        now = self.clock()
        if not self._printed and now - self.start < QUIET_START_S:
            return  # quick so far: the first line comes once the work has taken a while
        due = (not self._printed
               or now - self._last_line_at >= LINE_INTERVAL_S
               or done - self._last_line_done >= max(1.0, LINE_FRACTION * self.total)
               or done >= self.total)
        if step and due and done != self._last_line_done:
            self._print(self.line())
            self._last_line_at, self._last_line_done = now, done

    def write(self, text: str) -> None:
        """A line of the command's own output on stdout, kept clear of the bar."""
        if self._bar is not None:
            self._bar.write(text, file=sys.stdout)
            sys.stdout.flush()
        else:
            print(text, flush=True)

    def close(self, stopped: bool = False) -> None:
        """The bar's last state (or, off a terminal, a last line when the work was stopped early)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            if stopped:
                self._print(f"{self.label}: stopped at {self.done}/{self.total} {self.unit}s")
            return
        if stopped:
            self._print(f"{self.line()}; stopped")
