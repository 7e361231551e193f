"""The action timeline: one card per step (the target's crop with its box, the action in plain words, the
planner's reason and confidence, timings and tokens, the verified outcome with the after-screenshot),
for the run in progress and every earlier run in the run database; exportable as the HTML report.

Every text here comes from a run record (the task, the model's reasons, errors, labels read from the
screen): labels show it as plain text, and the two labels with formatting of ours escape it.
A run the person stopped (status `aborted`) shows as "stopped", in a neutral colour, never as a failure."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop_agent.app.qt_approval import bgr_to_pixmap
from desktop_agent.app.qt_text import esc, plain_label, rich_label
from desktop_agent.runs.store import RunRow, RunStore, StepRow

NEUTRAL = "#607d8b"  # stopped by the person: neither success nor failure
STATUS_COLOURS = {"verified": "#2e7d32", "succeeded": "#2e7d32", "failed": "#c62828", "rejected": "#c62828",
                  "aborted": NEUTRAL, "interrupted": "#6d4c41", "skipped": "#757575", "partial": "#ef6c00",
                  "running": "#1565c0", "approved": "#1565c0", "planned": "#1565c0", "sending": "#1565c0",
                  "sent": "#1565c0", "answered": "#6a1b9a",
                  "unverified": "#8d6e63"}
# What the person reads for a record's status: `aborted` is a run (or step) they stopped.
STATUS_WORDS = {"aborted": "stopped", "sending": "sending input", "sent": "sent, not yet checked"}
STOPPED_BY_YOU = "Stopped by you"
# Messages that say no more than "stopped by you" (the loop's and the approval panel's).
_PLAIN_STOPS = ("run stopped on request", "stopped by you")


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def outcome_words(status: str, message: str) -> str:
    """A run's outcome in words: 'Stopped by you' for a run the person stopped, else its message."""
    if status != "aborted":
        return message
    if not message or message.lower().startswith(_PLAIN_STOPS):
        return STOPPED_BY_YOU
    return f"{STOPPED_BY_YOU} ({message})"


def _badge(status: str) -> str:
    return (f"<span style='color:white;background:{STATUS_COLOURS.get(status, '#455a64')};"
            f"border-radius:4px;padding:1px 6px'>&nbsp;{esc(status_word(status))}&nbsp;</span>")


def step_words(s: StepRow) -> str:
    """The action in plain words, with where it acted: 'Click "Save" at (812, 44) on monitor 2'."""
    words = s.description
    if s.target:
        words += f" at ({s.target['desktop'][0]}, {s.target['desktop'][1]}) on monitor {s.target['monitor']}"
        el = s.target.get("element") or {}
        source = {"both": "the pixels and the app's accessibility tree",
                  "accessibility": "the app's accessibility tree"}
        if el.get("origin") in source:  # where the target's name came from (absent: the pixels alone)
            words += f", found by {source[el['origin']]} ({el.get('role', '?')})"
    return words


def step_figures(s: StepRow) -> str:
    parts = []
    t = s.timings
    perception = t.get("parse", 0.0) + t.get("plan_parse", 0.0)
    if perception:
        parts.append(f"perception {perception:.0f} ms")
    if "model_ms" in s.usage:
        parts.append(f"model {s.usage['model_ms']:.0f} ms")
    if "prompt_tokens" in s.usage:
        parts.append(f"{s.usage['prompt_tokens']:.0f}+{s.usage.get('completion_tokens', 0):.0f} tokens")
    if "cost_usd" in s.usage:
        parts.append(f"${s.usage['cost_usd']:.4f}")
    if "act" in t:
        parts.append(f"act {t['act']:.0f} ms")
    if "verify" in t:
        parts.append(f"verify {t['verify']:.0f} ms")
    if "step" in t:
        parts.append(f"step {t['step']:.0f} ms")
    return " · ".join(parts)


