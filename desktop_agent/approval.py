"""Who approves each step before input is sent. Approval fails closed: no answer, no input."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, TextIO

from desktop_agent.errors import ApprovalRefused
from desktop_agent.geometry import DesktopPoint

if TYPE_CHECKING:
    from desktop_agent.agent import StepProposal
    from desktop_agent.execution.windows import WindowInfo


class Decision(StrEnum):
    APPROVE = "approve"
    APPROVE_REST = "approve_rest"
    SKIP = "skip"
    QUIT = "quit"


class Approver(Protocol):
    def decide(self, proposal: StepProposal) -> Decision:
        """Approve, skip or stop a located step before any input is sent."""
        ...

    def answer(self, question: str) -> str | None:
        """The person's answer to a planner's question, or None when nobody can answer."""
        ...


@dataclass
class AutoApprover:
    """Approves every step: the person chose `--approve auto`. Steps on the approval floor (see
    agent/risk.py) are refused unless `allow_risky`, which the CLI sets only for the person's own script."""

    allow_risky: bool = False

    def decide(self, proposal: StepProposal) -> Decision:
        if proposal.risk and not self.allow_risky:
            raise ApprovalRefused(f"step {proposal.index + 1} ({proposal.plain_words()}) is {proposal.risk}: it needs "
                                  "a person's explicit approval, which --approve auto cannot give; nothing was sent")
        return Decision.APPROVE

    def answer(self, question: str) -> str | None:
        return None


# What an action does, as approval rules name it.
ACTION_KINDS = ("click", "type", "press", "scroll", "drag", "wait")
_INSIDE_AN_APP = ("click", "type", "drag")


def action_kind(proposal: StepProposal) -> str:
    kind = proposal.action.action
    return {"double_click": "click", "right_click": "click", "wait_for": "wait"}.get(kind, kind)


@dataclass(frozen=True)
class ApprovalPolicy:
    """Which steps need no question: action kinds in `auto`; clicks, typing and drags only inside windows
    of `app` when it is set. Never the approval floor (`proposal.risk`)."""

    auto: frozenset[str] = frozenset()
    app: str = ""


class PolicyApprover:
    """Applies an `ApprovalPolicy`, and asks `inner` (the person) about everything else."""

    def __init__(self, inner: Approver, policy: ApprovalPolicy,
                 window_at: Callable[[DesktopPoint], WindowInfo | None] | None = None) -> None:
        self.inner = inner
        self.policy = policy
        if window_at is None:
            from desktop_agent.execution.windows import window_at as _window_at

            window_at = _window_at
        self.window_at = window_at

    def covers(self, proposal: StepProposal) -> bool:
        kind = action_kind(proposal)
        if proposal.risk or kind not in self.policy.auto:
            return False
        if kind in _INSIDE_AN_APP and self.policy.app:
            for t in proposal.targets:
                win = self.window_at(t.desktop)
                if win is None or not win.matches(self.policy.app):
                    return False
        return True

    def decide(self, proposal: StepProposal) -> Decision:
        return Decision.APPROVE if self.covers(proposal) else self.inner.decide(proposal)

    def answer(self, question: str) -> str | None:
        return self.inner.answer(question)


@dataclass
class PreviewApprover:
    """`--dry-run`: every step is planned, located and recorded with its target, and none is sent (each is
    skipped). Shows what the agent would do on this screen; the evaluation uses it to compare plans."""

    def decide(self, proposal: StepProposal) -> Decision:
        return Decision.SKIP

    def answer(self, question: str) -> str | None:
        return None


def _drop_typeahead(stream: TextIO) -> None:
    """Discard what was typed before the question was shown (an Enter pressed while the last step ran
    must not answer this one)."""
    try:
        import termios

        termios.tcflush(stream.fileno(), termios.TCIFLUSH)
    except (ImportError, OSError, ValueError, AttributeError):
        pass  # not a terminal we can flush (Windows console): the answer below must still be a letter


@dataclass
class TerminalApprover:
    """Asks on the terminal: approve / skip / approve the rest / quit. Only a typed letter answers (an
    empty line asks again), keys typed before the question are dropped, and without a terminal it refuses.
    A step on the approval floor needs the whole word `yes`."""

    stdin: TextIO = sys.stdin
    stdout: TextIO = sys.stdout

    def decide(self, proposal: StepProposal) -> Decision:
        if not (self.stdin and self.stdin.isatty()):
            raise ApprovalRefused(
                "step needs approval but there is no terminal to ask; nothing was clicked or typed "
                "(run from a terminal, or pass --approve auto to approve every step)")
        _drop_typeahead(self.stdin)
        while True:
            if proposal.risk:
                self.stdout.write(f"  CAREFUL: this step is {proposal.risk}\n"
                                  f"  approve step {proposal.index + 1}: {proposal.plain_words()}?\n"
                                  "  type 'yes' to approve it  [s]kip  [q]uit > ")
            else:
                self.stdout.write(f"  approve step {proposal.index + 1}: {proposal.plain_words()}?\n"
                                  "  [y]es  [s]kip  [a]pprove the rest  [q]uit > ")
            self.stdout.flush()
            answer = self.stdin.readline()
            if answer == "":  # end of input: nobody is there to approve
                raise ApprovalRefused("no answer to the approval prompt; nothing was sent")
            choice = answer.strip().lower()
            if proposal.risk:
                if choice == "yes":
                    return Decision.APPROVE
            elif choice in ("y", "yes"):
                return Decision.APPROVE
            elif choice in ("a", "all"):
                return Decision.APPROVE_REST
            if choice in ("s", "skip"):
                return Decision.SKIP
            if choice in ("q", "quit"):
                return Decision.QUIT

    def answer(self, question: str) -> str | None:
        if not (self.stdin and self.stdin.isatty()):
            return None
        _drop_typeahead(self.stdin)
        self.stdout.write(f"  the agent asks: {question}\n  your answer (empty to stop) > ")
        self.stdout.flush()
        reply = self.stdin.readline().strip()
        return reply or None
