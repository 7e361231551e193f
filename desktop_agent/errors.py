"""One exception hierarchy; each message says what went wrong and how to fix it (the CLI prints it)."""

from __future__ import annotations


class AgentError(Exception):
    """Base of every error desktop-agent raises on purpose. `exit_code` is what the CLI returns."""

    exit_code = 1


class NoDisplayError(AgentError):
    def __init__(self, detail: str = "") -> None:
        msg = "no display: set DISPLAY or run under Xvfb"
        super().__init__(f"{msg} ({detail})" if detail else msg)


class ImageReadError(AgentError):
    exit_code = 2

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"cannot read image {path!r}: {why}")


class ScriptError(AgentError):
    """A task script that cannot be understood; raised before anything is clicked."""

    exit_code = 2


class MonitorLayoutError(AgentError):
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
        super().__init__(f"no run {run_id!r} in the run database: see `desktop-agent runs list`")