class StepCard(QFrame):
    def __init__(self, home: Path, step: StepRow) -> None:
        super().__init__()
        self.setObjectName("stepCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.step = step
        lay = QVBoxLayout(self)
        crop = self._crop(home, step)
        self.crop = plain_label()
        self.crop.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if crop is not None:
            self.crop.setPixmap(crop)
        self.after = plain_label()
        self.after.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if step.after_path and (home / step.after_path).exists():
            img = cv2.imread(str(home / step.after_path))
            if img is not None:
                pm = bgr_to_pixmap(img)
                self.after.setPixmap(pm.scaled(200, 130, Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation))
                self.after.setToolTip("the screen after the step")
        if crop is not None or not self.after.pixmap().isNull():
            pics = QHBoxLayout()
            pics.addWidget(self.crop)
            pics.addStretch(1)
            pics.addWidget(self.after)
            lay.addLayout(pics)
        text = QVBoxLayout()
        # Ours: bold and the badge; the words (labels read from the screen, typed text) escaped.
        self.title = rich_label(f"<b>{step.idx + 1}. {esc(step_words(step))}</b> {_badge(step.status)}", wrap=True)
        text.addWidget(self.title)
        self.why: QLabel | None = None
        if step.reason:
            conf = f" (confidence {step.usage['confidence']:.0%})" if "confidence" in step.usage else ""
            self.why = plain_label(f"Why: {step.reason}{conf}", wrap=True)
            text.addWidget(self.why)
        figures = step_figures(step)
        if figures:
            f = plain_label(figures, wrap=True)
            f.setEnabled(False)
            text.addWidget(f)
        outcome = step.error or (step.verify or {}).get("detail", "")
        self.outcome: QLabel | None = None
        if outcome:
            self.outcome = plain_label(("Error: " if step.error else "Outcome: ") + str(outcome), wrap=True)
            text.addWidget(self.outcome)
        lay.addLayout(text)

    @staticmethod
    def _crop(home: Path, s: StepRow) -> QPixmap | None:
        if not (s.target and s.before_path and (home / s.before_path).exists()):
            return None
        img = cv2.imread(str(home / s.before_path))
        if img is None:
            return None
        h, w = img.shape[:2]
        x1, y1, x2, y2 = (int(v) for v in s.target.get("element_bbox") or s.target["bbox"])
        pad = 60
        cx1, cy1 = max(0, x1 - pad * 2), max(0, y1 - pad)
        crop = img[cy1:min(h, y2 + pad), cx1:min(w, x2 + pad * 2)].copy()
        cv2.rectangle(crop, (x1 - cx1 - 3, y1 - cy1 - 3), (x2 - cx1 + 2, y2 - cy1 + 2), (170, 0, 255), 2)
        pm = bgr_to_pixmap(crop)
        if pm.width() <= 240 and pm.height() <= 130:
            return pm
        return pm.scaled(240, 130, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


class TimelineWindow(QMainWindow):
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
        self.runs.activated.connect(lambda i: self.show_run(self.runs.itemData(i)))
        self.header = rich_label(wrap=True)  # ours, with the run's task and message escaped
        self.status = plain_label(wrap=True)
        self.status.setEnabled(False)
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
        rl.addWidget(self.scroller, 1)
        self.setCentralWidget(body)
        self.resize(560, 760)
        self.shown_run: str | None = None
        self.set_running(False)
        self.refresh_runs()

    # -- runs ------------------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        selected = self.shown_run
        self.runs.blockSignals(True)
        self.runs.clear()
        for r in self.store.list_runs(200):
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started_at))
            self.runs.addItem(f"{when}  {status_word(r.status):<9}  {r.task[:50]}", r.id)
            if r.id == selected:
                self.runs.setCurrentIndex(self.runs.count() - 1)
        self.runs.blockSignals(False)

    def show_run(self, run_id: str) -> None:
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
        for s in self.store.steps(run_id):
            self.cards.insertWidget(self.cards.count() - 1, StepCard(self.home, s))

    def _header(self, run: RunRow) -> None:
        steps = self.store.steps(run.id)
        tokens = sum(s.usage.get("prompt_tokens", 0) + s.usage.get("completion_tokens", 0) for s in steps)
        extra = f" · {tokens:.0f} tokens" if tokens else ""
        message = outcome_words(run.status, run.message)
        self.header.setText(f"<b>{esc(run.task)}</b><br>{_badge(run.status)} {esc(message)} · planner "
                            f"{esc(run.planner)} · {len(steps)} steps{extra}")

    def step_cards(self) -> list[StepCard]:
        out = []
        for i in range(self.cards.count()):
            item = self.cards.itemAt(i)
            w = item.widget() if item is not None else None
            if isinstance(w, StepCard):
                out.append(w)
        return out

    # -- the run in progress ---------------------------------------------------------------------------
    def dock(self) -> None:
        """First show: a column at the right edge of the primary screen, out of the way of most apps."""
        from PySide6.QtGui import QGuiApplication

        screen = QGuiApplication.primaryScreen().availableGeometry()
        self.resize(560, max(400, screen.height() - 80))
        self.move(screen.right() - self.width() - 8, screen.top() + 40)

    def follow(self, run_id: str) -> None:
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
        for i, s in steps.items():
            if idx is not None and i != idx and i in cards:
                continue
            card = StepCard(self.home, s)
            if i in cards:
                pos = self.cards.indexOf(cards[i])
                cards[i].deleteLater()
                self.cards.insertWidget(pos, card)
            else:
                self.cards.insertWidget(self.cards.count() - 1, card)
        self._header(self.store.get_run(run_id))
        self.scroller.verticalScrollBar().setValue(self.scroller.verticalScrollBar().maximum())

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def set_running(self, running: bool, paused: bool = False) -> None:
        self.stop_button.setEnabled(running)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Resume" if paused else "Pause")

    def finished(self, run_id: str | None) -> None:
        self.set_running(False)
        self.refresh_runs()
        if run_id:
            self.show_run(run_id)

    def export(self, path: str | None = None) -> Path | None:
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
