"""Per-step approval in the app: the approver the agent thread calls, the panel the person answers in,
the overlay that marks the target on the real screen, and the dialog to pick another target.

Approval fails closed: when the panel is closed, the app quits or the run is stopped, `decide` raises
ApprovalRefused and nothing is sent."""

from __future__ import annotations

import queue
import threading
from typing import Any

import cv2
import numpy as np
from PySide6.QtCore import QObject, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QKeyEvent, QMouseEvent, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_agent.agent import StepProposal
from desktop_agent.approval import Decision
from desktop_agent.errors import ApprovalRefused
from desktop_agent.geometry import Point
from desktop_agent.planning.actions import TypeText

OVERLAY_COLOUR = QColor(255, 0, 170)  # a colour apps rarely use, so a test can tell it apart


def bgr_to_pixmap(image: np.ndarray) -> QPixmap:
    rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    h, w = rgb.shape[:2]
    return QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())


def target_crop(proposal: StepProposal, pad: int = 90) -> QPixmap | None:
    """The screenshot around the first target, its box drawn."""
    if not proposal.targets:
        return None
    t = proposal.targets[0]
    img = t.frame.image
    h, w = img.shape[:2]
    x1, y1, x2, y2 = t.result.element.bbox.int_box() if t.result.element.id >= 0 else t.result.bbox.int_box()
    cx1, cy1 = max(0, x1 - pad * 2), max(0, y1 - pad)
    crop = img[cy1:min(h, y2 + pad), cx1:min(w, x2 + pad * 2)].copy()
    cv2.rectangle(crop, (x1 - cx1 - 3, y1 - cy1 - 3), (x2 - cx1 + 2, y2 - cy1 + 2), (170, 0, 255), 2)
    return bgr_to_pixmap(crop)


class QtApprover(QObject):
    """Called from the agent's thread; shows the step in the GUI thread and waits for the person."""

    asked = Signal(object)  # StepProposal
    question = Signal(str)
    settled = Signal()  # the answer is in: hide the panel and the overlay

    def __init__(self) -> None:
        super().__init__()
        self._answers: queue.Queue[Any] = queue.Queue()
        self._closed = threading.Event()
        self.pending: StepProposal | None = None

    # -- agent thread --------------------------------------------------------------------------------
    def _wait(self) -> Any:
        while True:
            if self._closed.is_set():
                raise ApprovalRefused("nobody is left to approve (the app closed or the run was stopped); "
                                      "nothing was sent")
            try:
                return self._answers.get(timeout=0.1)
            except queue.Empty:
                continue

    def decide(self, proposal: StepProposal) -> Decision:
        self._drain()
        self.pending = proposal
        self.asked.emit(proposal)
        try:
            answer = self._wait()
        finally:
            self.pending = None
        if not isinstance(answer, Decision):
            raise ApprovalRefused("the approval panel gave no decision; nothing was sent")
        return answer

    def answer(self, question: str) -> str | None:
        self._drain()
        self.question.emit(question)
        try:
            reply = self._wait()
        except ApprovalRefused:
            return None
        return reply if isinstance(reply, str) and reply.strip() else None

    def _drain(self) -> None:
        while not self._answers.empty():
            self._answers.get_nowait()

    # -- GUI thread ----------------------------------------------------------------------------------
    def reply(self, answer: Decision | str | None) -> None:
        self.settled.emit()
        self._answers.put(answer)

    def open(self) -> None:
        self._closed.clear()

    def close(self) -> None:
        """Fail closed: whoever waits gets a refusal."""
        self._closed.set()
        self.settled.emit()


