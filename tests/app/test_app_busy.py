"""Busy feedback, driven like a person would on the real Xvfb display with the real app: the busy line
(spinner, activity, seconds) shows the instant a task is entered, follows the run, and stops with it; a
local model's answer (the real Gemma 3 270M GGUF run by llama-cpp-python) streams into the timeline as it
is written. And the command bar's window is transparent around its rounded frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop_agent.agent import AgentSettings, RunOutcome
from desktop_agent.app.qt_busy import TAIL_CHARS, BusyIndicator
from desktop_agent.planning.decision import parse_decision
from desktop_agent.runs.store import RunStore
from tests.app.driving import type_task, wait_for_step
from tests.display import TargetApp

pytestmark = pytest.mark.display


def _in_order(seen: list[str], expected: list[str]) -> bool:
    """Whether `expected` occurs in `seen` in that order (other entries may come between)."""
    it = iter(seen)
    return all(any(e == s for s in it) for e in expected)


def test_the_busy_line_shows_at_once_ticks_and_follows_the_run(qtbot: Any, controller: Any,
                                                               target_app: TargetApp) -> None:
    busy = controller.timeline.busy
    seen: list[str] = []
    busy.activity_changed.connect(seen.append)
    assert not busy.isVisible() and not busy.running
    with qtbot.waitSignal(controller.run_finished, timeout=90_000) as done:
        type_task(qtbot, controller, 'click "Save"')
        # The same instant: nothing has loaded yet, and the timeline already says what is going on.
        assert busy.running and busy.isVisible() and controller.timeline.isVisible()
        assert busy.activity.text() == "Starting…" and busy.elapsed.text() == "0 s"
        angle = busy.spinner.angle
        qtbot.wait(300)
        assert busy.spinner.angle != angle  # it turns while the models load
        wait_for_step(qtbot, controller, 0)
        qtbot.waitUntil(lambda: busy.activity.text() == "Waiting for your approval…")
        total = busy.elapsed_s()
        shown = busy.elapsed.text()
        qtbot.wait(1200)
        assert busy.elapsed.text() != shown and busy.elapsed_s() > total + 1  # the seconds tick while it waits
        # Summoned during the run, the command bar shows the same activity with its own spinner.
        controller.command_bar.summon()
        qtbot.waitExposed(controller.command_bar)
        bar = controller.command_bar.busy_line
        assert bar.isVisible() and bar.activity.text() == "Waiting for your approval…"
        assert not bar.stream.isVisible()  # the bar stays compact: no streamed text there
        controller.command_bar.hide()
        qtbot.mouseClick(controller.panel.approve, Qt.MouseButton.LeftButton)
    outcome = done.args[0]
    assert isinstance(outcome, RunOutcome) and outcome.status == "succeeded", outcome
    assert [e["widget"] for e in target_app.events("clicked")] == ["Save"]
    assert _in_order(seen, ["starting", "loading the perception models", "starting the run",
                            "step 1: finding the target on the screen", "step 1: acting and checking the result",
                            "waiting for your approval", "carrying on", "step 1 over: going on"]), seen
    # Stopped with the run: hidden, the clock off, the spinner still.
    assert not busy.isVisible() and not busy.running and not controller.command_bar.busy_line.running
    angle = busy.spinner.angle
    qtbot.wait(300)
    assert busy.spinner.angle == angle


def test_a_run_that_cannot_start_stops_the_busy_line(qtbot: Any, controller: Any) -> None:
    busy = controller.timeline.busy
    with qtbot.waitSignal(controller.run_finished, timeout=30_000) as done:
        type_task(qtbot, controller, 'click "Save"; frobnicate "x"')  # not a script: refused before loading
        assert busy.running  # shown at once, even for a task that fails at once
    assert isinstance(done.args[0], str)
    assert not busy.running and not busy.isVisible()


def test_a_local_model_answer_streams_into_the_timeline(qtbot: Any, controller: Any, target_app: TargetApp,
                                                       home: Path, gguf: Path) -> None:
    controller.settings.planner, controller.settings.model, controller.settings.text_only = "llama", str(gguf), True
    controller.runner.settings = AgentSettings(max_steps=1)  # one answer is enough to watch it stream
    busy = controller.timeline.busy
    answers: list[list[str]] = []  # the streamed pieces of each answer, as the runner emitted them
    shown: list[tuple[str, str]] = []  # (activity, streamed text shown) whenever a piece arrived

    def on_activity(words: str) -> None:
        if words == "asking the model":
            answers.append([])

    def on_piece(piece: str) -> None:
        answers[-1].append(piece)
        shown.append((busy.activity.text(), busy.stream.text()))

    busy.activity_changed.connect(on_activity)
    controller.runner.model_text.connect(on_piece)
    with qtbot.waitSignal(controller.run_finished, timeout=240_000) as done:
        type_task(qtbot, controller, "Click the Save button")
        qtbot.waitUntil(lambda: bool(answers and answers[0]), timeout=200_000)
        assert busy.stream.textFormat() == Qt.TextFormat.PlainText
        qtbot.waitUntil(lambda: controller.panel.isVisible() or not controller.runner.running, timeout=200_000)
        if controller.runner.running:
            controller.stop()
    outcome = done.args[0]
    assert isinstance(outcome, RunOutcome), outcome
    assert answers and answers[0], "the local model's answer streamed to the app"
    first = "".join(answers[0])
    # While the model was still answering, its words appeared piece by piece under "Asking the model".
    during = [text for activity, text in shown if activity == "Asking the model…"]
    assert len(set(during)) > 3  # the shown text grew while the model wrote
    normalized = " ".join(first.split())
    for text in during:
        assert len(text) <= TAIL_CHARS + 1 and text.lstrip("…") in normalized
    assert during[-1].lstrip("…") == normalized[-TAIL_CHARS:]  # the tail of the whole answer, at the end
    # What streamed is what was decided on, and counted: one token a piece, the prompt counted too.
    step = RunStore(home).steps(outcome.run_id)[0]
    assert step.usage["completion_tokens"] == len(answers[0]) and step.usage["prompt_tokens"] > 300
    if step.status == "rejected":
        assert step.action["raw"] == first[:4000]
    else:
        assert step.reason == parse_decision(first).reason
    assert not busy.running and not busy.isVisible() and busy.stream.text() == ""


def test_streamed_text_is_shown_literally_and_only_its_tail(qtbot: Any) -> None:
    host = QWidget()  # a window 400 px wide, as narrow as a docked timeline may get
    qtbot.addWidget(host)
    busy = BusyIndicator()
    QVBoxLayout(host).addWidget(busy)
    host.resize(400, 200)
    host.show()
    qtbot.waitExposed(host)
    busy.add_stream("ignored while idle")
    busy.set_activity("ignored too")
    assert busy.stream.text() == "" and busy.words == ""
    busy.start()
    busy.set_activity("asking the model")
    busy.add_stream('{"reason": "<b>approve</b> <a href=\'x\'>me</a>",\n')
    assert busy.stream.textFormat() == Qt.TextFormat.PlainText
    assert busy.stream.text() == '{"reason": "<b>approve</b> <a href=\'x\'>me</a>",'  # literal, one line
    busy.add_stream(" " + "z" * 300)
    assert busy.stream.text() == "…" + ("<a href='x'>me</a>\", " + "z" * 300)[-TAIL_CHARS:]
    qtbot.wait(50)
    assert host.width() == 400  # 200 unbroken characters never widen the window
    busy.add_stream("\n".join(f"line {i}" for i in range(2000)))  # a long answer: memory stays bounded
    assert busy.stream.text() == "…" + " ".join(f"line {i}" for i in range(2000))[-TAIL_CHARS:]
    assert len(busy.streamed) <= 8 * TAIL_CHARS
    busy.add_stream(" " + "z" * 300)
    busy.set_activity("step 1: finding the target on the screen", keep_stream=True)
    assert busy.stream.text().endswith("zzz")  # the answer stays in view while it is carried out
    busy.set_activity("reading the screen")
    assert busy.stream.text() == "" and not busy.stream.isVisible()  # a new look: the old answer goes
    busy.stop()
    assert not busy.running and busy.isHidden()
    host.close()


def test_the_command_bar_has_no_square_corners(qtbot: Any, controller: Any) -> None:
    bar = controller.command_bar
    bar.summon()
    qtbot.waitExposed(bar)
    assert bar.testAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
    assert bar.windowFlags() & Qt.WindowType.FramelessWindowHint
    img = bar.grab().toImage()
    assert img.hasAlphaChannel()
    w, h = img.width(), img.height()
    for x, y in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (1, 1), (w - 2, h - 2)):
        assert img.pixelColor(x, y).alpha() == 0, (x, y)  # outside the rounded frame: nothing painted
    inside = img.pixelColor(w // 2, 4)  # the frame's own background, just inside its top edge
    assert inside.alpha() == 255 and inside.rgb() == bar.palette().base().color().rgb()
    assert not bar.busy_line.isVisible()  # no run: no busy line in the bar
