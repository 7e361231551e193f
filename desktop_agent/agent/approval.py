"""Who approves each step before input is sent, and the one gate that decides whether to ask: the approval
floor (risk.py's steps that always need a person), "approve the rest", and how `--approve` and `--dry-run`
choose an approver. Approval fails closed: no answer, no input."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, TextIO

from desktop_agent.agent.proposal import Located, StepProposal
from desktop_agent.agent.risk import step_risk
from desktop_agent.errors import ApprovalRefused, RunAborted
from desktop_agent.geometry import DesktopPoint
from desktop_agent.planning.planner import PlannedStep

if TYPE_CHECKING:
    from desktop_agent.execution.windows import WindowInfo


class Decision(StrEnum):
    """A person's answer to a located step."""

    APPROVE = "approve"
    APPROVE_REST = "approve_rest"
    SKIP = "skip"
    QUIT = "quit"


class Approver(Protocol):
    """Asks a person (or a policy) about each step; `open` before a run, `close` to refuse whatever waits."""

    def decide(self, proposal: StepProposal) -> Decision:
        """Approve, skip or stop a located step before any input is sent."""
        ...

    def answer(self, question: str) -> str | None:
        """The person's answer to a planner's question, or None when nobody can answer."""
        ...

    def open(self) -> None:
        """A run starts: questions may be asked again."""
        ...

    def close(self, why: str = "the app was closed") -> None:
        """Fail closed: a question waiting in another thread is refused (the run ends as stopped, for `why`)."""
        ...


class _AnswersAtOnce:
    """Approvers that never wait in another thread: nothing to open or close."""

    def open(self) -> None:
        """Nothing to prepare."""

    def close(self, why: str = "the app was closed") -> None:
        """Nothing waits: the next question is refused by the loop's abort."""


@dataclass
class AutoApprover(_AnswersAtOnce):
    """Approves every step: the person chose `--approve auto`. Steps on the approval floor (see
    agent/risk.py) are refused unless `allow_risky`, which the CLI sets only for the person's own script."""

    allow_risky: bool = False

    def decide(self, proposal: StepProposal) -> Decision:
        """Approve, unless the step is on the floor and risky steps are not allowed."""
        if proposal.risk and not self.allow_risky:
            raise ApprovalRefused(f"step {proposal.index + 1} ({proposal.plain_words()}) is {proposal.risk}: it needs "
                                  "a person's explicit approval, which --approve auto cannot give; nothing was sent")
        return Decision.APPROVE

    def answer(self, question: str) -> str | None:
        """Nobody answers."""
        return None


# What an action does, as approval rules name it.
ACTION_KINDS = ("click", "type", "press", "scroll", "drag", "wait")
_INSIDE_AN_APP = ("click", "type", "drag")


def action_kind(proposal: StepProposal) -> str:
    """The step's action as approval rules name it (a double click is a click)."""
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
        """Whether the policy approves this step without asking."""
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
        """Approve what the policy covers; ask the person about the rest."""
        return Decision.APPROVE if self.covers(proposal) else self.inner.decide(proposal)

    def answer(self, question: str) -> str | None:
        """The person answers."""
        return self.inner.answer(question)

    def open(self) -> None:
        """Open the person's approver."""
        self.inner.open()

    def close(self, why: str = "the app was closed") -> None:
        """Close the person's approver."""
        self.inner.close(why)


@dataclass
class PreviewApprover(_AnswersAtOnce):
    """`--dry-run`: every step is planned, located and recorded with its target, and none is sent (each is
    skipped). Shows what the agent would do on this screen; the evaluation uses it to compare plans."""

    def decide(self, proposal: StepProposal) -> Decision:
        """Skip: nothing is sent."""
        return Decision.SKIP

    def answer(self, question: str) -> str | None:
        """Nobody answers."""
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
class TerminalApprover(_AnswersAtOnce):
    """Asks on the terminal: approve / skip / approve the rest / quit. Only a typed letter answers (an
    empty line asks again), keys typed before the question are dropped, and without a terminal it refuses.
    A step on the approval floor needs the whole word `yes`."""

    stdin: TextIO = sys.stdin
    stdout: TextIO = sys.stdout

    def decide(self, proposal: StepProposal) -> Decision:
        """Ask on the terminal until a letter answers; refuse without a terminal."""
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
        """Ask the planner's question on the terminal; an empty answer (or no terminal) is None."""
        if not (self.stdin and self.stdin.isatty()):
            return None
        _drop_typeahead(self.stdin)
        self.stdout.write(f"  the agent asks: {question}\n  your answer (empty to stop) > ")
        self.stdout.flush()
        reply = self.stdin.readline().strip()
        return reply or None


class ApprovalGate:
    """Whether a located step is asked about: always when it is on the approval floor (`proposal.risk`), else
    unless the person chose "approve the rest"; a quit at the prompt stops the run."""

    def __init__(self, approver: Approver) -> None:
        self.approver = approver
        self.approve_rest = False

    def decide(self, proposal: StepProposal, timings: dict[str, float]) -> Decision:
        """The decision for this step (APPROVE without asking where the person approved the rest)."""
        if self.approve_rest and not proposal.risk:
            return Decision.APPROVE
        t0 = time.perf_counter()
        decision = self.approver.decide(proposal)
        timings["approval"] = (time.perf_counter() - t0) * 1000
        if decision == Decision.QUIT:
            raise RunAborted("stopped at the approval prompt")
        if decision == Decision.APPROVE_REST:
            self.approve_rest = True
        return decision

    @staticmethod
    def floor(planned: PlannedStep, targets: list[Located], secret_focus: bool, platform_secret: bool) -> str | None:
        """Why the step is on the approval floor (always asked, whatever was approved before), or None."""
        return step_risk(planned, targets, secret_focus, platform_secret)

    def answer(self, question: str) -> str | None:
        """The person's answer to a question (None: nobody answers)."""
        return self.approver.answer(question)

    @contextmanager
    def step(self) -> Iterator[None]:
        """One step's approvals: "approve the rest" given in a step that then fails is not kept."""
        before = self.approve_rest
        try:
            yield
        except BaseException:
            self.approve_rest = before
            raise
