"""A small real Qt application for the tests: it logs every input it receives as JSON lines.

Run: python target_app.py LOG_FILE --main X,Y --second X,Y [--dialog X,Y]
The first log line is {"event": "ready", "widgets": {name: [x1, y1, x2, y2]}} in global (desktop)
coordinates, so tests can check where things are and then assert on what the app received.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QPushButton,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)


class Log:
    def __init__(self, path: Path) -> None:
        self.f = path.open("a", encoding="utf-8")

    def __call__(self, **event: object) -> None:
        self.f.write(json.dumps(event, ensure_ascii=False) + "\n")
        self.f.flush()


def draw_icon(name: str) -> QIcon:
    """16 px glyphs drawn here (no icon theme needed): star, trash."""
    pm = QPixmap(16, 16)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor("#202020"), 2))
    if name == "star":
        from PySide6.QtGui import QPolygon

        pts = [QPoint(8, 1), QPoint(10, 6), QPoint(15, 6), QPoint(11, 9), QPoint(13, 15), QPoint(8, 11),
               QPoint(3, 15), QPoint(5, 9), QPoint(1, 6), QPoint(6, 6)]
        p.setBrush(QColor("#202020"))
        p.drawPolygon(QPolygon(pts))
    else:  # trash
        p.drawRect(QRect(4, 4, 8, 11))
        p.drawLine(2, 3, 14, 3)
        p.drawLine(6, 1, 10, 1)
    p.end()
    return QIcon(pm)


class DragSource(QLabel):
    def __init__(self, text: str, log: Log, drop: QLabel) -> None:
        super().__init__(text)
        self.log = log
        self.drop = drop
        self.setFrameShape(QLabel.Shape.Box)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFixedSize(140, 40)

    def mouseReleaseEvent(self, ev) -> None:
        g = ev.globalPosition().toPoint()
        top_left = self.drop.mapToGlobal(QPoint(0, 0))
        if QRect(top_left, self.drop.size()).contains(g):
            self.log(event="dropped", source=self.text(), target=self.drop.text())
            self.drop.setText("Dropped!")


class MainWindow(QMainWindow):
    def __init__(self, log: Log, notice: str = "", password: bool = False, token: bool = False,
                 code: bool = False) -> None:
        super().__init__()
        self.log = log
        self.setWindowTitle("Target")
        menu = self.menuBar().addMenu("File")
        for name in ("Export CSV", "Print Preview"):
            act = QAction(name, self)
            act.triggered.connect(lambda _=False, n=name: self._event("menu", item=n))
            menu.addAction(act)
        central = QWidget()
        lay = QVBoxLayout(central)
        row = QHBoxLayout()
        self.named: dict[str, QWidget] = {}
        if notice:  # text on screen that tries to instruct the agent (prompt-injection tests)
            banner = QLabel(notice)
            banner.setStyleSheet("font-weight: bold; color: #a00000")
            lay.addWidget(banner)
            self.named["notice"] = banner
        for text in ("Save", "Open Report", "Delete"):
            b = QPushButton(text)
            b.clicked.connect(lambda _=False, t=text: self._event("clicked", widget=t))
            row.addWidget(b)
            self.named[text] = b
        for icon in ("star", "play", "pause", "trash"):
            tb = QToolButton()
            if icon in ("play", "pause"):  # the style's own icons, a style the recognizer never saw
                pixmap = QStyle.StandardPixmap.SP_MediaPlay if icon == "play" else QStyle.StandardPixmap.SP_MediaPause
                tb.setIcon(self.style().standardIcon(pixmap))
            else:
                tb.setIcon(draw_icon(icon))
            tb.setIconSize(QSize(16, 16))
            tb.setAutoRaise(True)
            tb.setToolTip(icon)
            tb.clicked.connect(lambda _=False, n=icon: self._event("icon_clicked", name=n))
            row.addWidget(tb)
            self.named[f"icon:{icon}"] = tb
        row.addStretch(1)
        lay.addLayout(row)
        form = QHBoxLayout()
        form.addWidget(QLabel("Name"))
        self.name = QLineEdit()
        self.name.setPlaceholderText("")
        self.name.setMinimumWidth(300)
        self.name.textChanged.connect(lambda v: self._event("text", widget="name", value=v, quiet=True))
        self.name.returnPressed.connect(lambda: self._event("submitted", widget="name", value=self.name.text()))
        form.addWidget(self.name)
        form.addStretch(1)
        lay.addLayout(form)
        self.named["name"] = self.name
        if password:
            self.password = self._masked_field(lay, "Password", "password")
        if token:  # a masked field whose label says "token", not "password"
            self.token = self._masked_field(lay, "Login token", "token", placeholder="paste token here")
        if code:  # a masked field whose label says nothing: only the platform's role tells
            self.code = self._masked_field(lay, "Code", "code")
        self.check = QCheckBox("Remember me")
        self.check.toggled.connect(lambda v: self._event("checked", widget="Remember me", value=v))
        lay.addWidget(self.check)
        self.named["Remember me"] = self.check
        self.items = QListWidget()
        self.items.addItems([f"Item {i:02d}" for i in range(1, 61)])
        self.items.setFixedHeight(180)
        self.items.itemClicked.connect(lambda it: self._event("list_clicked", item=it.text()))
        lay.addWidget(self.items)
        self.named["list"] = self.items
        dnd = QHBoxLayout()
        self.drop = QLabel("Drop here")
        self.drop.setFrameShape(QLabel.Shape.Box)
        self.drop.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop.setFixedSize(140, 40)
        self.source = DragSource("Drag me", log, self.drop)
        dnd.addWidget(self.source)
        dnd.addSpacing(80)
        dnd.addWidget(self.drop)
        dnd.addStretch(1)
        lay.addLayout(dnd)
        self.status = QLabel("Ready")
        lay.addWidget(self.status)
        self.setCentralWidget(central)

    def _masked_field(self, lay: QVBoxLayout, label: str, name: str, placeholder: str = "") -> QLineEdit:
        """A labelled field that shows dots for what is typed (a password or token field)."""
        row = QHBoxLayout()
        row.addWidget(QLabel(label))
        field = QLineEdit()
        field.setEchoMode(QLineEdit.EchoMode.Password)
        field.setPlaceholderText(placeholder)
        field.setMinimumWidth(300)
        field.textChanged.connect(lambda v: self._event("text", widget=name, value=v, quiet=True))
        row.addWidget(field)
        row.addStretch(1)
        lay.addLayout(row)
        self.named[name] = field
        return field

    def _event(self, kind: str, quiet: bool = False, **data: object) -> None:
        self.log(event=kind, **data)
        if not quiet:
            # Every action shows on screen, as in a real app, so the agent can verify it.
            self.status.setText(f"{kind}: {next(iter(data.values()), '')}")


class SecondWindow(QWidget):
    def __init__(self, log: Log) -> None:
        super().__init__()
        self.setWindowTitle("Second")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Second monitor"))
        self.button = QPushButton("Confirm Transfer")
        self.status = QLabel("Waiting")
        self.button.clicked.connect(lambda: (log(event="clicked", widget="Confirm Transfer"),
                                             self.status.setText("Transfer confirmed")))
        lay.addWidget(self.button)
        lay.addWidget(self.status)


class ConfirmDialog(QDialog):
    """A modal dialog of the main window with its own "Save", as a Save dialog over an editor's toolbar."""

    def __init__(self, parent: QWidget, log: Log) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unsaved changes")
        self.setModal(True)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Keep the changes to this report?"))
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for text in ("Cancel", "Save"):
            b = QPushButton(text)
            b.clicked.connect(lambda _=False, t=text: log(event="dialog_clicked", widget=t))
            row.addWidget(b)
            self.buttons[text] = b
        lay.addLayout(row)


