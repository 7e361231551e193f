"""Per-step approval in the app: the approver the agent thread calls, the panel the person answers in,
the overlay that marks the target on the real screen, and the dialog to pick another target.

Approval fails closed: when the panel is closed, the app quits or the run is stopped, nothing is sent
(`decide` raises RunAborted: the run ends as stopped by the person, not as a failure).

Approval is never given by accident: the panel never takes the keyboard focus when it appears (keys
typed in another window stay there), a bare Enter never approves, and the approve buttons and shortcuts
are armed only a moment after a step is shown. A routine step is approved with a click on Approve or
Ctrl+Enter once the person clicked into the panel; a step on the approval floor (password, delete,
send, close unsaved, planner-marked risky) only with a click or Ctrl+Shift+Enter."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import cv2
import numpy as np
from PySide6.QtCore import QObject, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QKeyEvent, QMouseEvent, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_agent.agent import StepProposal
from desktop_agent.agent.approval import Decision
from desktop_agent.agent.risk import PASSWORD_RISK
from desktop_agent.app.qt_look import set_tone
from desktop_agent.app.qt_screens import logical_layout, logical_point, to_qrect
from desktop_agent.app.qt_text import plain_label
from desktop_agent.errors import ApprovalRefused, RunAborted
from desktop_agent.geometry import DesktopRect, Point
from desktop_agent.planning.actions import TypeText

OVERLAY_COLOUR = QColor(255, 0, 170)  # a colour apps rarely use, so a test can tell it apart
# The deliberate shortcuts (only once the person clicked into the panel). A bare Enter never approves.
APPROVE_KEYS = "Ctrl+Enter"  # routine steps
FLOOR_KEYS = "Ctrl+Shift+Enter"  # any step, and the only shortcut for a step on the approval floor
ARM_MS = 600  # a step shown this recently cannot be approved yet: keys or clicks meant for something else
# The modifiers that make a chord with Enter (others, such as the keypad's, are left out), and the two chords.
_CHORD_MODIFIERS = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
                    | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier)
_CTRL = Qt.KeyboardModifier.ControlModifier
_CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def bgr_to_pixmap(image: np.ndarray) -> QPixmap:
    """A BGR image (OpenCV's order) as a QPixmap."""
    rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    h, w = rgb.shape[:2]
    return QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())


def target_crop(proposal: StepProposal, pad: int = 90) -> QPixmap | None:
    """The screenshot around the shown target: the box the step acts on drawn, and the input point in it."""
    t = proposal.shown_target()
    if t is None:
        return None
    img = t.frame.image
    h, w = img.shape[:2]
    x1, y1, x2, y2 = t.box.int_box()
    cx1, cy1 = max(0, x1 - pad * 2), max(0, y1 - pad)
    crop = img[cy1:min(h, y2 + pad), cx1:min(w, x2 + pad * 2)].copy()
    cv2.rectangle(crop, (x1 - cx1 - 3, y1 - cy1 - 3), (x2 - cx1 + 2, y2 - cy1 + 2), (170, 0, 255), 2)
    px, py = t.result.point.rounded()
    cv2.circle(crop, (px - cx1, py - cy1), 3, (170, 0, 255), -1)  # where the input goes
    return bgr_to_pixmap(crop)


def frame_edges(box: DesktopRect, gap: int = 3, thickness: int = 3) -> list[DesktopRect]:
    """The overlay's four edges around `box` (desktop coordinates): top, bottom, left, right, `gap` clear of it."""
    g, t = gap, thickness
    x1, y1, x2, y2 = box.left - g - t, box.top - g - t, box.right + g + t, box.bottom + g + t
    return [DesktopRect(x1, y1, x2, y1 + t), DesktopRect(x1, y2 - t, x2, y2), DesktopRect(x1, y1, x1 + t, y2),
            DesktopRect(x2 - t, y1, x2, y2)]