class TargetOverlay(QObject):
    """Four thin always-on-top, click-through windows around the target on the real screen. (Edges, not
    one translucent window: without a compositor a translucent window paints black.)"""

    def __init__(self, thickness: int = 3, gap: int = 3) -> None:
        super().__init__()
        self.thickness, self.gap = thickness, gap
        flags = (Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.Tool
                 | Qt.WindowType.WindowTransparentForInput | Qt.WindowType.WindowDoesNotAcceptFocus
                 | Qt.WindowType.X11BypassWindowManagerHint)
        self.edges = []
        for _ in range(4):
            w = QWidget(None, flags)
            w.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
            w.setAutoFillBackground(True)
            pal = w.palette()
            pal.setColor(w.backgroundRole(), OVERLAY_COLOUR)
            w.setPalette(pal)
            self.edges.append(w)

    def show_box(self, x1: int, y1: int, x2: int, y2: int) -> None:
        g, t = self.gap, self.thickness
        x1, y1, x2, y2 = x1 - g - t, y1 - g - t, x2 + g + t, y2 + g + t
        rects = [QRect(x1, y1, x2 - x1, t), QRect(x1, y2 - t, x2 - x1, t), QRect(x1, y1, t, y2 - y1),
                 QRect(x2 - t, y1, t, y2 - y1)]
        for w, r in zip(self.edges, rects, strict=True):
            w.setGeometry(r)
            w.show()
            w.raise_()

    def show_for(self, proposal: StepProposal) -> None:
        if not proposal.targets:
            return
        t = proposal.targets[0]
        box = t.result.element.bbox if t.result.element.id >= 0 else t.result.bbox
        g = t.frame.geometry
        mon = g.monitor
        self.show_box(int(mon.left + box.x1 / g.scale_x), int(mon.top + box.y1 / g.scale_y),
                      int(mon.left + box.x2 / g.scale_x), int(mon.top + box.y2 / g.scale_y))

    def hide(self) -> None:
        for w in self.edges:
            w.hide()
        QGuiApplication.sync()  # unmapped on the X server before the agent captures again

    @property
    def visible(self) -> bool:
        return any(w.isVisible() for w in self.edges)


