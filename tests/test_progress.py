"""The long commands' progress off a terminal: when a line is printed, and what it says."""

from __future__ import annotations

import io

from desktop_agent.progress import Progress, duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_every_5_percent_or_10_seconds_with_rate_and_eta() -> None:
    out, clock = io.StringIO(), Clock()
    p = Progress(200, "eval grounding", "sample", file=out, tty=False, clock=clock, announce=True)
    for done in range(1, 10):  # 9 of 200 in 4.5 s: under 5% and under 10 s, no line
        clock.now += 0.5
        p.update(done)
    assert out.getvalue().splitlines() == ["eval grounding: 0/200 samples, started"]
    clock.now += 0.5
    p.update(10)  # 5%
    assert out.getvalue().splitlines()[-1] == \
        "eval grounding: 10/200 samples (5%), 2.0 samples/s, 5s elapsed, ETA 1m35s"
    clock.now += 12  # slow now: 10 s since the last line, before another 5%
    p.update(11)
    assert out.getvalue().splitlines()[-1] == \
        "eval grounding: 11/200 samples (5%), 1.5 s/sample, 17s elapsed, ETA 4m52s"
    p.update(200)
    assert out.getvalue().splitlines()[-1] == "eval grounding: 200/200 samples (100%), 11.8 samples/s, 17s elapsed"
    assert len(out.getvalue().splitlines()) == 4


def test_quick_work_prints_nothing_and_slow_work_a_first_line_after_2_seconds() -> None:
    out, clock = io.StringIO(), Clock()
    p = Progress(12, "eval grounding", "sample", file=out, tty=False, clock=clock)
    for done in range(1, 13):  # all of it within a second: stderr stays the command's own
        clock.now += 0.05
        p.update(done)
    p.close()
    assert out.getvalue() == ""
    p = Progress(100, "eval grounding", "sample", file=out, tty=False, clock=clock)
    clock.now += 1.5
    p.update(1)
    assert out.getvalue() == ""
    clock.now += 1.0  # 2.5 s in: the first line, though under 5% was done since the start
    p.update(2)
    assert out.getvalue().splitlines() == ["eval grounding: 2/100 samples (2%), 1.2 s/sample, 2s elapsed, ETA 2m02s"]


def test_stopped_early_says_so() -> None:
    out, clock = io.StringIO(), Clock()
    p = Progress(4, "eval tasks", "task", file=out, tty=False, clock=clock)
    clock.now += 40
    p.update(1)
    p.close(stopped=True)
    assert out.getvalue().splitlines()[-1] == \
        "eval tasks: 1/4 tasks (25%), 40.0 s/task, 40s elapsed, ETA 2m00s; stopped"


def test_durations() -> None:
    assert [duration(s) for s in (0, 59.4, 60, 3599, 3600, 7325)] == ["0s", "59s", "1m00s", "59m59s", "1h00m", "2h02m"]
