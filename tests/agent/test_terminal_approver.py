"""The terminal approval prompt on a real pseudo-terminal: keys typed before the question never answer
it, a bare Enter is no yes, and a step on the approval floor needs the word `yes`."""

from __future__ import annotations

import os
import pty
import threading
import time
from collections.abc import Iterator
from io import StringIO
from typing import TextIO

import pytest

from desktop_agent.agent.approval import Decision, TerminalApprover
from desktop_agent.agent.proposal import StepProposal
from desktop_agent.errors import ApprovalRefused
from desktop_agent.planning.actions import Click, Target
from desktop_agent.planning.planner import PlannedStep


@pytest.fixture
def terminal() -> Iterator[tuple[int, TextIO]]:
    master, slave = pty.openpty()
    stdin = os.fdopen(slave, "r", encoding="utf-8")
    yield master, stdin
    stdin.close()
    os.close(master)


def _proposal(risk: str | None = None) -> StepProposal:
    return StepProposal(1, PlannedStep(Click(target=Target(text="Delete"))), [], risk)


def _decide_after(approver: TerminalApprover, proposal: StepProposal, master: int, keys: list[bytes]) -> Decision:
    """Ask in a thread; type each of `keys` once the question is on screen."""
    got: list[Decision | BaseException] = []

    def ask() -> None:
        try:
            got.append(approver.decide(proposal))
        except BaseException as exc:
            got.append(exc)

    t = threading.Thread(target=ask, daemon=True)
    out = approver.stdout
    assert isinstance(out, StringIO)
    t.start()
    for n, key in enumerate(keys, start=1):
        deadline = time.monotonic() + 10
        while out.getvalue().count(" > ") < n and t.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)  # wait for question number n before typing its answer
        os.write(master, key)
    t.join(10)
    if t.is_alive():
        os.write(master, b"q\n")  # never leave the thread blocked on the terminal
        t.join(5)
    assert got, "the approver did not answer"
    if isinstance(got[0], BaseException):
        raise got[0]
    return got[0]


def test_typeahead_and_a_bare_enter_never_approve(terminal: tuple[int, TextIO]) -> None:
    master, stdin = terminal
    approver = TerminalApprover(stdin, StringIO())
    os.write(master, b"y\n")  # typed while the previous step ran: must be dropped
    decision = _decide_after(approver, _proposal(), master, [b"\n", b"s\n"])
    assert decision == Decision.SKIP
    assert isinstance(approver.stdout, StringIO)
    assert approver.stdout.getvalue().count("approve step 2") == 2  # the bare Enter asked again


def test_a_floor_step_needs_the_word_yes(terminal: tuple[int, TextIO]) -> None:
    master, stdin = terminal
    approver = TerminalApprover(stdin, StringIO())
    decision = _decide_after(approver, _proposal("deleting or closing something"), master,
                             [b"y\n", b"a\n", b"yes\n"])
    assert decision == Decision.APPROVE
    assert isinstance(approver.stdout, StringIO)
    assert approver.stdout.getvalue().count("CAREFUL") == 3


def test_the_end_of_input_refuses(terminal: tuple[int, TextIO]) -> None:
    master, stdin = terminal
    approver = TerminalApprover(stdin, StringIO())
    with pytest.raises(ApprovalRefused):
        _decide_after(approver, _proposal(), master, [b"\x04"])  # Ctrl+D on an empty line