class QtApprover(QObject):
    """Called from the agent's thread; shows the step in the GUI thread and waits for the person."""

    asked = Signal(object)  # StepProposal
    question = Signal(str)
    settled = Signal()  # the answer is in: hide the panel and the overlay

    def __init__(self) -> None:
        super().__init__()
        self._answers: queue.Queue[Any] = queue.Queue()
        self._closed = threading.Event()
        self._why_closed = "stopped by you"
        self.pending: StepProposal | None = None

    # -- agent thread --------------------------------------------------------------------------------
    def _wait(self) -> Any:
        while True:
            if self._closed.is_set():
                # The person stopped the run or quit the app: the run ends as stopped, nothing was sent.
                raise RunAborted(f"{self._why_closed} at the approval prompt; nothing was sent")
            try:
                return self._answers.get(timeout=0.1)
            except queue.Empty:
                continue

    def decide(self, proposal: StepProposal) -> Decision:
        """Ask the person about a step (agent thread) and wait for their decision."""
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
        """Ask the person the agent's question (agent thread); their answer, or None if they left it empty."""
        self._drain()
        self.question.emit(question)
        reply = self._wait()  # (a stopped run or a closed app raises RunAborted: the run ends as stopped)
        if reply == Decision.QUIT:  # the person chose Stop (or Esc, or closed the panel)
            raise RunAborted("stopped by you at the agent's question")
        return reply if isinstance(reply, str) and reply.strip() else None

    def _drain(self) -> None:
        while not self._answers.empty():
            self._answers.get_nowait()

    # -- GUI thread ----------------------------------------------------------------------------------
    def reply(self, answer: Decision | str | None) -> None:
        """Hand the person's decision or answer to the waiting agent thread (GUI thread)."""
        self.settled.emit()
        self._answers.put(answer)

    def open(self) -> None:
        """Accept questions again (a new run starts)."""
        self._closed.clear()

    def close(self, why: str = "the app was closed") -> None:
        """Fail closed: whoever waits is told the run was stopped, and nothing is sent."""
        self._why_closed = why
        self._closed.set()
        self.settled.emit()

    def stop(self) -> None:
        """The person stopped the run (Stop, the hotkey): a waiting step is refused, the run ends stopped."""
        self.close("stopped by you")


