"""`desktop-agent app --screenshots DIR`: PNGs of every window in realistic states, light and dark, so
the look can be reviewed without running the app. Works without a display (Qt's offscreen platform).

Besides each window as it usually looks: the timeline and the command bar while a run works (busy), the
first-run window, and the notifications a run sends. regions.json says where each image's texts and
control outlines are, for the contrast test (tests/app/test_app_look.py)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from desktop_agent.agent import StepProposal
    from desktop_agent.app.settings import AppSettings


def _sample_screen() -> tuple[Any, dict[str, list[int]]]:
    """A realistic app window rendered by Qt itself, used as the 'screen' of a demo run."""
    from PySide6.QtWidgets import (
        QCheckBox,
        QHBoxLayout,
        QLabel,
        QLineEdit,
        QListWidget,
        QPushButton,
        QVBoxLayout,
        QWidget,
    )

    w = QWidget()
    w.setWindowTitle("Invoices")
    lay = QVBoxLayout(w)
    row = QHBoxLayout()
    named: dict[str, QWidget] = {}
    for t in ("Save", "Export CSV", "Delete"):
        b = QPushButton(t)
        row.addWidget(b)
        named[t] = b
    row.addStretch(1)
    lay.addLayout(row)
    form = QHBoxLayout()
    form.addWidget(QLabel("Customer"))
    name = QLineEdit("Zürich Trading AG")
    form.addWidget(name)
    named["Customer"] = name
    lay.addLayout(form)
    copy = QCheckBox("Send a copy by e-mail")
    lay.addWidget(copy)
    named["Send a copy by e-mail"] = copy
    items = QListWidget()
    items.addItems([f"Invoice 2026-{i:04d}   open" for i in range(1, 30)])
    lay.addWidget(items)
    w.resize(900, 560)
    w.show()
    boxes = {}
    for k, v in named.items():
        tl = v.mapTo(w, v.rect().topLeft())
        boxes[k] = [tl.x(), tl.y(), tl.x() + v.width(), tl.y() + v.height()]
    return w, boxes


def _grab_bgr(widget: Any) -> np.ndarray:
    from PySide6.QtGui import QImage

    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[:, : img.width() * 3]
    return np.ascontiguousarray(arr.reshape(img.height(), img.width(), 3)[:, :, ::-1])


def _demo_run(home: Path, before: np.ndarray, after: np.ndarray, boxes: dict[str, list[int]],
              upto: int | None = None) -> str:
    """A recorded run of four steps, finished (failed at the last), or still at work after `upto` steps."""
    from desktop_agent.capture.frame import ScreenFrame
    from desktop_agent.runs.store import RunStore

    store = RunStore(home)
    h, w = before.shape[:2]
    run = store.start_run("save the invoice, then export it as CSV", "openai:gpt-4o-mini", "ask",
                          [{"index": 1, "left": 0, "top": 0, "width": w, "height": h, "scale": 1.0, "primary": True}])
    fb, fa = ScreenFrame.from_image(before), ScreenFrame.from_image(after)

    def target(name: str) -> dict[str, object]:
        b = boxes[name]
        c = [(b[0] + b[2]) // 2, (b[1] + b[3]) // 2]
        return {"instruction": name, "monitor": 1, "score": 1.0, "bbox": b, "element_bbox": b, "point": c,
                "desktop": c, "element": {"id": 3, "kind": "button", "bbox": b, "text": name}}

    # What really changed between the two pictures (the check box), as the agent's verify would find it.
    diff = np.argwhere(np.any(before != after, axis=2))
    changed = [int(diff[:, 1].min()), int(diff[:, 0].min()), int(diff[:, 1].max()) + 1, int(diff[:, 0].max()) + 1] \
        if len(diff) else None
    copy = "Send a copy by e-mail"
    steps = [(f"Click \"{copy}\"", "The goal asks for a copy by e-mail.", copy, "verified", "", 0.92),
             ("Model answer rejected", "", None, "rejected", "model named element 57, which is not on the screen "
              "(elements are 1-41)", 0.0),
             ("Click \"Export CSV\"", "Export CSV writes the file the goal asks for.", "Export CSV", "unverified", "",
              0.88),
             ("Click \"Delete\"", "Remove the draft copy.", "Delete", "failed",
              "step 4 (Click \"Delete\") is deleting or closing something: it needs a person's explicit approval",
              0.41)]
    for i, (desc, reason, name, status, error, conf) in enumerate(steps[:upto]):
        store.add_step(run, i, {"action": "click"} if name else {"action": "rejected"}, desc, reason)
        usage = {"prompt_tokens": 2211.0 + 37 * i, "completion_tokens": 48.0, "model_ms": 1830.0 + 90 * i,
                 "cost_usd": 0.00036, "confidence": conf}
        fields: dict[str, object] = {"status": status, "usage": usage, "error": error, "ended_at": time.time(),
                                     "timings": {"plan_parse": 612.0, "parse": 88.0, "act": 41.0, "verify": 312.0,
                                                 "step": 1290.0}}
        if name:
            fields["target"] = target(name)
            fields["before_path"] = store.save_screenshot(run, i, "before", fb)
            if status == "verified" and changed is not None:
                fields["after_path"] = store.save_screenshot(run, i, "after", fa)
                fields["verify"] = {"changed": True, "bbox": changed, "detail": f"the pixels in {changed} changed"}
                fields["outcome"] = f"'{copy}' is now checked"
            elif status == "unverified":
                fields["after_path"] = store.save_screenshot(run, i, "after", fb)
                fields["verify"] = {"changed": False, "detail": "no visible change"}
                fields["outcome"] = "the screen did not change"
        store.update_step(run, i, **fields)
    if upto is None:
        store.finish_run(run, "failed", "step 4 needs a person's explicit approval")
    store.close()
    return run


QUIET = "does not support propagateSizeHints()"  # the offscreen platform, for every dialog: harmless


@contextlib.contextmanager
def _quiet_size_hints() -> Iterator[None]:
    """Drop Qt's one harmless offscreen warning about propagateSizeHints() while the windows are saved;
    every other message goes on as Qt would print it."""
    from PySide6.QtCore import QMessageLogContext, QtMsgType, qFormatLogMessage, qInstallMessageHandler

    def handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if QUIET in message:
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            print(qFormatLogMessage(mode, context, message), file=sys.stderr)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


class _Regions:
    """The texts and control outlines found in one window so far, in its own pixels."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.out: list[dict[str, Any]] = []

    def add(self, kind: str, w: Any, rect: Any, what: str) -> None:
        """Note the part of `rect` (in `w`'s pixels) that shows in the window, unless it is too small to measure."""
        from PySide6.QtCore import QPoint, QRect

        rect = rect.intersected(w.visibleRegion().boundingRect())  # a scroll area may show a part only
        if rect.width() < 3 or rect.height() < (8 if kind == "text" else 3):
            return
        tl = w.mapTo(self.window, QPoint(rect.x(), rect.y()))
        r = QRect(tl.x(), tl.y(), rect.width(), rect.height()).intersected(self.window.rect())
        if not r.isEmpty():
            self.out.append({"kind": kind, "what": f"{type(w).__name__} {what[:60]!r}", "enabled": w.isEnabled(),
                             "rect": [r.x(), r.y(), r.width(), r.height()]})

    def label(self, w: Any, style: Any) -> None:
        """A label's text (a picture is no text)."""
        if w.text().strip() and (w.pixmap() is None or w.pixmap().isNull()):
            self.add("text", w, w.contentsRect(), w.text())

    def check_or_radio(self, w: Any, style: Any) -> None:
        """A check box's or radio button's text and the outline of its indicator."""
        from PySide6.QtWidgets import QCheckBox, QStyle, QStyleOptionButton

        opt = QStyleOptionButton()
        w.initStyleOption(opt)
        check = isinstance(w, QCheckBox)
        contents = style.subElementRect(QStyle.SubElement.SE_CheckBoxContents if check
                                        else QStyle.SubElement.SE_RadioButtonContents, opt, w)
        indicator = style.subElementRect(QStyle.SubElement.SE_CheckBoxIndicator if check
                                         else QStyle.SubElement.SE_RadioButtonIndicator, opt, w)
        if w.text():
            self.add("text", w, contents, w.text())
        self.add("outline", w, indicator, w.text())

    def push_button(self, w: Any, style: Any) -> None:
        """A push button's text and, unless it is flat, its outline."""
        from PySide6.QtWidgets import QStyle, QStyleOptionButton

        if w.text():
            opt = QStyleOptionButton()
            w.initStyleOption(opt)
            self.add("text", w, style.subElementRect(QStyle.SubElement.SE_PushButtonContents, opt, w), w.text())
        if not w.isFlat():
            self.add("outline", w, w.rect(), w.text())

    def line_edit(self, w: Any, style: Any) -> None:
        """A line edit's text (or placeholder) and, if it has a frame, its outline."""
        from PySide6.QtWidgets import QStyle, QStyleOptionFrame

        if w.text() or w.placeholderText():
            fopt = QStyleOptionFrame()
            w.initStyleOption(fopt)
            self.add("text", w, style.subElementRect(QStyle.SubElement.SE_LineEditContents, fopt, w),
                     w.text() or w.placeholderText())
        if w.hasFrame():
            self.add("outline", w, w.rect(), w.text() or w.placeholderText())

    def combo_box(self, w: Any, style: Any) -> None:
        """A combo box's shown choice (unless editable) and its outline."""
        from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

        copt = QStyleOptionComboBox()
        w.initStyleOption(copt)
        if w.currentText() and not w.isEditable():
            self.add("text", w, style.subControlRect(QStyle.ComplexControl.CC_ComboBox, copt,
                                                     QStyle.SubControl.SC_ComboBoxEditField, w), w.currentText())
        self.add("outline", w, w.rect(), w.currentText())

    def spin_box(self, w: Any, style: Any) -> None:
        """A spin box's outline."""
        self.add("outline", w, w.rect(), w.text())

    def group_box(self, w: Any, style: Any) -> None:
        """A group box's title, if it has one."""
        from PySide6.QtWidgets import QStyle, QStyleOptionGroupBox

        if w.title():
            gopt = QStyleOptionGroupBox()
            w.initStyleOption(gopt)
            self.add("text", w, style.subControlRect(QStyle.ComplexControl.CC_GroupBox, gopt,
                                                     QStyle.SubControl.SC_GroupBoxLabel, w), w.title())

    @staticmethod
    def nothing(w: Any, style: Any) -> None:
        """Other buttons (tool buttons): not measured."""