class PickPointDialog(QDialog):
    """Edit the target: the step's screenshot, scaled to fit; a click picks the new target point."""

    def __init__(self, proposal: StepProposal, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pick the target")
        t = proposal.targets[0]
        self.scale = min(1.0, 1100 / t.frame.width, 700 / t.frame.height)
        pm = bgr_to_pixmap(t.frame.image)
        self.pixmap = pm.scaled(int(pm.width() * self.scale), int(pm.height() * self.scale),
                                Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        self.picked: Point | None = None
        self.label = QLabel()
        self.label.setPixmap(self.pixmap)
        self.label.setCursor(Qt.CursorShape.CrossCursor)
        self.label.mousePressEvent = self._pick  # type: ignore[method-assign]
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Click where the step should act."))
        lay.addWidget(self.label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _pick(self, ev: QMouseEvent) -> None:
        p = ev.position()
        self.picked = Point(p.x() / self.scale, p.y() / self.scale)
        self.accept()


class ApprovalPanel(QWidget):
    """The question for one step: what, where, why; Approve (Enter), Skip, Edit, Approve the rest,
    Reject and stop (Esc). Also shows the planner's questions (ask_user)."""

    def __init__(self, approver: QtApprover, overlay: TargetOverlay | None = None) -> None:
        super().__init__(None, Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("approval")
        self.setWindowTitle("desktop-agent: approve this step?")
        self.approver = approver
        self.overlay = overlay
        self.proposal: StepProposal | None = None
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-size: 15px; font-weight: 600")
        self.risk = QLabel()
        self.risk.setStyleSheet("color: #c0392b; font-weight: 600")
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.crop = QLabel()
        self.crop.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText("text to type")
        self.answer_edit = QLineEdit()
        self.answer_edit.setPlaceholderText("your answer")
        self.approve = QPushButton("Approve")
        self.approve.setDefault(True)
        self.skip = QPushButton("Skip")
        self.edit = QPushButton("Edit target…")
        self.rest = QPushButton("Approve the rest")
        self.reject = QPushButton("Reject and stop")
        lay = QVBoxLayout(self)
        for w in (self.title, self.risk, self.reason, self.crop, self.text_edit, self.answer_edit):
            lay.addWidget(w)
        row = QHBoxLayout()
        for b in (self.approve, self.skip, self.edit, self.rest, self.reject):
            row.addWidget(b)
        lay.addLayout(row)
        self.approve.clicked.connect(lambda: self._decide(Decision.APPROVE))
        self.rest.clicked.connect(lambda: self._decide(Decision.APPROVE_REST))
        self.skip.clicked.connect(lambda: self._decide(Decision.SKIP))
        self.reject.clicked.connect(lambda: self._decide(Decision.QUIT))
        self.edit.clicked.connect(self.edit_target)
        approver.asked.connect(self.ask_step)
        approver.question.connect(self.ask_question)
        approver.settled.connect(self._settled)
        self._question = False

    def ask_step(self, proposal: StepProposal) -> None:
        self._question = False
        self.proposal = proposal
        self.title.setText(f"Step {proposal.index + 1}: {proposal.plain_words()}")
        self.risk.setText(f"Needs your explicit approval: {proposal.risk}" if proposal.risk else "")
        self.risk.setVisible(bool(proposal.risk))
        conf = f" (confidence {proposal.planned.confidence:.0%})" if proposal.planned.usage else ""
        self.reason.setText(f"Why: {proposal.planned.reason}{conf}" if proposal.planned.reason else "")
        crop = target_crop(proposal)
        self.crop.setVisible(crop is not None)
        if crop is not None:
            self.crop.setPixmap(crop.scaled(min(crop.width(), 520), min(crop.height(), 260),
                                            Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation))
        typing = isinstance(proposal.action, TypeText)
        self.text_edit.setVisible(typing)
        if typing:
            self.text_edit.setText(proposal.action.text)  # type: ignore[union-attr]
        self.answer_edit.hide()
        for b in (self.skip, self.rest, self.edit):
            b.show()
        self.edit.setEnabled(bool(proposal.targets))
        self._present("Approve", "Reject and stop")
        if self.overlay is not None:
            self.overlay.show_for(proposal)

    def ask_question(self, question: str) -> None:
        self._question = True
        self.proposal = None
        self.title.setText(f"The agent asks: {question}")
        for w in (self.risk, self.reason, self.crop, self.text_edit, self.skip, self.rest, self.edit):
            w.hide()
        self.answer_edit.clear()
        self.answer_edit.show()
        self._present("Answer", "Stop")
        self.answer_edit.setFocus()

    def _present(self, yes: str, no: str) -> None:
        self.approve.setText(yes)
        self.reject.setText(no)
        self._place()
        self.show()
        self.raise_()
        self.activateWindow()

    def _place(self) -> None:
        """Bottom right of the primary screen, or the top right if the target is down there."""
        screen = QGuiApplication.primaryScreen().availableGeometry()
        self.adjustSize()
        x = screen.right() - self.width() - 24
        y = screen.bottom() - self.height() - 48
        if self.proposal and self.proposal.targets:
            d = self.proposal.targets[0].desktop
            if QRect(QPoint(x, y), self.size()).adjusted(-40, -40, 40, 40).contains(QPoint(d.x, d.y)):
                y = screen.top() + 24
        self.move(x, y)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter approves (or answers), Esc rejects and stops; keys reach here from any child that
        # does not use them (buttons, and the text fields after they emit returnPressed).
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._enter()
        elif event.key() == Qt.Key.Key_Escape:
            self._decide(Decision.QUIT)
        else:
            super().keyPressEvent(event)

    def _enter(self) -> None:
        if self._question:
            self.approver.reply(self.answer_edit.text().strip() or None)
        else:
            self._decide(Decision.APPROVE)

    def _decide(self, decision: Decision) -> None:
        if self._question:
            self.approver.reply(self.answer_edit.text().strip() or None if decision != Decision.QUIT else None)
            return
        if self.proposal is None:
            return
        if decision in (Decision.APPROVE, Decision.APPROVE_REST) and self.text_edit.isVisible():
            text = self.text_edit.text()
            if text != getattr(self.proposal.action, "text", text):
                self.proposal.edited_text = text
        self.approver.reply(decision)

    def edit_target(self) -> None:
        if self.proposal is None or not self.proposal.targets:
            return
        if self.overlay is not None:
            self.overlay.hide()
        dlg = PickPointDialog(self.proposal, self)
        if dlg.exec() == QDialog.DialogCode.Accepted and dlg.picked is not None:
            self.proposal.edited_point = dlg.picked
            self.title.setText(f"Step {self.proposal.index + 1}: {self.proposal.action.describe()} at the point "
                               f"you picked ({dlg.picked.x:.0f}, {dlg.picked.y:.0f} in the screenshot)")
            if self.overlay is not None:
                t = self.proposal.targets[0]
                d = t.frame.geometry.to_desktop(dlg.picked)
                self.overlay.show_box(d.x - 6, d.y - 6, d.x + 6, d.y + 6)
        elif self.overlay is not None:
            self.overlay.show_for(self.proposal)

    def _settled(self) -> None:
        if self.overlay is not None:
            self.overlay.hide()
        self.hide()
        self.proposal = None

    def closeEvent(self, event: Any) -> None:
        # Closing the panel while a step waits is a refusal, never an approval.
        if self.proposal is not None or self._question:
            self.approver.reply(Decision.QUIT if not self._question else None)
        super().closeEvent(event)

