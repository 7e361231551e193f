"""The approval gate on its own: the floor is always asked, "approve the rest" covers the others (and is not
kept from a step that failed), a quit stops the run; approvers choose by --approve and --dry-run."""

from __future__ import annotations

import pytest

from desktop_agent.agent.approval import (
    ApprovalGate,
    AutoApprover,
    Decision,
    PreviewApprover,
    TerminalApprover,
)
from desktop_agent.agent.proposal import StepProposal
from desktop_agent.assemble import approve_mode, run_approver
from desktop_agent.config import RunOptions
from desktop_agent.errors import RunAborted, StepFailed
from desktop_agent.planning.actions import Click, Target
from desktop_agent.planning.planner import PlannedStep


class Person:
    def __init__(self, *decisions: Decision) -> None:
        self.decisions = list(decisions)
        self.asked: list[int] = []

    def decide(self, proposal: StepProposal) -> Decision:
        self.asked.append(proposal.index)
        return self.decisions.pop(0)

    def answer(self, question: str) -> str | None:
        return "do it"

    def open(self) -> None: ...

    def close(self, why: str = "") -> None: ...


def _proposal(i: int, risk: str | None = None) -> StepProposal:
    return StepProposal(i, PlannedStep(Click(target=Target(text="Save"))), [], risk)


def test_the_rest_is_approved_but_never_the_floor() -> None:
    person = Person(Decision.APPROVE_REST, Decision.APPROVE)
    gate = ApprovalGate(person)
    timings: dict[str, float] = {}
    assert gate.decide(_proposal(0), timings) == Decision.APPROVE_REST and "approval" in timings
    assert gate.decide(_proposal(1), {}) == Decision.APPROVE
    assert gate.decide(_proposal(2, "sending or submitting"), {}) == Decision.APPROVE
    assert person.asked == [0, 2] and gate.answer("?") == "do it"


def test_approve_the_rest_from_a_failed_step_is_not_kept() -> None:
    gate = ApprovalGate(Person(Decision.APPROVE_REST, Decision.SKIP))
    with pytest.raises(StepFailed), gate.step():
        gate.decide(_proposal(0), {})
        raise StepFailed("no visible effect")
    assert gate.approve_rest is False and gate.decide(_proposal(1), {}) == Decision.SKIP


def test_quit_stops_the_run() -> None:
    with pytest.raises(RunAborted, match="stopped at the approval prompt"):
        ApprovalGate(Person(Decision.QUIT)).decide(_proposal(0), {})


def test_approvers_by_mode() -> None:
    auto = run_approver(RunOptions(approve="auto", planner="direct"))
    assert isinstance(auto, AutoApprover) and auto.allow_risky
    model = run_approver(RunOptions(approve="auto", planner="openai"))
    assert isinstance(model, AutoApprover) and not model.allow_risky
    assert isinstance(run_approver(RunOptions(approve="ask")), TerminalApprover)
    dry = RunOptions(approve="auto", dry_run=True)
    assert isinstance(run_approver(dry), PreviewApprover) and approve_mode(dry) == "ask"


def test_the_old_import_path_still_works() -> None:
    from desktop_agent import approval

    assert approval.Decision is Decision and approval.ApprovalGate is ApprovalGate