def regions(window: Any) -> list[dict[str, Any]]:
    """Where the window's texts and control outlines are, in its own pixels: what the look test measures.
    Each is {"kind": "text" | "outline", "what": a description, "rect": [x, y, w, h], "enabled": bool}."""
    from PySide6.QtWidgets import (
        QAbstractButton,
        QCheckBox,
        QComboBox,
        QGroupBox,
        QLabel,
        QLineEdit,
        QPushButton,
        QRadioButton,
        QSpinBox,
        QWidget,
    )

    found = _Regions(window)
    # The first kind a widget is (in this order: a check box is an abstract button too) says what to measure.
    measures: tuple[tuple[type | tuple[type, ...], Callable[[Any, Any], None]], ...] = (
        (QLabel, found.label), ((QCheckBox, QRadioButton), found.check_or_radio), (QPushButton, found.push_button),
        (QAbstractButton, found.nothing), (QLineEdit, found.line_edit), (QComboBox, found.combo_box),
        (QSpinBox, found.spin_box), (QGroupBox, found.group_box))
    for w in window.findChildren(QWidget):
        if not w.isVisibleTo(window) or not w.isVisible():
            continue
        style = w.style()
        measure = next((m for kinds, m in measures if isinstance(w, kinds)), None)
        if measure is not None:
            measure(w, style)
    return found.out