def _rect(w: QWidget) -> list[int]:
    tl = w.mapToGlobal(QPoint(0, 0))
    return [tl.x(), tl.y(), tl.x() + w.width(), tl.y() + w.height()]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--main", default="1100,60")
    ap.add_argument("--second", default="")
    ap.add_argument("--notice", default="")
    ap.add_argument("--password", action="store_true")
    ap.add_argument("--token", action="store_true")
    ap.add_argument("--code", action="store_true")
    ap.add_argument("--dialog", default="", help="X,Y: open a modal dialog with its own Save there")
    args = ap.parse_args()
    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    log = Log(Path(args.log))
    win = MainWindow(log, args.notice, args.password, args.token, args.code)
    x, y = (int(v) for v in args.main.split(","))
    win.setGeometry(x, y, 760, 560)
    win.show()
    second = None
    if args.second:
        second = SecondWindow(log)
        sx, sy = (int(v) for v in args.second.split(","))
        second.setGeometry(sx, sy, 320, 160)
        second.show()
    dialog = None
    if args.dialog:
        dialog = ConfirmDialog(win, log)
        dx, dy = (int(v) for v in args.dialog.split(","))
        dialog.setGeometry(dx, dy, 360, 110)
        QTimer.singleShot(200, dialog.show)

    def ready() -> None:
        widgets = {k: _rect(w) for k, w in win.named.items()}
        widgets["drag_source"] = _rect(win.source)
        widgets["drop"] = _rect(win.drop)
        widgets["window"] = _rect(win)
        if second is not None:
            widgets["Confirm Transfer"] = _rect(second.button)
            widgets["second_window"] = _rect(second)
        if dialog is not None:
            widgets.update({f"dialog:{k}": _rect(b) for k, b in dialog.buttons.items()})
        log(event="ready", widgets=widgets)

    QTimer.singleShot(400, ready)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