class TargetOverlay(QObject):
    """Four thin always-on-top, click-through windows around the target on the real screen. (Edges, not
    one translucent window: without a compositor a translucent window paints black.)"""

    def __init__(self, thickness: int = 3, gap: int = 3) -> None:
        super().__init__()
        self.thickness, self.gap = thickness, gap
        flags = (Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.Tool
                 | Qt.WindowType.WindowTransparentForInput | Qt.WindowType.WindowDoesNotAcceptFocus
                 | Qt.WindowType.X11BypassWindowManagerHint)
        self.box: DesktopRect | None = None  # what the frame surrounds, in desktop coordinates
        self.edges = []
        for _ in range(4):
            w = QWidget(None, flags)
            w.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
            w.setAutoFillBackground(True)
            pal = w.palette()
            pal.setColor(w.backgroundRole(), OVERLAY_COLOUR)
            w.setPalette(pal)
            self.edges.append(w)

    def show_box(self, box: DesktopRect) -> None:
        """Frame this box of the desktop (device pixels), each edge placed through its screen's scale."""
        self.box = box
        layout = logical_layout()
        for w, r in zip(self.edges, frame_edges(box, self.gap, self.thickness), strict=True):
            w.setGeometry(to_qrect(r, layout))
            w.show()
            w.raise_()

    def show_for(self, proposal: StepProposal) -> None:
        """Frame the box the step acts on (the one holding its input point, or the point the person picked)."""
        t = proposal.shown_target()
        if t is not None:
            self.show_box(t.desktop_box)

    def hide(self) -> None:
        """Take the frame off the screen."""
        self.box = None
        for w in self.edges:
            w.hide()
        QGuiApplication.sync()  # unmapped on the X server before the agent captures again

    @property
    def visible(self) -> bool:
        """Whether any edge of the frame is shown."""
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
        self.label = plain_label()
        self.label.setPixmap(self.pixmap)
        self.label.setCursor(Qt.CursorShape.CrossCursor)
        self.label.mousePressEvent = self._pick  # type: ignore[method-assign]
        lay = QVBoxLayout(self)
        lay.addWidget(plain_label("Click where the step should act."))
        lay.addWidget(self.label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _pick(self, ev: QMouseEvent) -> None:
        p = ev.position()
        self.picked = Point(p.x() / self.scale, p.y() / self.scale)
        self.accept()


class ApprovalPanel(QWidget):
    """The question for one step: what, where, why; Approve, Skip, Edit, Approve the rest, Reject and stop
    (Esc). Also shows the planner's questions (ask_user).

    It never takes the keyboard focus by itself (it shows without activating; the person clicks into it),
    a bare Enter never approves, and nothing approves within ARM_MS of a step being shown. A routine step
    is approved by a click on Approve or Ctrl+Enter; a step on the approval floor (`proposal.risk`) only by
    a click or Ctrl+Shift+Enter."""

    def __init__(self, approver: QtApprover, overlay: TargetOverlay | None = None) -> None:
        super().__init__(None, Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("approval")
        self.setWindowTitle("desktop-agent: approve this step?")
        # Appearing must not take the focus from the window the person is typing in.
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.approver = approver
        self.overlay = overlay
        self.proposal: StepProposal | None = None
        # Every label shows model, screen or task text: plain text, never rendered as HTML.
        self.title = plain_label(wrap=True)
        self.title.setStyleSheet("font-size: 15px; font-weight: 600")
        self.risk = plain_label(wrap=True)
        self.risk.setStyleSheet("font-weight: 600")
        set_tone(self.risk, "danger")  # red that reads on light and dark (qt_look)
        self.reason = plain_label(wrap=True)
        self.crop = plain_label()
        self.crop.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.keys_hint = plain_label(wrap=True)
        self.keys_hint.setEnabled(False)
        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText("text to type")
        self.answer_edit = QLineEdit()
        self.answer_edit.setPlaceholderText("your answer")
        self.approve = QPushButton("Approve")
        self.skip = QPushButton("Skip")
        self.edit = QPushButton("Edit target…")
        self.rest = QPushButton("Approve the rest")
        self.reject = QPushButton("Reject and stop")
        for b in (self.approve, self.skip, self.edit, self.rest, self.reject):
            b.setAutoDefault(False)  # no default button: Enter never presses one
            b.setDefault(False)
            # Never focused, so a stray Space cannot press one either: a click, or a deliberate shortcut.
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.skip.setToolTip("Skip this step: nothing is sent for it, the run goes on")
        self.rest.setToolTip("Approve this step and the rest of this task's routine steps "
                             "(steps on the approval floor still ask)")
        self.reject.setToolTip("Refuse this step and stop the run (Esc)")
        lay = QVBoxLayout(self)
        for w in (self.title, self.risk, self.reason, self.crop, self.text_edit, self.answer_edit):
            lay.addWidget(w)
        row = QHBoxLayout()
        for b in (self.approve, self.skip, self.edit, self.rest, self.reject):
            row.addWidget(b)
        lay.addLayout(row)
        lay.addWidget(self.keys_hint)
        self.approve.clicked.connect(lambda: self._decide(Decision.APPROVE))
        self.rest.clicked.connect(lambda: self._decide(Decision.APPROVE_REST))
        self.skip.clicked.connect(lambda: self._decide(Decision.SKIP))
        self.reject.clicked.connect(lambda: self._decide(Decision.QUIT))
        self.edit.clicked.connect(self.edit_target)
        approver.asked.connect(self.ask_step)
        approver.question.connect(self.ask_question)
        approver.settled.connect(self._settled)
        self._question = False
        self.arm_ms = ARM_MS
        self._armed_at = 0.0
        self._arm_timer = QTimer(self)
        self._arm_timer.setSingleShot(True)
        self._arm_timer.timeout.connect(self.arm)

    @property
    def on_floor(self) -> bool:
        """The step on show is on the approval floor: only a click or Ctrl+Shift+Enter approves it."""
        return self.proposal is not None and bool(self.proposal.risk)

    def ask_step(self, proposal: StepProposal) -> None:
        """Show a step to approve: what it does, why, its target and its risk."""
        self._question = False
        self.proposal = proposal
        self.title.setText(f"Step {proposal.index + 1}: {proposal.plain_words()}")
        self.risk.setText(f"Needs your explicit approval: {proposal.risk}" if proposal.risk else "")
        self.risk.setVisible(bool(proposal.risk))
        conf = f" (confidence {proposal.planned.confidence:.0%})" if proposal.planned.usage else ""
        self.reason.setText(f"Why: {proposal.planned.reason}{conf}" if proposal.planned.reason else "")
        self.reason.setVisible(bool(proposal.planned.reason))
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
            # A password is typed for the person, never shown: masked here too (they may retype it).
            self.text_edit.setEchoMode(QLineEdit.EchoMode.Password if proposal.risk == PASSWORD_RISK
                                       else QLineEdit.EchoMode.Normal)
        self.answer_edit.hide()
        for b in (self.skip, self.rest, self.edit):
            b.show()
        self.edit.setEnabled(bool(proposal.targets))
        keys = FLOOR_KEYS if proposal.risk else APPROVE_KEYS
        if proposal.risk:
            self.approve.setToolTip(f"Approve this step: it needs your explicit approval, so only a click here "
                                    f"or {FLOOR_KEYS} approves it (Enter does not)")
        else:
            self.approve.setToolTip(f"Approve this step ({APPROVE_KEYS} once you clicked into this panel; "
                                    "Enter does not approve)")
        self._present("Approve", "Reject and stop", f"Click Approve or press {keys} to approve · Esc rejects")
        if self.overlay is not None:
            self.overlay.show_for(proposal)

    def ask_question(self, question: str) -> None:
        """Show the agent's question with a field for the answer."""
        self._question = True
        self.proposal = None
        self.title.setText(f"The agent asks: {question}")
        for w in (self.risk, self.reason, self.crop, self.text_edit, self.skip, self.rest, self.edit):
            w.hide()
        self.answer_edit.clear()
        self.answer_edit.show()
        self.approve.setToolTip(f"Send your answer (Enter in the answer field, or {APPROVE_KEYS})")
        self._present("Answer", "Stop", "Click into the answer field to type · Esc stops")
        self.answer_edit.setFocus()  # where typing goes once the person clicks into the panel

    def _present(self, yes: str, no: str, hint: str) -> None:
        self.approve.setText(yes)
        self.reject.setText(no)
        self.keys_hint.setText(hint)
        # Armed only after a moment: a click or keys meant for what was there before do not approve.
        self._armed_at = time.monotonic() + self.arm_ms / 1000
        for b in (self.approve, self.rest):
            b.setEnabled(False)
        self._arm_timer.start(self.arm_ms)
        self._place()
        self.show()  # without activating (WA_ShowWithoutActivating): the focus stays where it was
        self.raise_()

    def arm(self) -> None:
        """Let the approve buttons (and shortcuts) act: ARM_MS after a step is shown."""
        self.approve.setEnabled(True)
        self.rest.setEnabled(True)

    @property
    def armed(self) -> bool:
        """Whether approving acts now: the panel is shown and the moment after showing a step is over."""
        return self.isVisible() and time.monotonic() >= self._armed_at and self.approve.isEnabled()

    def _place(self) -> None:
        """Bottom right of the primary screen, or the top right if the target is down there."""
        screen = QGuiApplication.primaryScreen().availableGeometry()
        self.adjustSize()
        x = screen.right() - self.width() - 24
        y = screen.bottom() - self.height() - 48
        if self.proposal and self.proposal.targets:
            d = logical_point(self.proposal.targets[0].desktop)  # Qt's geometry is logical; the target is not
            if QRect(QPoint(x, y), self.size()).adjusted(-40, -40, 40, 40).contains(QPoint(*d)):
                y = screen.top() + 24
        self.move(x, y)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc rejects; Enter with a deliberate chord approves (or sends the answer); other keys go on."""
        # Keys reach here from any child that does not use them (the text fields pass Enter on). Only a
        # deliberate chord approves, only once the person has clicked into the panel (it is the active
        # window), and only once the step has been on screen for ARM_MS: typeahead and stray keys never do.
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self._decide(Decision.QUIT)  # refusing is always safe
            return
        if key not in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            super().keyPressEvent(event)
            return
        event.accept()
        if event.isAutoRepeat() or not self.armed or not self.isActiveWindow():
            return
        mods = event.modifiers() & _CHORD_MODIFIERS
        if self._question:
            self._answer_by_keys(mods)
        else:
            self._approve_by_keys(mods)

    def _answer_by_keys(self, mods: Qt.KeyboardModifier) -> None:
        """Enter on a question (armed, in the active panel): send the typed answer on Ctrl(+Shift)+Enter, or on
        a plain Enter in the answer field; nothing typed, nothing sent."""
        typed = self.answer_edit.text().strip()
        if typed and (mods in (_CTRL, _CTRL_SHIFT) or (mods == Qt.KeyboardModifier.NoModifier
                                                       and self.answer_edit.hasFocus())):
            self.approver.reply(typed)

    def _approve_by_keys(self, mods: Qt.KeyboardModifier) -> None:
        """Enter on a step (armed, in the active panel): Ctrl+Shift+Enter approves any step, Ctrl+Enter only one
        off the floor; any other Enter approves nothing and says which keys would."""
        if mods == _CTRL_SHIFT or (mods == _CTRL and not self.on_floor):
            self._decide(Decision.APPROVE)
        elif mods == _CTRL:
            self.keys_hint.setText(f"{APPROVE_KEYS} does not approve a step that needs your explicit approval: "
                                   f"click Approve or press {FLOOR_KEYS}.")
        else:
            keys = FLOOR_KEYS if self.on_floor else APPROVE_KEYS
            self.keys_hint.setText(f"Enter does not approve: click Approve or press {keys}.")

    def _decide(self, decision: Decision) -> None:
        approving = decision in (Decision.APPROVE, Decision.APPROVE_REST)
        if approving and not self.armed:
            return  # too soon after the step appeared to be meant for it
        if self._question:
            typed = self.answer_edit.text().strip()
            if decision != Decision.QUIT and not typed:
                self.keys_hint.setText("Type your answer first (click into the field), or Stop.")
                return
            self.approver.reply(Decision.QUIT if decision == Decision.QUIT else typed)
            return
        if self.proposal is None:
            return
        if approving and self.text_edit.isVisible():
            text = self.text_edit.text()
            if text != getattr(self.proposal.action, "text", text):
                self.proposal.edited_text = text
        self.approver.reply(decision)

    def edit_target(self) -> None:
        """Let the person pick a new target point on the step's screenshot."""
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
                self.overlay.show_for(self.proposal)  # the picked point, where the step will now act
        elif self.overlay is not None:
            self.overlay.show_for(self.proposal)

    def _settled(self) -> None:
        if self.overlay is not None:
            self.overlay.hide()
        self._arm_timer.stop()
        self.hide()
        self.proposal = None
        self._question = False

    def closeEvent(self, event: Any) -> None:
        """Closing the panel while a step or a question waits stops the run."""
        # Closing the panel while a step or a question waits stops the run: never an approval.
        if self.proposal is not None or self._question:
            self.approver.reply(Decision.QUIT)
        super().closeEvent(event)