def _notifications(notes: list[Any]) -> Any:
    """The notifications of a run, drawn as a desktop shows them (a card each, icon, summary, body):
    their words, for review; the real ones are the desktop's own."""
    from PySide6.QtWidgets import QFrame, QHBoxLayout, QStyle, QVBoxLayout, QWidget

    from desktop_agent.app.qt_text import plain_label

    w = QWidget()
    w.setObjectName("notifications")
    w.setWindowTitle("desktop-agent: notifications")
    lay = QVBoxLayout(w)
    for note in notes:
        card = QFrame()
        card.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(card)
        icon = plain_label()
        kind = (QStyle.StandardPixmap.SP_MessageBoxWarning if note.urgent
                else QStyle.StandardPixmap.SP_MessageBoxInformation)
        icon.setPixmap(w.style().standardIcon(kind).pixmap(32, 32))
        row.addWidget(icon)
        words = QVBoxLayout()
        summary = plain_label(note.summary, wrap=True)
        summary.setStyleSheet("font-weight: 600")
        words.addWidget(summary)
        words.addWidget(plain_label(note.body, wrap=True))
        row.addLayout(words, 1)
        lay.addWidget(card)
    w.resize(420, w.sizeHint().height())
    return w


def _start_busy(window: Any, activity: str, stream: str = "") -> None:
    """Show a window's busy line (spinner, activity, seconds, streamed answer) as during a run."""
    from PySide6.QtWidgets import QWidget

    for busy in window.findChildren(QWidget):
        if type(busy).__name__ == "BusyIndicator":
            busy.start("asking the model")
            busy.set_activity(activity)
            if stream:
                busy.add_stream(stream)


