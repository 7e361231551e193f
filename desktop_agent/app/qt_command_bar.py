"""The floating command bar: frameless, always on top; type a task, Enter starts it, Up/Down walk the
recent tasks, Esc hides it. It shows which planner and model are active.

One run at a time: while a run is in progress (or waits for approval) the bar says so, and a task entered
then is not started and not lost: it stays in the bar, to start with Enter once the run is over.
Its history holds tasks only as they may be written down: secret typed values are replaced by ••••••••.
While a run works, the bar shows what it is doing (spinner, activity, seconds). The window itself is
transparent: only the rounded frame is painted, with no square corners around it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from desktop_agent.app.qt_busy import BusyIndicator
from desktop_agent.app.qt_look import set_tone
from desktop_agent.app.qt_text import plain_label
from desktop_agent.secret_fields import redact_task

HINT = "Enter to start · ↑↓ recent tasks · Esc to hide"


class TaskEdit(QLineEdit):
    """The command bar's task field: ↑/↓ walk the recent tasks, Esc dismisses."""

    walked = Signal(int)  # -1 older, +1 newer
    dismissed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """↑/↓ walk the recent tasks, Esc dismisses; other keys edit the field."""
        if event.key() == Qt.Key.Key_Up:
            self.walked.emit(-1)
        elif event.key() == Qt.Key.Key_Down:
            self.walked.emit(1)
        elif event.key() == Qt.Key.Key_Escape:
            self.dismissed.emit()
        else:
            super().keyPressEvent(event)


class CommandBar(QWidget):
    """The floating bar where the person types a task to start."""

    submitted = Signal(str)
    refused = Signal(str)  # a task entered while a run is in progress: kept in the bar, not started

    def __init__(self, history: list[str] | None = None) -> None:
        super().__init__(None, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
                         | Qt.WindowType.Tool)
        self.setObjectName("commandBar")
        self.setWindowTitle("desktop-agent command bar")
        # Nothing painted outside the frame: its rounded corners show what is behind the bar.
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAutoFillBackground(False)
        self._history: list[str] = []
        self.history = list(history or [])
        self._pos = len(self.history)
        self._draft = ""
        self.busy: str | None = None  # why a task cannot start now (a run is in progress), or None
        frame = QFrame(self)
        frame.setObjectName("commandFrame")
        frame.setStyleSheet("#commandFrame { border: 1px solid palette(mid); border-radius: 10px;"
                            " background: palette(base); }")
        self.edit = TaskEdit()
        self.edit.setPlaceholderText('What should I do?  e.g. click "File"; click "Export CSV"')
        self.edit.setMinimumWidth(640)
        self.edit.setFrame(False)
        font = self.edit.font()
        font.setPointSize(font.pointSize() + 4)
        self.edit.setFont(font)
        self.planner = plain_label()  # the model's name comes from the settings: shown literally
        self.planner.setObjectName("plannerLabel")
        self.notice = plain_label(wrap=True)  # a run is in progress: the task waits here
        self.notice.setObjectName("busyNotice")
        bold = self.notice.font()  # a QFont, not a style sheet: the label's wrapped height is measured with it
        bold.setBold(True)
        self.notice.setFont(bold)
        set_tone(self.notice, "warning")  # amber that reads on light and dark (qt_look)
        self.notice.hide()
        self.busy_line = BusyIndicator(show_stream=False)  # what the run in progress is doing, while it works
        self.hint = plain_label(HINT)
        self.hint.setEnabled(False)
        inner = QVBoxLayout(frame)
        inner.addWidget(self.edit)
        inner.addWidget(self.notice)
        inner.addWidget(self.busy_line)
        row = QHBoxLayout()
        row.addWidget(self.planner)
        row.addStretch(1)
        row.addWidget(self.hint)
        inner.addLayout(row)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(frame)
        self.edit.returnPressed.connect(self._submit)
        self.edit.walked.connect(self._walk)
        self.edit.dismissed.connect(self.hide)

    @property
    def history(self) -> list[str]:
        """The recent tasks (redacted), oldest first."""
        return self._history

    @history.setter
    def history(self, tasks: list[str]) -> None:
        """Set the recent tasks, redacting them, and start walking them from the newest."""
        # Only ever the redacted form: a password typed in a task is not kept, in memory or on disk.
        self._history = [redact_task(t) for t in tasks]
        self._pos = len(self._history)

    def set_planner(self, words: str) -> None:
        """Show which planner the next run uses."""
        self.planner.setText(f"Planner: {words}")

    def set_busy(self, reason: str | None) -> None:
        """A run is in progress (`reason` says what it is doing), or None: tasks can start again."""
        was_busy = self.busy is not None
        self.busy = reason
        if reason is not None:
            # One line at the bar's width: your task waits here, Enter starts it once the run is over.
            self.notice.setText(f"{reason}: your task waits here, Enter starts it when the run is over.")
            self.notice.show()
        elif was_busy:
            self.notice.setText("The run is over: press Enter to start your task.")
            self.notice.setVisible(bool(self.edit.text().strip()))
        self._fit()

    def _fit(self) -> None:
        """Its size for its contents: a wrapped notice gets the height of its lines at the bar's width
        (adjustSize alone takes the height of one line)."""
        self.adjustSize()
        lay = self.layout()
        if lay is not None and lay.hasHeightForWidth():
            self.resize(self.width(), max(self.height(), lay.totalHeightForWidth(self.width())))

    def summon(self) -> None:
        """Show the bar centred near the top of the primary screen, with the focus in its field."""
        screen = QGuiApplication.primaryScreen().availableGeometry()
        if self.busy is None and not self.edit.text().strip():
            self.notice.hide()
        self._fit()
        self.move(screen.center().x() - self.width() // 2, screen.top() + screen.height() // 5)
        self.show()
        self.raise_()
        self.activateWindow()  # the person asked for the bar (hotkey, tray): it takes the focus
        self.edit.setFocus()
        self.edit.selectAll()

    def refuse(self, task: str) -> None:
        """A run is in progress: keep the task in the bar, visibly, instead of starting or dropping it."""
        if self.edit.text().strip() != task:
            self.edit.setText(task)
        if self.busy is None:
            self.set_busy("A run is in progress")
        self.notice.show()
        if not self.isVisible():
            self.summon()
        self.refused.emit(task)

    def _submit(self) -> None:
        task = self.edit.text().strip()
        if not task:
            return
        if self.busy is not None:
            self.refuse(task)
            return
        self.history = [t for t in self.history if t != redact_task(task)] + [task]
        self.edit.clear()
        self.notice.hide()
        self.hide()
        self.submitted.emit(task)

    def _walk(self, step: int) -> None:
        if not self.history:
            return
        if self._pos == len(self.history):
            self._draft = self.edit.text()
        self._pos = min(max(self._pos + step, 0), len(self.history))
        self.edit.setText(self.history[self._pos] if self._pos < len(self.history) else self._draft)
