"""The loop without a display: the Agent over a FakeScreen (PNG frames drawn with a real font), the real OCR
parser and a RecordingDriver; asserts on the input it sent and on the SQLite record it wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop_agent.agent import Agent, AgentEvent, AgentSettings, EventKind, StepProposal
from desktop_agent.agent.approval import AutoApprover, Decision
from desktop_agent.capture.fake import FakeScreen
from desktop_agent.capture.masked import ExcludedRegions, MaskedScreen
from desktop_agent.errors import InputFailSafe
from desktop_agent.execution.input_driver import RecordingDriver
from desktop_agent.geometry import DesktopRect, Monitor, ScreenLayout
from desktop_agent.perception.parser import ScreenParser
from desktop_agent.planning.planner import DirectPlanner
from desktop_agent.runs.store import RunStore
from desktop_agent.secret_fields import MASK
from tests.agent.fake_app import Button, FakeApp, button_box_desktop, draw, inside

SIZE = (640, 360)
SAVE, DELETE = Button("Save", 60, 60), Button("Delete draft", 220, 60)
QUICK = AgentSettings(settle_timeout=0.5, verify_timeout=0.6)


class Person:
    """A scripted approver standing in for the person: gives the listed decisions in turn, records what it saw."""

    def __init__(self, *decisions: Decision) -> None:
        self.decisions = list(decisions)
        self.asked: list[StepProposal] = []

    def decide(self, proposal: StepProposal) -> Decision:
        self.asked.append(proposal)
        return self.decisions.pop(0)

    def answer(self, question: str) -> str | None:
        return None


def _single(tmp_path: Path, before: list[Button], after: list[Button] | None) -> tuple[FakeScreen, FakeApp]:
    screen = FakeScreen.single(draw(tmp_path / "before.png", SIZE, before))
    mon = screen.layout().primary
    then = {"Save": draw(tmp_path / "after.png", SIZE, after)} if after is not None else {}
    boxes = {b.text: button_box_desktop(b, mon) for b in before}
    return screen, FakeApp(screen, boxes, then)


def _run(screen: Any, app: FakeApp | None, parser: ScreenParser, home: Path, script: str, approver: Any = None,
         settings: AgentSettings = QUICK) -> tuple[Any, RecordingDriver, RunStore, list[AgentEvent]]:
    driver = RecordingDriver(react=app.react if app is not None else None)
    store = RunStore(home)
    events: list[AgentEvent] = []
    agent = Agent(screen, parser, driver, store, approver or AutoApprover(allow_risky=True), settings,
                  on_event=events.append)
    outcome = agent.run(script, DirectPlanner(script), "auto")
    return outcome, driver, store, events


def test_a_click_is_sent_inside_the_button_verified_and_recorded(tmp_path: Path, home: Path,
                                                                 parser: ScreenParser) -> None:
    screen, app = _single(tmp_path, [SAVE], [SAVE, Button("Report saved", 60, 200)])
    outcome, driver, store, events = _run(screen, app, parser, home, 'click "Save"')
    assert (outcome.status, outcome.exit_code, outcome.message) == ("succeeded", 0, "all 1 steps ran and were verified")
    assert [name for name, _ in driver.calls] == ["move", "click"] and app.clicked == ["Save"]
    point, button, count = driver.calls[1][1]
    assert (button, count) == ("left", 1) and inside(point, app.boxes["Save"])
    (step,) = store.steps(outcome.run_id)
    assert step.status == "verified" and step.target is not None
    assert step.target["desktop"] == [point.x, point.y] and step.target["monitor"] == 1
    assert step.verify is not None and step.verify["changed"] is True and step.verify["bbox"]
    assert "Report saved" in (step.outcome or "")
    assert step.before_path and step.after_path and (home / step.after_path).exists()
    assert {"settle_capture", "parse", "locate", "act", "verify", "step"} <= set(step.timings)
    kinds = [e.kind for e in events]
    assert kinds == [EventKind.RUN_STARTED, EventKind.STEP_PLANNED, EventKind.STEP_LOCATED, EventKind.STEP_DONE,
                     EventKind.RUN_FINISHED]
    assert events[2].message == f'Click "Save" at ({point.x}, {point.y}) on monitor 1'
    assert store.get_run(outcome.run_id).status == "succeeded"


def test_a_missing_target_sends_nothing_and_keeps_what_was_seen(tmp_path: Path, home: Path,
                                                                parser: ScreenParser) -> None:
    screen, app = _single(tmp_path, [SAVE], None)
    outcome, driver, store, events = _run(screen, app, parser, home, 'click "Export"')
    assert (outcome.status, outcome.exit_code) == ("failed", 3) and driver.calls == []
    (step,) = store.steps(outcome.run_id)
    assert step.status == "failed" and "export" in step.error and step.before_path
    assert events[-2].kind == EventKind.STEP_FAILED


def test_a_click_with_no_effect_fails_the_step(tmp_path: Path, home: Path, parser: ScreenParser) -> None:
    screen, app = _single(tmp_path, [SAVE], None)  # the app ignores the click
    outcome, _driver, store, _ = _run(screen, app, parser, home, 'click "Save"')
    assert (outcome.status, outcome.exit_code) == ("failed", 5) and app.clicked == ["Save"]
    (step,) = store.steps(outcome.run_id)
    assert (step.status, step.error) == ("failed", "no visible effect")
    assert step.verify is not None and step.verify["changed"] is False


def test_a_target_on_the_left_monitor_at_scale_2_is_clicked_in_desktop_coordinates(
        tmp_path: Path, home: Path, parser: ScreenParser) -> None:
    primary = Monitor(1, 0, 0, 640, 360, 1.0, True, "right")
    left = Monitor(2, -400, 40, 400, 300, 2.0, False, "left")
    ok = Button("Apply", 100, 80)
    blank = draw(tmp_path / "primary.png", SIZE, [SAVE])
    on_left = draw(tmp_path / "left.png", (800, 600), [ok], scale=2.0)
    after_left = draw(tmp_path / "left-after.png", (800, 600), [ok, Button("Applied", 100, 300)], scale=2.0)
    screen = FakeScreen(ScreenLayout((primary, left)), {1: blank, 2: on_left})
    app = FakeApp(screen, {"Apply": button_box_desktop(ok, left, 2.0)}, {"Apply": after_left}, monitor=2)
    outcome, driver, store, _ = _run(screen, app, parser, home, 'click "Apply"')
    assert outcome.status == "succeeded" and app.clicked == ["Apply"]
    point = driver.calls[-1][1][0]
    assert left.contains(point) and point.x < 0
    (step,) = store.steps(outcome.run_id)
    assert step.target is not None and step.target["monitor"] == 2 and step.after_path.endswith("-m2.png")


def test_approve_the_rest_never_covers_the_floor(tmp_path: Path, home: Path, parser: ScreenParser) -> None:
    screen, app = _single(tmp_path, [SAVE, DELETE], [SAVE, DELETE, Button("Saved", 60, 200)])
    app.then["Delete draft"] = draw(tmp_path / "deleted.png", SIZE, [SAVE])
    app.then["Save"] = draw(tmp_path / "saved.png", SIZE, [SAVE, DELETE, Button("Saved", 60, 200)])
    person = Person(Decision.APPROVE_REST, Decision.APPROVE)
    outcome, _driver, store, _ = _run(screen, app, parser, home,
                                     'click "Save"; wait 0.1; click "Delete draft"', approver=person)
    assert outcome.status == "succeeded" and app.clicked == ["Save", "Delete draft"]
    # Asked about the first step, not the wait (the rest approved), and again about deleting (the floor).
    assert [p.index for p in person.asked] == [0, 2]
    assert person.asked[1].risk == "deleting or closing something"
    assert [s.status for s in store.steps(outcome.run_id)] == ["verified", "verified", "verified"]


def test_a_skipped_step_sends_nothing_and_the_run_is_partial(tmp_path: Path, home: Path,
                                                              parser: ScreenParser) -> None:
    screen, app = _single(tmp_path, [SAVE], [SAVE, Button("Saved", 60, 200)])
    outcome, driver, store, events = _run(screen, app, parser, home, 'click "Save"', approver=Person(Decision.SKIP))
    assert (outcome.status, outcome.exit_code) == ("partial", 6) and driver.calls == []
    assert outcome.message == "0 steps ran and were verified, 1 skipped"
    assert [s.status for s in store.steps(outcome.run_id)] == ["skipped"]
    assert EventKind.STEP_SKIPPED in [e.kind for e in events]


def test_quit_at_the_prompt_stops_the_run_before_any_input(tmp_path: Path, home: Path,
                                                           parser: ScreenParser) -> None:
    screen, app = _single(tmp_path, [SAVE], None)
    outcome, driver, store, _ = _run(screen, app, parser, home, 'click "Save"', approver=Person(Decision.QUIT))
    assert (outcome.status, outcome.exit_code, outcome.message) == ("aborted", 130, "stopped at the approval prompt")
    assert driver.calls == [] and [s.status for s in store.steps(outcome.run_id)] == ["aborted"]


def test_a_password_is_typed_but_never_written(tmp_path: Path, home: Path, parser: ScreenParser) -> None:
    field_ = Button("            ", 200, 120)
    before = draw(tmp_path / "login.png", SIZE, [field_], [Button("Password", 60, 120)])
    screen = FakeScreen.single(before)
    typed = draw(tmp_path / "typed.png", SIZE, [field_],
                 [Button("Password", 60, 120), Button("• • • • • • •", 200, 160)])

    def react(name: str, args: tuple[Any, ...]) -> None:
        if name == "type_text":
            screen.show(typed)

    driver = RecordingDriver(react=react)
    store = RunStore(home)
    events: list[AgentEvent] = []
    agent = Agent(screen, parser, driver, store, AutoApprover(allow_risky=True), QUICK, on_event=events.append)
    outcome = agent.run('type "hunter2" into "Password"', DirectPlanner('type "hunter2" into "Password"'), "auto")
    assert outcome.status == "succeeded", outcome.message
    assert [name for name, _ in driver.calls] == ["click", "type_text"] and driver.calls[1][1] == ("hunter2",)
    (step,) = store.steps(outcome.run_id)
    assert step.action["text"] == MASK and "hunter2" not in store.get_run(outcome.run_id).task
    assert not any("hunter2" in e.message or "hunter2" in repr(e.data) for e in events)
    store.close()
    for f in home.rglob("*"):  # not in the database, its journal or anything else written
        if f.is_file() and f.suffix != ".png":
            assert b"hunter2" not in f.read_bytes(), f


def test_blanked_regions_hold_no_targets(tmp_path: Path, home: Path, parser: ScreenParser) -> None:
    screen, app = _single(tmp_path, [SAVE], [SAVE, Button("Saved", 60, 200)])
    regions = ExcludedRegions()
    x1, y1, x2, y2 = app.boxes["Save"]
    regions.set([DesktopRect(x1 - 4, y1 - 4, x2 + 4, y2 + 4)])  # the app's own window over the button
    outcome, driver, _, _ = _run(MaskedScreen(screen, regions), app, parser, home, 'click "Save"')
    assert (outcome.status, outcome.exit_code) == ("failed", 3) and driver.calls == []


def test_the_input_fail_safe_stops_the_run(tmp_path: Path, home: Path, parser: ScreenParser) -> None:
    screen, _app = _single(tmp_path, [SAVE], None)

    def corner(name: str, args: tuple[Any, ...]) -> None:
        if name == "click":
            raise InputFailSafe()

    driver = RecordingDriver(react=corner)
    store = RunStore(home)
    outcome = Agent(screen, parser, driver, store, AutoApprover(allow_risky=True), QUICK).run(
        'click "Save"', DirectPlanner('click "Save"'), "auto")
    assert (outcome.status, outcome.exit_code) == ("aborted", 130)
    assert outcome.message == "pyautogui fail-safe: mouse moved to a screen corner"
    (step,) = store.steps(outcome.run_id)
    assert step.status == "sending"  # input may have reached the desktop: the record says so


def test_abort_before_a_step_sends_nothing(tmp_path: Path, home: Path, parser: ScreenParser) -> None:
    screen, app = _single(tmp_path, [SAVE], [SAVE, Button("Saved", 60, 200)])
    driver = RecordingDriver(react=app.react)
    store = RunStore(home)
    agent: Agent

    class StopsAtPrompt(Person):
        def decide(self, proposal: StepProposal) -> Decision:
            agent.abort()  # the person pressed Stop while the step waited
            return Decision.APPROVE

    agent = Agent(screen, parser, driver, store, StopsAtPrompt(), QUICK)
    outcome = agent.run('click "Save"', DirectPlanner('click "Save"'), "ask")
    assert (outcome.status, outcome.message) == ("aborted", "run stopped on request") and driver.calls == []


@pytest.mark.parametrize("script, calls", [
    ('press ctrl+s', [("press", (("ctrl", "s"),))]),
    ('scroll down 3', [("scroll", (None, -3))]),
])
def test_keys_and_scrolls_with_no_visible_change(tmp_path: Path, home: Path, parser: ScreenParser, script: str,
                                                 calls: list[Any]) -> None:
    screen, app = _single(tmp_path, [SAVE], None)
    outcome, driver, store, _ = _run(screen, app, parser, home, script)
    assert driver.calls == calls
    (step,) = store.steps(outcome.run_id)
    if script.startswith("press"):  # a shortcut may act out of sight: unverified, not failed
        assert (outcome.status, step.status) == ("succeeded", "unverified")
    else:
        assert (outcome.status, step.status, step.error) == ("failed", "failed", "no visible effect")
