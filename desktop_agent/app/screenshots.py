"""`desktop-agent app --screenshots DIR`: PNGs of every window in realistic states, light and dark, so
the look can be reviewed without running the app. Works without a display (Qt's offscreen platform)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


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
    lay.addWidget(QCheckBox("Send a copy by e-mail"))
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


def _demo_run(home: Path, before: np.ndarray, after: np.ndarray, boxes: dict[str, list[int]]) -> str:
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

    steps = [("Click \"Save\"", "The invoice has unsaved changes; Save stores them.", "Save", "verified", "", 0.92),
             ("Model answer rejected", "", None, "rejected", "model named element 57, which is not on the screen "
              "(elements are 1-41)", 0.0),
             ("Click \"Export CSV\"", "Export CSV writes the file the goal asks for.", "Export CSV", "verified", "",
              0.88),
             ("Click \"Delete\"", "Remove the draft copy.", "Delete", "failed",
              "step 4 (Click \"Delete\") is deleting or closing something: it needs a person's explicit approval",
              0.41)]
    for i, (desc, reason, name, status, error, conf) in enumerate(steps):
        store.add_step(run, i, {"action": "click"} if name else {"action": "rejected"}, desc, reason)
        usage = {"prompt_tokens": 2211.0 + 37 * i, "completion_tokens": 48.0, "model_ms": 1830.0 + 90 * i,
                 "cost_usd": 0.00036, "confidence": conf}
        fields: dict[str, object] = {"status": status, "usage": usage, "error": error, "ended_at": time.time(),
                                     "timings": {"plan_parse": 612.0, "parse": 88.0, "act": 41.0, "verify": 312.0,
                                                 "step": 1290.0}}
        if name:
            fields["target"] = target(name)
            fields["before_path"] = store.save_screenshot(run, i, "before", fb)
            if status == "verified":
                fields["after_path"] = store.save_screenshot(run, i, "after", fa)
                fields["verify"] = {"changed": True, "detail": "1840 px changed in [12, 520, 380, 548]"}
        store.update_step(run, i, **fields)
    store.finish_run(run, "failed", "step 4 needs a person's explicit approval")
    store.close()
    return run


def save_screenshots(folder: str | os.PathLike[str]) -> list[Path]:
    if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QApplication, QCheckBox, QWidget

    from desktop_agent.agent import Located, StepProposal
    from desktop_agent.app.controller import FallbackWindow, apply_scheme, make_qapplication
    from desktop_agent.app.qt_approval import ApprovalPanel, QtApprover
    from desktop_agent.app.qt_command_bar import CommandBar
    from desktop_agent.app.qt_settings import SettingsDialog
    from desktop_agent.app.qt_timeline import TimelineWindow
    from desktop_agent.app.settings import AppSettings
    from desktop_agent.capture.frame import ScreenFrame
    from desktop_agent.geometry import DesktopPoint, Rect
    from desktop_agent.grounding.instruction import parse_instruction
    from desktop_agent.grounding.locate import LocateResult
    from desktop_agent.perception.elements import Element, ElementKind
    from desktop_agent.planning.actions import Click, Target
    from desktop_agent.planning.planner import PlannedStep

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    app = make_qapplication()
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        for scheme in ("light", "dark"):
            apply_scheme(app, scheme == "dark")
            app.processEvents()
            sample, boxes = _sample_screen()
            app.processEvents()
            before = _grab_bgr(sample)
            sample.findChildren(QCheckBox)[0].setChecked(True)
            app.processEvents()
            after = _grab_bgr(sample)
            sample.close()
            home = Path(tmp) / scheme
            run_id = _demo_run(home, before, after, boxes)
            settings = AppSettings(planner="openai", model="gpt-4o-mini", auto_approve=["scroll", "wait"],
                                   auto_approve_app="libreoffice-calc",
                                   history=["export this sheet as CSV to Documents"])
            windows: dict[str, QWidget] = {}
            bar = CommandBar(settings.history)
            bar.set_planner(settings.planner_options().describe())
            bar.edit.setText("save the invoice, then export it as CSV")
            bar.summon()
            windows["command-bar"] = bar
            timeline = TimelineWindow(home)
            timeline.show_run(run_id)
            timeline.set_status("run failed: step 4 needs a person's explicit approval")
            timeline.show()
            windows["timeline"] = timeline
            approver = QtApprover()
            panel = ApprovalPanel(approver)
            frame = ScreenFrame.from_image(before)
            b = boxes["Delete"]
            el = Element(3, ElementKind.BUTTON, Rect(*b), "Delete", 0.93, "ocr+detector")
            res = LocateResult(el.bbox.center, el.bbox, 0.97, el, parse_instruction("Delete"))
            loc = Located(Target(element_id=3, monitor=1, label="Delete"), frame, res,
                          DesktopPoint(int(el.bbox.center.x), int(el.bbox.center.y)))
            planned = PlannedStep(Click(target=Target(element_id=3, monitor=1, label="Delete")),
                                  "Remove the draft copy.", 0.41, {"prompt_tokens": 2300.0})
            panel.ask_step(StepProposal(3, planned, [loc], "deleting or closing something"))
            panel.arm()  # as the person sees it a moment later: the approve buttons armed
            windows["approval"] = panel
            settings_dialog = SettingsDialog(settings)
            settings_dialog.show()
            windows["settings"] = settings_dialog
            fallback = FallbackWindow({k: QAction(v, app) for k, v in (
                ("new", "New task"), ("timeline", "Timeline"), ("pause", "Pause"), ("stop", "Stop"),
                ("settings", "Settings"), ("quit", "Quit"))})
            fallback.status.setText("step 2: reading the screen…")
            fallback.show()
            windows["no-tray-window"] = fallback
            for _ in range(3):
                app.processEvents()
            for name, w in windows.items():
                path = out / f"{name}-{scheme}.png"
                w.grab().save(str(path))
                written.append(path)
                w.close()
            timeline.store.close()
            # Qt deletes them now, in order, rather than Python's collector at exit.
            for w in [*windows.values(), sample]:
                w.deleteLater()
            QApplication.processEvents()
    return written
