"""The action timeline: one card per step, told as a story: what the agent did (the action in plain words),
why (the planner's reason and confidence), what happened (the outcome in words, read from the screen), and
before and after crops of the area that changed, side by side, with the whole target in view. A line of
human figures per step (time, model, tokens, cost) and, behind "Details", the developer figures (every stage's
timing by its name and key, the model's usage, what verification measured). The header gives the run's
totals: steps, time, tokens and cost. Shown for the run in progress and every earlier run in the run
database; exportable as the HTML report, which tells the same story (desktop_agent/runs/wording.py).

The window never grows past its screen's available width: long words in cards and messages wrap. While a
run goes on it comes back to the top after each step, so the result stays in view (the app's own windows are
blanked in the agent's captures, so it never hides what the agent looks at).

Every text here comes from a run record (the task, the model's reasons, errors, labels read from the
screen): labels show it as plain text, and the two labels with formatting of ours escape it.
A run the person stopped (status `aborted`) shows as "stopped", in a neutral colour, never as a failure."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_agent.app.qt_approval import bgr_to_pixmap
from desktop_agent.app.qt_busy import BusyIndicator
from desktop_agent.app.qt_text import esc, plain_label, rich_label
from desktop_agent.runs.store import RunRow, RunStore, StepRow
from desktop_agent.runs.wording import (
    STATUS_WORDS,
    STOPPED_BY_YOU,
    Picture,
    outcome_words,
    run_totals,
    status_word,
    step_details,
    step_outcome,
    step_pictures,
    step_summary,
    step_words,
)

__all__ = ["NEUTRAL", "STATUS_COLOURS", "STATUS_WORDS", "STOPPED_BY_YOU", "StepCard", "TimelineWindow",
           "outcome_words", "status_word", "step_figures", "step_words"]

NEUTRAL = "#546e7a"  # stopped by the person: neither success nor failure
STATUS_COLOURS = {"verified": "#2e7d32", "succeeded": "#2e7d32", "failed": "#c62828", "rejected": "#c62828",
                  "aborted": NEUTRAL, "interrupted": "#6d4c41", "skipped": "#666666", "partial": "#b34700",
                  "running": "#1565c0", "approved": "#1565c0", "planned": "#1565c0", "sending": "#1565c0",
                  "sent": "#1565c0", "answered": "#6a1b9a",
                  "unverified": "#795548"}  # each: white words on it at 4.5:1 or more
DOCK_WIDTH = 600
# Pictures side by side while each keeps at least this share of its size (UI text stays readable); below it,
# one above the other.
_SIDE_BY_SIDE_SCALE = 0.66
_PICTURE_MAX_HEIGHT = 360
_LONG_WORD = re.compile(r"\S{48,}")


def breakable(text: str) -> str:
    """Text whose very long words (paths, URLs) may wrap: a zero-width space every 32 characters in them."""
    return _LONG_WORD.sub(lambda m: "\u200b".join(m.group(0)[i:i + 32] for i in range(0, len(m.group(0)), 32)),
                          text)


def _badge(status: str) -> str:
    return (f"<span style='color:white;background:{STATUS_COLOURS.get(status, '#455a64')};"
            f"border-radius:4px;padding:1px 6px'>&nbsp;{esc(status_word(status))}&nbsp;</span>")


def step_figures(s: StepRow) -> str:
    """A step's developer figures on one line: each stage by its name, with its key."""
    return " · ".join(f"{name}: {value}" for name, value in step_details(s))


def _pair_fits(pictures: list[Picture], half: int) -> bool:
    """Whether the step has a before and an after picture that both keep _SIDE_BY_SIDE_SCALE of their size
    in half the width."""
    pair = [p for p in pictures if p.caption in ("Before", "After")]
    return len(pair) == 2 and all(min(1.0, half / p.image.shape[1]) >= _SIDE_BY_SIDE_SCALE for p in pair)


def _picture_label(p: Picture, room: int) -> QLabel:
    """A picture, scaled down to fit `room` pixels wide and _PICTURE_MAX_HEIGHT high (never up)."""
    h, w = p.image.shape[:2]
    scale = min(1.0, room / w, _PICTURE_MAX_HEIGHT / h)
    pm: QPixmap = bgr_to_pixmap(p.image)
    if scale < 1.0:
        pm = pm.scaled(max(1, int(w * scale)), max(1, int(h * scale)), Qt.AspectRatioMode.KeepAspectRatio,
                       Qt.TransformationMode.SmoothTransformation)
    label = plain_label()
    label.setPixmap(pm)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    label.setToolTip(f"{p.caption.lower()}: the screen around the step's target and what changed")
    return label


