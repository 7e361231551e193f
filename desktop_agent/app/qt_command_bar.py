"""The floating command bar: frameless, always on top; type a task, Enter starts it, Up/Down walk the
recent tasks, Esc hides it. It shows which planner and model are active."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget


class TaskEdit(QLineEdit):
    walked = Signal(int)  # -1 older, +1 newer
    dismissed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Up:
            self.walked.emit(-1)
        elif event.key() == Qt.Key.Key_Down:
            self.walked.emit(1)
        elif event.key() == Qt.Key.Key_Escape:
            self.dismissed.emit()
        else:
            super().keyPressEvent(event)


class CommandBar(QWidget):
    submitted = Signal(str)

    def __init__(self, history: list[str] | None = None) -> None:
        super().__init__(None, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
                         | Qt.WindowType.Tool)
        self.setObjectName("commandBar")
        self.setWindowTitle("desktop-agent command bar")
        self.history = list(history or [])
        self._pos = len(self.history)
        self._draft = ""
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
        self.planner = QLabel()
        self.planner.setObjectName("plannerLabel")
        self.hint = QLabel("Enter to start · ↑↓ recent tasks · Esc to hide")
        self.hint.setEnabled(False)
        inner = QVBoxLayout(frame)
        inner.addWidget(self.edit)
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

    def set_planner(self, words: str) -> None:
        self.planner.setText(f"Planner: {words}")

    def summon(self) -> None:
        screen = QGuiApplication.primaryScreen().availableGeometry()
        self.adjustSize()
        self.move(screen.center().x() - self.width() // 2, screen.top() + screen.height() // 5)
        self.show()
        self.raise_()
        self.activateWindow()
        self.edit.setFocus()
        self.edit.selectAll()

    def _submit(self) -> None:
        task = self.edit.text().strip()
        if not task:
            return
        self.history = [t for t in self.history if t != task] + [task]
        self._pos = len(self.history)
        self.edit.clear()
        self.hide()
        self.submitted.emit(task)

    def _walk(self, step: int) -> None:
        if not self.history:
            return
        if self._pos == len(self.history):
            self._draft = self.edit.text()
        self._pos = min(max(self._pos + step, 0), len(self.history))
        self.edit.setText(self.history[self._pos] if self._pos < len(self.history) else self._draft)
