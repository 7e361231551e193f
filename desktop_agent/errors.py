"""One exception hierarchy; each message says what went wrong and how to fix it (the CLI prints it).

Exit codes (the CLI returns `exit_code`): 1 other errors (no display, keyring, ...), 2 bad input (a
script, an image, an option, a data set the command cannot use), 3 abstained, 4 approval refused,
5 a step failed, 130 stopped. Messages are one line; user text in them goes through `quote`, so a
100 kB instruction never becomes a 100 kB error line.
"""

from __future__ import annotations

QUOTE_LIMIT = 80  # characters of user text an error message echoes
LINE_LIMIT = 600  # characters of any error line the CLI prints


def quote(text: object, limit: int = QUOTE_LIMIT) -> str:
    """`repr` of user text, cut to `limit` characters with an ellipsis: safe to put in a one-line message
    (new lines, control characters and undecodable bytes come out escaped)."""
    s = text if isinstance(text, str) else str(text)
    if len(s) > limit:
        return repr(s[:limit]) + f"… ({len(s)} characters)"
    return repr(s)


def one_line(message: str, limit: int = LINE_LIMIT) -> str:
    """A message as one printable line of at most `limit` characters (the CLI's last line of defence)."""
    s = " ".join(message.split())
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates from undecodable argv
    return s if len(s) <= limit else s[: limit - 1] + "…"


class AgentError(Exception):
    """Base of every error desktop-agent raises on purpose. `exit_code` is what the CLI returns."""

    exit_code = 1


class UsageError(AgentError):
    """An argument the command cannot take (too long, not UTF-8, an unwritable output path, ...)."""

    exit_code = 2


class NoDisplayError(AgentError):
    def __init__(self, detail: str = "") -> None:
        msg = "no display: set DISPLAY or run under Xvfb"
        super().__init__(f"{msg} ({detail})" if detail else msg)


class ImageReadError(AgentError):
    exit_code = 2

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"cannot read image {quote(path, 200)}: {why}")


class ScriptError(AgentError):
    """A task script that cannot be understood; raised before anything is clicked."""

    exit_code = 2


class MonitorLayoutError(AgentError):
    exit_code = 2


class DatasetError(AgentError):
    """An evaluation set that cannot be used at all (no annotations, unreadable, empty)."""

    exit_code = 2


class TargetNotFound(AgentError):
    """Grounding abstained: nothing on screen matches well enough to click."""

    exit_code = 3


class ApprovalRefused(AgentError):
    """The person (or the absence of one) did not approve a step."""

    exit_code = 4


class RunAborted(AgentError):
    exit_code = 130


class StepFailed(AgentError):
    """A step ran but its effect could not be verified."""

    exit_code = 5


class RunNotFound(AgentError):
    exit_code = 2

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run {quote(run_id)} in the run database: see `desktop-agent runs list`")


class DataFolderError(AgentError):
    """The data folder (run database, screenshots) cannot be used as it is; the message says what to do."""

    exit_code = 2


class InputFailSafe(RunAborted):
    """The input driver's fail-safe tripped (pyautogui: the mouse slammed into a screen corner): the run stops."""

    def __init__(self) -> None:
        super().__init__("pyautogui fail-safe: mouse moved to a screen corner")
