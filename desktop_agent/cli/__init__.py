"""The `desktop-agent` command: a thin front end over the core (parse, locate, run, runs, eval, doctor).

The package: `arguments` (the parser, argument checks, `RunOptions` from them), `commands` and `evaluate`
(what each command does), `printing` (what they print).

Every error reaches the user as one line on stderr, `desktop-agent: ...`, and a documented exit code
(README, "Using the command line"): bad input is refused with 2 before any work is done or anything is
recorded or clicked.
"""

from __future__ import annotations

import os
import sys

# OpenCV reads its log level once, when it loads: its "[ WARN:0@...]" lines never reach the terminal.
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

from desktop_agent.cli.arguments import build_parser, non_utf8_argument
from desktop_agent.cli.evaluate import CHECK_PROGRAMS, SUITE_PROGRAMS
from desktop_agent.cli.printing import error_line
from desktop_agent.errors import AgentError, UsageError

__all__ = ["CHECK_PROGRAMS", "SUITE_PROGRAMS", "build_parser", "main"]


def _unexpected(exc: Exception) -> int | None:
    """The last line of defence: errors of the environment (a lost X display, a full disk) as one line;
    None for anything else (a bug, which keeps its traceback)."""
    from desktop_agent.capture.screen import display_error

    lost = display_error(exc)
    if lost is not None:
        error_line(str(lost))
        return lost.exit_code
    if isinstance(exc, OSError):
        error_line(str(exc))
        return 1
    return None


def main(argv: list[str] | None = None) -> int:
    """The `desktop-agent` command: run the command `argv` names and return its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    bad = non_utf8_argument(argv)
    if bad is not None:  # refused before anything runs: sqlite, the terminal and X take only text
        shown = bad.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        shown = shown if len(shown) <= 80 else shown[:80] + "…"
        error_line(f"the argument `{shown}` is not valid UTF-8 text: give every argument (file names too) in UTF-8")
        return UsageError.exit_code
    if argv[:1] == ["app"]:  # the app parses its own options
        from desktop_agent.app.main import main as app_main

        try:
            return app_main(argv[1:])
        except AgentError as exc:
            error_line(str(exc))
            return exc.exit_code
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AgentError as exc:
        error_line(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        error_line("interrupted")
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except Exception as exc:
        code = _unexpected(exc)
        if code is None:
            raise
        return code