def save_screenshots(folder: str | os.PathLike[str]) -> list[Path]:
    """Save a PNG of every window in realistic states, light and dark, into `folder`, with regions.json
    (where each image's texts and control outlines are); return the PNGs' paths."""
    if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    with _quiet_size_hints():
        return _save(Path(folder))


@dataclass
class _Scene:
    """What one scheme's windows show: the sample app's screen, where its controls are, and two recorded runs
    (one finished, one at work) in a run database of their own."""

    tmp: Path
    home: Path
    before: np.ndarray
    boxes: dict[str, list[int]]
    run_id: str
    busy_run: str
    settings: AppSettings


def _scene(app: Any, tmp: Path, scheme: str) -> tuple[_Scene, QWidget]:
    """Paint in `scheme`, take the sample app's screen before and after a step, record the demo runs; also return
    the sample app's window (deleted with the others)."""
    from PySide6.QtWidgets import QCheckBox

    from desktop_agent.app.controller import apply_scheme
    from desktop_agent.app.settings import AppSettings

    apply_scheme(app, scheme == "dark")
    app.processEvents()
    sample, boxes = _sample_screen()
    app.processEvents()
    before = _grab_bgr(sample)
    sample.findChildren(QCheckBox)[0].setChecked(True)
    app.processEvents()
    after = _grab_bgr(sample)
    sample.close()
    home = tmp / scheme
    run_id = _demo_run(home, before, after, boxes)
    busy_run = _demo_run(home, before, after, boxes, upto=2)
    settings = AppSettings(planner="openai", model="gpt-4o-mini", auto_approve=["scroll", "wait"],
                           auto_approve_app="libreoffice-calc",
                           history=["export this sheet as CSV to Documents"])
    return _Scene(tmp, home, before, boxes, run_id, busy_run, settings), sample


