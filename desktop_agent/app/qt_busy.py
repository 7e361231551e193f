"""What a run is doing, from the moment its task is entered until it ends: a turning spinner, the activity
in words ("loading the perception models", "reading the screen", "asking the model", "waiting for your
approval"), the seconds it has taken, and, while a model plans, the last characters of its streamed answer.

The streamed answer may echo text read from the screen: it is shown as plain text, never as markup, and
never written anywhere."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from desktop_agent.agent import AgentEvent
from desktop_agent.app.qt_text import plain_label

TICK_MS = 80  # the spinner's frame; the seconds shown are read from a clock at each tick
TAIL_CHARS = 200  # how much of a streamed answer is shown: its end
APPROVAL = "waiting for your approval"
ANSWER = "waiting for your answer"


class Spinner(QWidget):
    """A small arc, painted, that turns one notch each time `turn()` is called."""

    def __init__(self, size: int = 16) -> None:
        super().__init__()
        self.angle = 0
        self.turning = True
        self.setFixedSize(QSize(size, size))

    def turn(self) -> None:
        """One notch on (not while held)."""
        if self.turning:
            self.angle = (self.angle + 30) % 360
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the arc at its angle: in the highlight colour while turning, the mid tone while held."""
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.palette().highlight().color() if self.turning else self.palette().mid().color(), 2.2)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        r = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        p.drawArc(r, -self.angle * 16, 270 * 16)  # Qt's angles: 1/16 degree, counter-clockwise
        p.end()


class BusyIndicator(QWidget):
    """Spinner, activity, elapsed seconds and (optionally) the model's streamed answer; hidden when idle.
    `follow()` drives it from an AgentRunner (and the approver's signals)."""

    activity_changed = Signal(str)  # the new activity's words

    def __init__(self, show_stream: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("busyIndicator")
        self.show_stream = show_stream
        self.spinner = Spinner()
        self.activity = plain_label()  # our words, plus the planner's description from the settings
        self.activity.setObjectName("busyActivity")
        self.elapsed = plain_label()
        self.elapsed.setObjectName("busyElapsed")
        self.elapsed.setEnabled(False)
        self.stream = plain_label(wrap=True)  # the model's words: literal text only
        self.stream.setObjectName("busyStream")
        font = self.stream.font()
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setFamily("monospace")
        font.setPointSizeF(max(font.pointSizeF() - 1, 7))
        self.stream.setFont(font)
        self.stream.setEnabled(False)
        # Never wider than the window gives it: a long unbroken run of characters must not widen the window.
        self.stream.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.stream.setMinimumWidth(1)
        self.stream.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.spinner)
        row.addWidget(self.activity, 1)
        row.addWidget(self.elapsed)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 2)
        lay.addLayout(row)
        lay.addWidget(self.stream)
        self.words = ""
        self.streamed = ""  # the current answer's text so far (its end; only its tail is shown)
        self._cut = False  # the answer's start was dropped from `streamed`
        self._t0 = 0.0
        self._activity_t0 = 0.0
        self._paused = False
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.hide()

    # -- state -------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether a run is being shown (the clock runs)."""
        return self._timer.isActive()

    def elapsed_s(self) -> float:
        """Seconds since the run's task was entered (0 when idle)."""
        return time.monotonic() - self._t0 if self.running else 0.0

    def start(self, words: str = "starting") -> None:
        """A run begins: show at once, clocks from zero."""
        self._t0 = time.monotonic()
        self._paused = False
        self.spinner.turning = True
        self._timer.start()
        self.show()
        self.set_activity(words)

    def set_activity(self, words: str, keep_stream: bool = False) -> None:
        """What the run does now (ignored when idle); the streamed text of the last answer goes, unless kept
        (the steps that carry out that answer keep it in view)."""
        if not self.running:
            return
        self.words = words
        self._activity_t0 = time.monotonic()
        if not keep_stream:
            self.clear_stream()
        self._render()
        self.activity_changed.emit(words)

    def add_stream(self, piece: str) -> None:
        """A piece of the model's answer as it streams; the last TAIL_CHARS characters are shown."""
        if not self.running or not self.show_stream:
            return
        self.streamed += piece
        if len(self.streamed) > 8 * TAIL_CHARS:  # enough to fill the tail, however it is spaced
            self.streamed, self._cut = self.streamed[-8 * TAIL_CHARS:], True
        words = " ".join(self.streamed.split())  # one line of words: newlines and runs of spaces go
        self.stream.setText(("…" + words[-TAIL_CHARS:]) if self._cut or len(words) > TAIL_CHARS else words)
        self.stream.setVisible(bool(words))

    def clear_stream(self) -> None:
        """Forget the streamed answer and hide its line."""
        self.streamed, self._cut = "", False
        self.stream.clear()
        self.stream.hide()

    def stop(self) -> None:
        """The run is over: stop the clock and hide."""
        self._timer.stop()
        self.words = ""
        self.clear_stream()
        self.hide()

    def _tick(self) -> None:
        self.spinner.turn()
        self._render()

    def _render(self) -> None:
        now = time.monotonic()
        words = self.words[:1].upper() + self.words[1:]
        self.activity.setText(f"{words}…")
        total, here = int(now - self._t0), int(now - self._activity_t0)
        self.elapsed.setText(f"{here} s · {total} s in all" if total - here >= 1 else f"{total} s")

    # -- driven by a runner ------------------------------------------------------------------------------
    def follow(self, runner: Any, approver: Any = None) -> None:
        """Show what `runner` (an AgentRunner) does, and when `approver` (a QtApprover) waits for the person."""
        runner.started.connect(self.start)
        runner.status.connect(self.set_activity)
        runner.agent_event.connect(self.on_event)
        runner.model_text.connect(self.add_stream)
        runner.finished.connect(self.on_finished)
        if approver is not None:
            approver.asked.connect(self.on_asked)
            approver.question.connect(self.on_question)
            approver.settled.connect(self.on_settled)

    def on_event(self, event: AgentEvent) -> None:
        """An agent event: the activity it starts. A new look at the screen clears the last streamed answer."""
        n = (event.step or 0) + 1
        if event.kind == "status":
            self.set_activity(event.message)
        elif event.kind == "run_started":
            self.set_activity("starting the run")
        elif event.kind == "step_planned":
            self.set_activity(f"step {n}: finding the target on the screen", keep_stream=True)
        elif event.kind == "step_located":
            self.set_activity(f"step {n}: acting and checking the result", keep_stream=True)
        elif event.kind in ("step_done", "step_failed", "step_skipped", "step_rejected", "step_answered"):
            self.set_activity(f"step {n} over: going on", keep_stream=True)
        elif event.kind == "run_finished":
            self.set_activity("finishing the run", keep_stream=True)
        elif event.kind == "paused":
            self.spinner.turning = False
            self.set_activity("paused", keep_stream=True)
        elif event.kind == "resumed":
            self.spinner.turning = True
            self.set_activity("resuming", keep_stream=True)

    def on_asked(self, _proposal: object = None) -> None:
        """A step waits for the person's approval."""
        self.set_activity(APPROVAL, keep_stream=True)

    def on_question(self, _question: str = "") -> None:
        """The run asks the person a question."""
        self.set_activity(ANSWER, keep_stream=True)

    def on_settled(self) -> None:
        """The person answered: the run carries on."""
        if self.words in (APPROVAL, ANSWER):
            self.set_activity("carrying on", keep_stream=True)

    def on_finished(self, _outcome: object = None) -> None:
        """The run ended (or could not start)."""
        self.stop()
