"""One exception hierarchy; each message says what went wrong and how to fix it (the CLI prints it).

Exit codes (the CLI returns `exit_code`): 1 other errors (no display, keyring, ...), 2 bad input (a
script, an image, an option, a data set the command cannot use), 3 abstained, 4 approval refused,
5 a step failed, 6 a step skipped, 7 the model unreachable, 130 stopped. Every exception the CLI turns
into an exit code is defined here (the modules that raise them re-export their own). Messages are one
line; user text in them goes through `quote`, so a 100 kB instruction never becomes a 100 kB error line.
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
    """No display to capture or send input to (DISPLAY unset, the X server gone)."""

    def __init__(self, detail: str = "") -> None:
        msg = "no display: set DISPLAY or run under Xvfb"
        super().__init__(f"{msg} ({detail})" if detail else msg)


class ImageReadError(AgentError):
    """An image file that cannot be read (missing, damaged, too large)."""

    exit_code = 2

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"cannot read image {quote(path, 200)}: {why}")


class ScriptError(AgentError):
    """A task script that cannot be understood; raised before anything is clicked."""

    exit_code = 2


class MonitorLayoutError(AgentError):
    """A `--monitors` layout that cannot be used (unreadable, or off the real screen)."""

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
    """The run was stopped (Ctrl+C, SIGTERM, the stop request, the fail-safe)."""

    exit_code = 130


class StepFailed(AgentError):
    """A step ran but its effect could not be verified."""

    exit_code = 5


class StepSkipped(AgentError):
    """The person skipped a step; the run's other steps were verified (the run ends `partial`)."""

    exit_code = 6


class PlanRejected(AgentError):
    """The model's answer cannot become an action (malformed, unknown mark, off-screen point, ...)."""

    exit_code = 5

    def __init__(self, message: str, raw: str = "", usage: dict[str, float] | None = None) -> None:
        super().__init__(message)
        self.raw = raw
        self.usage = usage or {}


class BackendError(AgentError):
    """The model could not be reached or refused the request (server down, bad key, unknown model)."""

    exit_code = 7


class KeyringError(AgentError):
    """The OS keyring cannot be reached or refused to store or remove a key."""


class AccessibilityError(AgentError):
    """Reading the accessibility tree failed."""


class AccessibilityUnavailable(AccessibilityError):
    """There is no accessibility tree to read here (no bus, not implemented on this platform)."""


class RunNotFound(AgentError):
    """No run in the run database has this ID (or a unique part of it)."""

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


class TaskSkipped(AgentError):
    """An evaluation task that cannot run in this kind of session (its app does not run there): skipped, not
    failed."""


class NotOnWayland(TaskSkipped):
    """A task's app cannot run as a native Wayland client (an X11-only toolkit): the task is skipped."""
