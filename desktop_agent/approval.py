"""Who approves each step before input is sent. Approval fails closed: no answer, no input."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, TextIO

from desktop_agent.errors import ApprovalRefused

if TYPE_CHECKING:
    from desktop_agent.agent import StepProposal


class Decision(StrEnum):
    APPROVE = "approve"
    APPROVE_REST = "approve_rest"
    SKIP = "skip"
    QUIT = "quit"


class Approver(Protocol):
    def decide(self, proposal: StepProposal) -> Decision: ...


class AutoApprover:
    """Approves everything: the person chose `--approve auto`."""

    def decide(self, proposal: StepProposal) -> Decision:
        return Decision.APPROVE


@dataclass
class TerminalApprover:
    """Asks on the terminal: approve / skip / approve the rest / quit. Without a terminal it refuses."""

    stdin: TextIO = sys.stdin
    stdout: TextIO = sys.stdout

    def decide(self, proposal: StepProposal) -> Decision:
        if not (self.stdin and self.stdin.isatty()):
            raise ApprovalRefused(
                "step needs approval but there is no terminal to ask; nothing was clicked or typed "
                "(run from a terminal, or pass --approve auto to approve every step)")
        while True:
            self.stdout.write(f"  approve step {proposal.index + 1}: {proposal.plain_words()}?\n"
                              "  [y]es  [s]kip  [a]pprove the rest  [q]uit > ")
            self.stdout.flush()
            answer = self.stdin.readline()
            if answer == "":  # end of input: nobody is there to approve
                raise ApprovalRefused("no answer to the approval prompt; nothing was sent")
            choice = answer.strip().lower()[:1]
            if choice in ("y", ""):
                return Decision.APPROVE
            if choice == "s":
                return Decision.SKIP
            if choice == "a":
                return Decision.APPROVE_REST
            if choice == "q":
                return Decision.QUIT