class StepCard(QFrame):
    """One step of a run: the action, the result in words, before/after pictures, why, figures, details."""

    def __init__(self, home: Path, step: StepRow, width: int = DOCK_WIDTH - 60) -> None:
        super().__init__()
        self.setObjectName("stepCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.step = step
        lay = QVBoxLayout(self)
        # Ours: bold and the badge; the words (labels read from the screen, typed text) escaped.
        self.title = rich_label(f"<b>{step.idx + 1}. {esc(breakable(step_words(step)))}</b> {_badge(step.status)}",
                                wrap=True)
        lay.addWidget(self.title)
        self.outcome: QLabel | None = None
        result = step_outcome(step)
        if result and not (step.status == "aborted" and not step.error):
            prefix = "" if result.startswith("Error: ") else "Result: "
            self.outcome = plain_label(breakable(prefix + result), wrap=True)
            self.outcome.setObjectName("stepOutcome")
            font = self.outcome.font()
            font.setBold(True)
            self.outcome.setFont(font)
            lay.addWidget(self.outcome)
        self.pictures = step_pictures(home, step)
        self.crop = plain_label()  # the first picture: before (or the target)
        self.after = plain_label()  # the after picture
        self.picture_labels: list[QLabel] = []
        if self.pictures:
            lay.addLayout(self._picture_grid(self.pictures, width))
        self.why: QLabel | None = None
        if step.reason:
            conf = f" (confidence {step.usage['confidence']:.0%})" if "confidence" in step.usage else ""
            self.why = plain_label(breakable(f"Why: {step.reason}{conf}"), wrap=True)
            lay.addWidget(self.why)
        row = QHBoxLayout()
        self.summary = plain_label(step_summary(step), wrap=True)
        self.summary.setEnabled(False)
        row.addWidget(self.summary, 1)
        details = step_details(step)
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setToolTip("the developer figures of this step: every stage's time, the model's "
                                       "usage, what verification measured")
        self.details = plain_label(breakable("\n".join(f"{name}: {value}" for name, value in details)), wrap=True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setVisible(False)
        self.details_button.toggled.connect(self.details.setVisible)
        self.details_button.setVisible(bool(details))
        row.addWidget(self.details_button)
        lay.addLayout(row)
        lay.addWidget(self.details)

    def _picture_grid(self, pictures: list[Picture], width: int) -> QGridLayout:
        """The step's pictures, each under its caption: before and after side by side where both stay
        readable at half the width, otherwise one above the other."""
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        half = max(120, (width - 8) // 2)
        side = _pair_fits(pictures, half)
        row = 0
        for p in pictures:
            in_pair = side and p.caption in ("Before", "After")
            label = _picture_label(p, half if in_pair else width)
            caption = plain_label(p.caption)
            caption.setEnabled(False)
            col = 1 if in_pair and p.caption == "After" else 0
            span = 1 if in_pair else 2
            grid.addWidget(caption, row, col, 1, span)
            grid.addWidget(label, row + 1, col, 1, span)
            if not in_pair or p.caption == "After":
                row += 2
            self._keep_picture(p, label)
        return grid

    def _keep_picture(self, p: Picture, label: QLabel) -> None:
        """Note a picture's label: the after one as `after`, the first other one as `crop`."""
        self.picture_labels.append(label)
        if p.caption == "After":
            self.after = label
        elif self.crop not in self.picture_labels:  # the first one
            self.crop = label

    @property
    def side_by_side(self) -> bool:
        """Whether the before and after pictures show next to each other (laid out: the after one to the right
        of the before one, at the same height)."""
        before = next((lb for lb, p in zip(self.picture_labels, self.pictures, strict=True)
                       if p.caption == "Before"), None)
        if before is None or self.after not in self.picture_labels:
            return False
        a, b = before.geometry(), self.after.geometry()
        return a.top() == b.top() and b.left() >= a.left() + before.pixmap().width()


class TimelineWindow(QMainWindow):
    """The timeline: past runs, and the steps of one as cards with their screenshots."""

    stop_requested = Signal()
    pause_toggled = Signal()

    def __init__(self, home: Path | None = None) -> None:
        super().__init__()
        self.setObjectName("timeline")
        self.setWindowTitle("desktop-agent: timeline")
        self.store = RunStore(home)
        self.home = self.store.home
        self.current_run: str | None = None
        self.runs = QComboBox()
        self.runs.setToolTip("earlier runs, from the run database")
        # A long task in the list must not widen the window.
        self.runs.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.runs.setMinimumContentsLength(20)
        self.runs.activated.connect(lambda i: self.show_run(self.runs.itemData(i)))
        self.header = rich_label(wrap=True)  # ours, with the run's task and message escaped
        self.status = plain_label(wrap=True)
        self.status.setEnabled(False)
        self.busy = BusyIndicator()  # what the run in progress is doing, while it works
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.export_button = QPushButton("Export HTML…")
        self.pause_button.clicked.connect(self.pause_toggled.emit)
        self.stop_button.clicked.connect(self.stop_requested.emit)
        self.export_button.clicked.connect(self.export)
        self.cards = QVBoxLayout()
        self.cards.addStretch(1)
        holder = QWidget()
        holder.setLayout(self.cards)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setWidget(holder)
        body = QWidget()
        rl = QVBoxLayout(body)
        pick = QHBoxLayout()
        pick.addWidget(self.runs, 1)
        pick.addWidget(self.export_button)
        rl.addLayout(pick)
        rl.addWidget(self.header)
        controls = QHBoxLayout()
        controls.addWidget(self.status, 1)
        controls.addWidget(self.pause_button)
        controls.addWidget(self.stop_button)
        rl.addLayout(controls)
        rl.addWidget(self.busy)
        rl.addWidget(self.scroller, 1)
        self.setCentralWidget(body)
        self.resize(DOCK_WIDTH, 760)
        self.shown_run: str | None = None
        self._screen_hooked = False
        self.set_running(False)
        self.refresh_runs()

    # -- runs ------------------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        """Reload the list of runs, keeping the shown one selected."""
        selected = self.shown_run
        self.runs.blockSignals(True)
        self.runs.clear()
        for r in self.store.list_runs(200):
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started_at))
            self.runs.addItem(f"{when}  {status_word(r.status):<9}  {r.task[:50]}", r.id)
            if r.id == selected:
                self.runs.setCurrentIndex(self.runs.count() - 1)
        self.runs.blockSignals(False)

    def _card_width(self) -> int:
        return max(240, self.scroller.viewport().width() - 40 if self.isVisible() else self.width() - 60)

    def show_run(self, run_id: str) -> None:
        """Show a run's header and step cards."""
        self.shown_run = run_id
        i = self.runs.findData(run_id)
        if i >= 0 and self.runs.currentIndex() != i:
            self.runs.setCurrentIndex(i)
        run = self.store.get_run(run_id)
        self._header(run)
        while self.cards.count() > 1:
            item = self.cards.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        width = self._card_width()
        for s in self.store.steps(run_id):
            self.cards.insertWidget(self.cards.count() - 1, StepCard(self.home, s, width))
        self.keep_on_screen()

    def _header(self, run: RunRow) -> None:
        steps = self.store.steps(run.id)
        message = outcome_words(run.status, run.message)
        totals = run_totals(run, steps)
        self.header.setText(f"<b>{esc(breakable(run.task))}</b><br>{_badge(run.status)} {esc(breakable(message))}"
                            f" · {esc(totals.words())} · planner {esc(run.planner)}")
        self.totals = totals

    def step_cards(self) -> list[StepCard]:
        """The step cards now shown, in order."""
        out = []
        for i in range(self.cards.count()):
            item = self.cards.itemAt(i)
            w = item.widget() if item is not None else None
            if isinstance(w, StepCard):
                out.append(w)
        return out

    # -- staying on its screen and in view -------------------------------------------------------------
    def _available(self) -> Any:
        screen = self.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry()

    def keep_on_screen(self) -> None:
        """Never wider than its screen's available width, and inside it: Export and Stop stay reachable."""
        area = self._available()
        self.setMaximumWidth(area.width())
        if not self.isVisible():
            return
        frame = self.frameGeometry()
        extra = frame.width() - self.width()  # the window manager's frame
        if frame.width() > area.width():
            self.resize(max(self.minimumWidth(), area.width() - extra), self.height())
            frame = self.frameGeometry()
        x = min(max(frame.x(), area.left()), area.right() + 1 - frame.width())
        if x != frame.x():
            self.move(x, frame.y())

    def resurface(self) -> None:
        """Back on top (a step's app may have been raised over it), without taking the keyboard focus."""
        if self.isVisible() and not self.isMinimized():
            self.raise_()

    def showEvent(self, event: Any) -> None:
        """Once shown, keep the window on its screen (also when it moves to another screen)."""
        super().showEvent(event)
        handle = self.windowHandle()
        if handle is not None and not self._screen_hooked:
            handle.screenChanged.connect(lambda _s: self.keep_on_screen())
            self._screen_hooked = True
        QTimer.singleShot(0, self, self.keep_on_screen)

    def resizeEvent(self, event: Any) -> None:
        """Shown wider than its screen's available area, or past its edges: brought back onto it."""
        super().resizeEvent(event)
        area, frame = self._available(), self.frameGeometry()
        if self.isVisible() and (frame.width() > area.width() or frame.right() > area.right()
                                 or frame.left() < area.left()):
            QTimer.singleShot(0, self, self.keep_on_screen)

    # -- the run in progress ---------------------------------------------------------------------------
    def dock(self) -> None:
        """First show: a column at the right edge of the primary screen, out of the way of most apps."""
        screen = QGuiApplication.primaryScreen().availableGeometry()
        self.setMaximumWidth(screen.width())
        self.resize(min(DOCK_WIDTH, screen.width() - 16), max(400, screen.height() - 80))
        self.move(screen.right() - self.width() - 8, screen.top() + 40)

    def follow(self, run_id: str) -> None:
        """Show a run as it starts and follow its steps."""
        self.current_run = run_id
        self.refresh_runs()
        self.show_run(run_id)
        self.set_running(True)

    def update_step(self, run_id: str, idx: int | None) -> None:
        """Re-read one step of the followed run from the database and redraw its card."""
        if run_id != self.shown_run:
            return
        steps = {s.idx: s for s in self.store.steps(run_id)}
        cards = {c.step.idx: c for c in self.step_cards()}
        width = self._card_width()
        for i, s in steps.items():
            if idx is not None and i != idx and i in cards:
                continue
            card = StepCard(self.home, s, width)
            if i in cards:
                pos = self.cards.indexOf(cards[i])
                cards[i].deleteLater()
                self.cards.insertWidget(pos, card)
            else:
                self.cards.insertWidget(self.cards.count() - 1, card)
        self._header(self.store.get_run(run_id))
        self.keep_on_screen()
        QTimer.singleShot(0, self, self._scroll_to_end)  # once the new card is laid out

    def _scroll_to_end(self) -> None:
        bar = self.scroller.verticalScrollBar()
        bar.setValue(bar.maximum())

    def set_status(self, text: str) -> None:
        """Show a status line."""
        self.status.setText(breakable(text))
        self.keep_on_screen()

    def set_running(self, running: bool, paused: bool = False) -> None:
        """Enable Stop and Pause while a run is in progress; Pause reads Resume while paused."""
        self.stop_button.setEnabled(running)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Resume" if paused else "Pause")

    def finished(self, run_id: str | None) -> None:
        """A run ended: show it and bring the timeline back on top."""
        self.set_running(False)
        self.refresh_runs()
        if run_id:
            self.show_run(run_id)
        self.resurface()

    def export(self, path: str | None = None) -> Path | None:
        """Save the shown run as an HTML report (asking where unless `path` is given); its path, or None."""
        if not self.shown_run:
            return None
        from desktop_agent.runs.report import run_report_html

        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export the run as HTML",
                                                  str(Path.home() / f"desktop-agent-run-{self.shown_run}.html"),
                                                  "HTML (*.html)")
            if not path:
                return None
        out = Path(path)
        out.write_text(run_report_html(self.store, self.store.get_run(self.shown_run)), encoding="utf-8")
        self.set_status(f"exported to {out}")
        return out