def _command_bar(scene: _Scene) -> QWidget:
    """The command bar with a task typed in."""
    from desktop_agent.app.qt_command_bar import CommandBar

    bar = CommandBar(scene.settings.history)
    bar.set_planner(scene.settings.planner_options().describe())
    bar.edit.setText("save the invoice, then export it as CSV")
    bar.summon()
    return bar


def _timeline(scene: _Scene) -> QWidget:
    """The timeline showing the finished run."""
    from desktop_agent.app.qt_timeline import TimelineWindow

    timeline = TimelineWindow(scene.home)
    timeline.show_run(scene.run_id)
    timeline.set_status("run failed: step 4 needs a person's explicit approval")
    timeline.show()
    return timeline


def _busy_timeline(scene: _Scene) -> QWidget:
    """The timeline following a run at work, its busy line turning with a streamed answer."""
    from desktop_agent.app.qt_timeline import TimelineWindow

    busy_timeline = TimelineWindow(scene.home)
    busy_timeline.show_run(scene.busy_run)
    busy_timeline.set_running(True, False)
    busy_timeline.set_status("step 3: asking the model…")
    busy_timeline.show()
    _start_busy(busy_timeline, "step 3: asking the model",
                '{"action": "click", "target": {"element": 12, "label": "Export CSV"}, "reason": "Export')
    return busy_timeline


def _busy_command_bar(scene: _Scene) -> QWidget:
    """The command bar refusing a new task while a run is at work."""
    from desktop_agent.app.qt_command_bar import CommandBar

    busy_bar = CommandBar(scene.settings.history)
    busy_bar.set_planner(scene.settings.planner_options().describe())
    busy_bar.edit.setText("open the March invoices")
    busy_bar.set_busy("A run is in progress")
    _start_busy(busy_bar, "step 3: asking the model")
    busy_bar.summon()
    return busy_bar


def _delete_proposal(scene: _Scene) -> StepProposal:
    """A step that clicks the sample app's Delete button: on the approval floor."""
    from desktop_agent.agent import Located, StepProposal
    from desktop_agent.capture.frame import ScreenFrame
    from desktop_agent.geometry import DesktopPoint, Rect
    from desktop_agent.grounding.instruction import parse_instruction
    from desktop_agent.grounding.locate import LocateResult
    from desktop_agent.perception.elements import Element, ElementKind
    from desktop_agent.planning.actions import Click, Target
    from desktop_agent.planning.planner import PlannedStep

    frame = ScreenFrame.from_image(scene.before)
    b = scene.boxes["Delete"]
    el = Element(3, ElementKind.BUTTON, Rect(*b), "Delete", 0.93, "ocr+detector")
    res = LocateResult(el.bbox.center, el.bbox, 0.97, el, parse_instruction("Delete"))
    loc = Located(Target(element_id=3, monitor=1, label="Delete"), frame, res,
                  DesktopPoint(int(el.bbox.center.x), int(el.bbox.center.y)))
    planned = PlannedStep(Click(target=Target(element_id=3, monitor=1, label="Delete")),
                          "Remove the draft copy.", 0.41, {"prompt_tokens": 2300.0})
    return StepProposal(3, planned, [loc], "deleting or closing something")


def _approval_panel(proposal: StepProposal) -> QWidget:
    """The approval panel asking about `proposal`, its approve buttons armed."""
    from desktop_agent.app.qt_approval import ApprovalPanel, QtApprover

    approver = QtApprover()
    panel = ApprovalPanel(approver)
    panel.ask_step(proposal)
    panel.arm()  # as the person sees it a moment later: the approve buttons armed
    return panel


def _settings_dialog(scene: _Scene) -> QWidget:
    """The settings dialog."""
    from desktop_agent.app.qt_settings import SettingsDialog

    settings_dialog = SettingsDialog(scene.settings)
    settings_dialog.show()
    return settings_dialog


def _fallback_window(app: Any) -> QWidget:
    """The small window shown where there is no tray, with a run's status."""
    from PySide6.QtGui import QAction

    from desktop_agent.app.controller import FallbackWindow

    fallback = FallbackWindow({k: QAction(v, app) for k, v in (
        ("new", "New task"), ("timeline", "Timeline"), ("pause", "Pause"), ("stop", "Stop"),
        ("settings", "Settings"), ("quit", "Quit"))})
    fallback.status.setText("step 2: reading the screen…")
    fallback.show()
    return fallback


def _first_run(scene: _Scene) -> QWidget:
    """The first-run window."""
    from desktop_agent.app.qt_first_run import FirstRunWindow
    from desktop_agent.app.settings import AppSettings

    first = FirstRunWindow(AppSettings(), scene.home, tray=True, settings_path=str(scene.tmp / "first.ini"))
    first.show()
    return first


def _run_notifications(scene: _Scene, proposal: StepProposal) -> QWidget:
    """The notifications of the finished run: a step waiting for approval, then the run's end."""
    from desktop_agent.agent import RunOutcome
    from desktop_agent.app.notifications import approval_note, run_note

    task = "save the invoice, then export it as CSV"
    notes = _notifications([approval_note(proposal),
                            run_note(RunOutcome(scene.run_id, "failed", "step 4 needs a person's explicit approval",
                                                5, 4), task)])
    notes.show()
    return notes


def _windows(app: Any, scene: _Scene) -> dict[str, QWidget]:
    """Every window of one scheme, shown, by the name of its PNG (in the order they are made and saved)."""
    windows: dict[str, QWidget] = {}
    windows["command-bar"] = _command_bar(scene)
    windows["timeline"] = _timeline(scene)
    # A run at work: the timeline following it, its busy line turning, the bar refusing a new task.
    windows["timeline-busy"] = _busy_timeline(scene)
    windows["command-bar-busy"] = _busy_command_bar(scene)
    proposal = _delete_proposal(scene)
    windows["approval"] = _approval_panel(proposal)
    windows["settings"] = _settings_dialog(scene)
    windows["no-tray-window"] = _fallback_window(app)
    windows["first-run"] = _first_run(scene)
    windows["notifications"] = _run_notifications(scene, proposal)
    return windows


def _close(windows: dict[str, QWidget], sample: QWidget) -> None:
    """Close the windows and their run databases, then let Qt delete them (and the sample app's window)."""
    from PySide6.QtWidgets import QApplication

    from desktop_agent.app.qt_first_run import FirstRunWindow
    from desktop_agent.app.qt_timeline import TimelineWindow

    for w in windows.values():
        if isinstance(w, FirstRunWindow):
            w.finished.disconnect()  # (a picture of it: nothing to save)
        w.close()
    for w in windows.values():
        if isinstance(w, TimelineWindow):  # the timeline, then the busy one
            w.store.close()
    # Qt deletes them now, in order, rather than Python's collector at exit.
    for w in [*windows.values(), sample]:
        w.deleteLater()
    QApplication.processEvents()


def _save(out: Path) -> list[Path]:
    """Save every window, light and dark, into `out` with regions.json; return the PNGs' paths."""
    from desktop_agent.app.controller import make_qapplication

    out.mkdir(parents=True, exist_ok=True)
    app = make_qapplication()
    written: list[Path] = []
    layout: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for scheme in ("light", "dark"):
            scene, sample = _scene(app, Path(tmp), scheme)
            windows = _windows(app, scene)
            for _ in range(3):
                app.processEvents()
            for name, w in windows.items():
                path = out / f"{name}-{scheme}.png"
                w.grab().save(str(path))
                layout[path.name] = regions(w)
                written.append(path)
            _close(windows, sample)
    (out / "regions.json").write_text(json.dumps(layout, indent=1), encoding="utf-8")
    return written
