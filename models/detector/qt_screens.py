"""Render Qt training screens for the UI-element detector: random PySide6 windows, boxes from Qt's geometry.

    python qt_screens.py OUT_DIR --screens N [--start K] [--workers W]

Web pages (render.py) alone taught the detector web-sized controls: Qt's compact buttons, frames and
fields looked like tabs or nothing. Each screen here is one window built from seed K: a style (Fusion or
Windows), a palette (light, dark or tinted), sometimes a style sheet (flat, rounded, accent colours), a
font (DejaVu or Liberation only), a menu bar, a tool bar of icon buttons (some pressed or checked, which
draws their frame), tabs, forms of fields, spin boxes, combo boxes, check boxes, radio buttons, switches
drawn with a style sheet, sliders, push buttons, links, long lists and tables with scroll bars, and now
and then an open menu pasted under the menu bar. Boxes follow the conventions of pages.py: a framed
icon button is an icon box as a whole, a frameless one is its glyph; a check box or radio is its
indicator; a tab, a menu bar entry and a menu entry are their own rectangles. Screens come at scale
factors 1, 1.5 and 2 (QT_SCALE_FACTOR, one worker process per scale). Output is the same as render.py:
OUT_DIR/NNNNN.png and OUT_DIR/NNNNN.json in image pixels.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

from pages import ICON_DIRS, WORDS

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE.parent / "icons" / "node_modules"
FONTS = ["DejaVu Sans", "DejaVu Sans", "Liberation Sans", "DejaVu Serif", "Liberation Serif", "DejaVu Sans Mono"]
SCALES = [1.0, 1.0, 1.0, 1.5, 2.0, 2.0]


def scale_of(seed: int) -> float:
    return random.Random(seed * 7919 + 13).choice(SCALES)


class Builder:
    """One random window and its labelled boxes (logical pixels until `render` scales them)."""

    def __init__(self, seed: int, icon_files: dict[str, list[Path]]) -> None:
        from PySide6.QtGui import QColor, QFont, QPalette

        self.r = rng = random.Random(seed)
        self.icon_files = icon_files
        self.icon_set = rng.choice(list(icon_files))
        self.dark = rng.random() < 0.35
        self.fg = "#e6e6e6" if self.dark else rng.choice(["#1f1f1f", "#202124", "#333333", "#000000"])
        self.accent = rng.choice(["#2f6fde", "#3daee9", "#e95420", "#0a84ff", "#16a085", "#8e44ad", "#c0392b"])
        pal = QPalette()
        if self.dark:
            base = rng.randint(30, 60)
            pal.setColor(QPalette.ColorRole.Window, QColor(base, base, base + rng.randint(0, 6)))
            pal.setColor(QPalette.ColorRole.Base, QColor(base - 12, base - 12, base - 12))
            pal.setColor(QPalette.ColorRole.Button, QColor(base + 12, base + 12, base + 12))
            for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
                pal.setColor(role, QColor(self.fg))
        else:
            base = rng.randint(225, 250)
            pal.setColor(QPalette.ColorRole.Window, QColor(base, base, min(255, base + rng.randint(0, 5))))
            pal.setColor(QPalette.ColorRole.Base, QColor(255, 255, 255))
            pal.setColor(QPalette.ColorRole.Button, QColor(min(255, base + 6), min(255, base + 6), min(255, base + 6)))
        pal.setColor(QPalette.ColorRole.Highlight, QColor(self.accent))
        pal.setColor(QPalette.ColorRole.Link, QColor(self.accent))
        self.palette = pal
        self.font = QFont(rng.choice(FONTS), rng.choice([8, 9, 9, 10, 10, 11, 12]))
        self.sheet = self._style_sheet() if rng.random() < 0.35 else ""
        self.boxes: list[tuple[str, object]] = []  # (class, widget or (widget, QRect in its coordinates))

    def _style_sheet(self) -> str:
        r = self.r
        rad = r.choice([0, 2, 3, 4, 6, 8])
        border = r.choice(["#8a8a8a", "#b0b0b0", "#5a5a5a", self.accent])
        pad = f"{r.randint(2, 7)}px {r.randint(6, 16)}px"
        btn_bg = r.choice([self.accent, "transparent", "#3a3a3a" if self.dark else "#f4f4f4"])
        btn_fg = "#ffffff" if btn_bg == self.accent else self.fg
        return (f"QPushButton {{ background:{btn_bg}; color:{btn_fg}; border:1px solid {border};"
                f" border-radius:{rad}px; padding:{pad}; }}"
                f"QLineEdit, QSpinBox, QComboBox, QTextEdit {{ border:1px solid {border}; border-radius:{rad}px;"
                f" padding:{r.randint(2, 6)}px; }}")

    # -- pieces ------------------------------------------------------------------------------------
    def words(self, lo: int = 1, hi: int = 2) -> str:
        return " ".join(self.r.choice(WORDS) for _ in range(self.r.randint(lo, hi))).capitalize()

    def icon(self, px: int):  # type: ignore[no-untyped-def]
        from PySide6.QtCore import QByteArray, QRectF, Qt
        from PySide6.QtGui import QIcon, QImage, QPainter
        from PySide6.QtSvg import QSvgRenderer

        name = self.icon_set if self.r.random() < 0.85 else self.r.choice(list(self.icon_files))
        path = self.r.choice(self.icon_files[name])
        colour = self.r.choice([self.fg, self.fg, self.accent, "#6b6b6b" if not self.dark else "#b8b8b8"])
        text = path.read_text().replace("currentColor", colour)
        if name == "mdi":
            text = re.sub(r"<svg\b", f'<svg fill="{colour}"', text, count=1)
        ren = QSvgRenderer(QByteArray(text.encode()))
        img = QImage(px * 4, px * 4, QImage.Format.Format_ARGB32)
        img.fill(Qt.GlobalColor.transparent)
        p = QPainter(img)
        ren.render(p, QRectF(0, 0, px * 4, px * 4))
        p.end()
        from PySide6.QtGui import QPixmap

        return QIcon(QPixmap.fromImage(img))

    def build(self):  # type: ignore[no-untyped-def]
        from PySide6.QtCore import QSize
        from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QStatusBar, QToolBar, QVBoxLayout, QWidget

        r = self.r
        win = QMainWindow()
        win.setFont(self.font)
        mb = win.menuBar()
        self.menus = []
        for _ in range(r.randint(3, 7)):
            m = mb.addMenu(r.choice(["File", "Edit", "View", "Tools", "Help", "Window", "Go", "Insert", "Format",
                                     "Image", "Layer", "Run", "Bookmarks", "Settings", self.words(1, 1)]))
            self.menus.append(m)
        self.menubar = mb
        if r.random() < 0.85:
            tb = QToolBar()
            size = r.choice([16, 16, 16, 20, 22, 24])
            tb.setIconSize(QSize(size, size))
            self.tool_buttons = []
            for i in range(r.randint(3, 14)):
                if r.random() < 0.12 and i:
                    tb.addSeparator()
                act = tb.addAction(self.icon(size), self.words(1, 1))
                act.setCheckable(r.random() < 0.2)
                if act.isCheckable():
                    act.setChecked(r.random() < 0.5)
                self.tool_buttons.append((tb, act, size))
            if r.random() < 0.3:
                tb.addWidget(self.combo())
            win.addToolBar(tb)
            self.toolbar = tb
        else:
            self.toolbar = None
        central = QWidget()
        outer = QHBoxLayout(central)
        outer.setContentsMargins(*(r.randint(4, 16) for _ in range(4)))
        cols = r.choice([1, 2, 2, 3])
        for _ in range(cols):
            col = QVBoxLayout()
            for _ in range(r.randint(1, 3)):
                col.addWidget(self.panel())
            col.addStretch(r.randint(0, 2))
            outer.addLayout(col, r.randint(1, 3))
        win.setCentralWidget(central)
        if r.random() < 0.5:
            sb = QStatusBar()
            sb.showMessage(self.words(1, 4))
            win.setStatusBar(sb)
        return win

    def combo(self):  # type: ignore[no-untyped-def]
        from PySide6.QtWidgets import QComboBox

        c = QComboBox()
        c.addItems([self.words(1, 2) for _ in range(4)])
        c.setEditable(self.r.random() < 0.2)
        self.boxes.append(("dropdown", c))
        return c

    def panel(self):  # type: ignore[no-untyped-def]
        r = self.r
        kind = r.choice(["form", "form", "checks", "buttons", "list", "table", "tabs", "text", "links", "sliders"])
        return getattr(self, "_" + kind)()

    def _group(self, layout):  # type: ignore[no-untyped-def]
        from PySide6.QtWidgets import QGroupBox, QWidget

        if self.r.random() < 0.5:
            g = QGroupBox(self.words(1, 3))
            g.setLayout(layout)
            return g
        w = QWidget()
        w.setLayout(layout)
        return w

    def _form(self):  # type: ignore[no-untyped-def]
        from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QTextEdit

        r = self.r
        lay = QFormLayout()
        for _ in range(r.randint(2, 6)):
            pick = r.random()
            if pick < 0.5:
                w = QLineEdit()
                if r.random() < 0.5:
                    w.setPlaceholderText(self.words(1, 3))
                elif r.random() < 0.6:
                    w.setText(self.words(1, 3).lower())
                self.boxes.append(("field", w))
            elif pick < 0.65:
                w = QSpinBox() if r.random() < 0.6 else QDoubleSpinBox()
                w.setValue(r.randint(0, 99))
                self.boxes.append(("field", w))
            elif pick < 0.9:
                w = self.combo()
            else:
                w = QTextEdit()
                w.setFixedHeight(r.randint(40, 90))
                w.setPlainText(self.words(2, 6))
                self.boxes.append(("field", w))
            lay.addRow(self.words(1, 2) + (":" if r.random() < 0.5 else ""), w)
        return self._group(lay)

    def _checks(self):  # type: ignore[no-untyped-def]
        from PySide6.QtWidgets import QCheckBox, QRadioButton, QVBoxLayout

        r = self.r
        lay = QVBoxLayout()
        kind = r.choice(["checkbox", "radio", "toggle"])
        for _ in range(r.randint(2, 5)):
            if kind == "radio":
                w = QRadioButton(self.words(1, 4))
            else:
                w = QCheckBox(self.words(1, 4))
                if kind == "toggle":
                    on = self.accent
                    w.setStyleSheet(
                        f"QCheckBox::indicator {{ width:{r.randint(28, 40)}px; height:{r.randint(14, 20)}px;"
                        f" border-radius:8px; border:1px solid #888; background:#bbb; }}"
                        f"QCheckBox::indicator:checked {{ background:{on}; border-color:{on}; }}")
            w.setChecked(r.random() < 0.45)
            self.boxes.append((kind, w))
            lay.addWidget(w)
        return self._group(lay)

    def _buttons(self):  # type: ignore[no-untyped-def]
        from PySide6.QtCore import QSize
        from PySide6.QtWidgets import QDialogButtonBox, QHBoxLayout, QPushButton, QToolButton

        r = self.r
        lay = QHBoxLayout()
        if r.random() < 0.4:
            box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                   | (QDialogButtonBox.StandardButton.Apply if r.random() < 0.4
                                      else QDialogButtonBox.StandardButton.NoButton))
            for b in box.buttons():
                self.boxes.append(("button", b))
            lay.addWidget(box)
        else:
            for _ in range(r.randint(1, 4)):
                if r.random() < 0.25:
                    b = QToolButton()
                    size = r.choice([16, 16, 20, 24])
                    b.setIcon(self.icon(size))
                    b.setIconSize(QSize(size, size))
                    self.boxes.append(("icon", b))
                else:
                    b = QPushButton(self.words(1, 2))
                    if r.random() < 0.2:
                        b.setIcon(self.icon(16))
                    self.boxes.append(("button", b))
                lay.addWidget(b)
            lay.addStretch(1)
        return self._group(lay)

    def _list(self):  # type: ignore[no-untyped-def]
        from PySide6.QtWidgets import QListWidget, QTreeWidget, QTreeWidgetItem

        r = self.r
        if r.random() < 0.5:
            w = QListWidget()
            w.addItems([self.words(1, 3) for _ in range(r.randint(15, 40))])
        else:
            w = QTreeWidget()
            w.setHeaderLabels([self.words(1, 1) for _ in range(r.randint(1, 3))])
            for _ in range(r.randint(15, 40)):
                QTreeWidgetItem(w, [self.words(1, 2) for _ in range(3)])
        w.setMinimumHeight(r.randint(100, 260))
        self.boxes.append(("scrollbar", w.verticalScrollBar()))
        return w

    def _table(self):  # type: ignore[no-untyped-def]
        from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

        r = self.r
        rows, cols = r.randint(12, 40), r.randint(2, 6)
        w = QTableWidget(rows, cols)
        w.setHorizontalHeaderLabels([self.words(1, 1) for _ in range(cols)])
        for i in range(rows):
            for j in range(cols):
                w.setItem(i, j, QTableWidgetItem(self.words(1, 1) if j else str(r.randint(1, 999))))
        w.setMinimumHeight(r.randint(120, 280))
        self.boxes.append(("scrollbar", w.verticalScrollBar()))
        self.boxes.append(("scrollbar", w.horizontalScrollBar()))
        return w

    def _tabs(self):  # type: ignore[no-untyped-def]
        from PySide6.QtWidgets import QTabWidget

        r = self.r
        t = QTabWidget()
        for _ in range(r.randint(2, 5)):
            t.addTab(self._form() if r.random() < 0.5 else self._checks(), self.words(1, 2))
        t.setCurrentIndex(r.randrange(t.count()))
        self.boxes.append(("tabs", t.tabBar()))
        return t

    def _text(self):  # type: ignore[no-untyped-def]
        from PySide6.QtWidgets import QLabel

        lab = QLabel(" ".join(self.words(4, 10) + "." for _ in range(self.r.randint(1, 4))))
        lab.setWordWrap(True)
        return lab

    def _links(self):  # type: ignore[no-untyped-def]
        from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout

        lay = QVBoxLayout()
        for _ in range(self.r.randint(1, 4)):
            lab = QLabel(f'<a href="#x">{self.words(1, 3)}</a>')
            lab.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            self.boxes.append(("link", lab))
            lay.addWidget(lab)
        return self._group(lay)

    def _sliders(self):  # type: ignore[no-untyped-def]
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QFormLayout, QSlider

        lay = QFormLayout()
        for _ in range(self.r.randint(1, 3)):
            s = QSlider(Qt.Orientation.Horizontal)
            s.setValue(self.r.randint(0, 99))
            self.boxes.append(("slider", s))
            lay.addRow(self.words(1, 2), s)
        return self._group(lay)

    # -- boxes -------------------------------------------------------------------------------------
    def labelled(self, win) -> list[tuple[str, tuple[int, int, int, int]]]:  # type: ignore[no-untyped-def]
        from PySide6.QtCore import QPoint, QRect
        from PySide6.QtWidgets import QStyle, QStyleOptionButton

        out: list[tuple[str, tuple[int, int, int, int]]] = []
        win_rect = QRect(0, 0, win.width(), win.height())

        def add(kind: str, widget, rect: QRect | None = None) -> None:  # type: ignore[no-untyped-def]
            if not widget.isVisibleTo(win):
                return
            rect = rect if rect is not None else widget.rect()
            p = widget.mapTo(win, rect.topLeft())
            g = QRect(p, rect.size()).intersected(win_rect)
            # A control clipped by its scroll area or panel is labelled only when most of it shows.
            vis = widget.visibleRegion().boundingRect()
            if g.width() < 4 or g.height() < 4 or (not rect.intersects(vis) and not vis.isEmpty()):
                return
            out.append((kind, (g.left(), g.top(), g.right() + 1, g.bottom() + 1)))

        for i, _m in enumerate(self.menus):
            add("menu_item", self.menubar, self.menubar.actionGeometry(self.menubar.actions()[i]))
        if self.toolbar is not None:
            for tb, act, size in self.tool_buttons:
                b = tb.widgetForAction(act)
                if b is None or not b.isVisibleTo(win):
                    continue
                if act.isChecked() or b.isDown():
                    add("icon", b)  # drawn with a frame: the whole button
                else:
                    c = b.rect().center()
                    add("icon", b, QRect(c.x() - size // 2 + 1, c.y() - size // 2 + 1, size, size))
        for kind, w in self.boxes:
            if kind in ("checkbox", "radio", "toggle"):
                opt = QStyleOptionButton()
                w.initStyleOption(opt)
                elem = QStyle.SubElement.SE_RadioButtonIndicator if kind == "radio" else \
                    QStyle.SubElement.SE_CheckBoxIndicator
                add(kind, w, w.style().subElementRect(elem, opt, w))
            elif kind == "tabs":
                for i in range(w.count()):
                    add("tab", w, w.tabRect(i))
            elif kind == "icon":
                add("icon", w)
            elif kind == "scrollbar":
                if w.isVisibleTo(win) and w.maximum() > w.minimum():
                    add("scrollbar", w)
            elif kind == "link":
                add("link", w, QRect(QPoint(0, 0), w.sizeHint()))
            else:
                add(kind, w)
        return out


def _open_menu(b: Builder, win, image, boxes: list) -> None:  # type: ignore[no-untyped-def]
    """Paste an open menu (rendered on its own) under one of the menu bar's entries, and its entries' boxes."""
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QMenu

    r = b.r
    menu = QMenu()
    menu.setFont(b.font)
    menu.setPalette(b.palette)
    for _ in range(r.randint(4, 12)):
        if r.random() < 0.15:
            menu.addSeparator()
            continue
        text = b.words(1, 3) + ("…" if r.random() < 0.2 else "")
        act = menu.addAction(b.icon(16), text) if r.random() < 0.4 else menu.addAction(text)
        if r.random() < 0.3:
            act.setShortcut(r.choice(["Ctrl+S", "Ctrl+O", "Ctrl+Shift+N", "F5", "Alt+Enter", "Ctrl+Z"]))
        if r.random() < 0.1:
            act.setCheckable(True)
            act.setChecked(True)
        if r.random() < 0.08:
            act.setMenu(QMenu(menu))
    menu.adjustSize()
    menu.ensurePolished()
    pix = menu.grab()
    i = r.randrange(len(b.menus))
    geo = b.menubar.actionGeometry(b.menubar.actions()[i])
    at = b.menubar.mapTo(win, geo.bottomLeft())
    x, y = at.x(), at.y() + 1
    p = QPainter(image)
    p.drawPixmap(x, y, pix)
    p.end()
    menu_rect = (x, y, x + menu.width(), y + menu.height())
    # Boxes hidden under the menu go; its entries come.
    boxes[:] = [(k, bx) for k, bx in boxes if not _overlaps(bx, menu_rect)]
    for act in menu.actions():
        if act.isSeparator():
            continue
        g = menu.actionGeometry(act)
        boxes.append(("menu_item", (x + g.left(), y + g.top(), x + g.right() + 1, y + g.bottom() + 1)))


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def render_seeds(out: Path, seeds: list[int]) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication, QStyleFactory

    app = QApplication.instance() or QApplication([])
    files = {name: sorted((NODE_MODULES / d).glob("*.svg")) for name, d in ICON_DIRS.items()}
    done = 0
    for seed in seeds:
        b = Builder(seed, files)
        app.setStyle(QStyleFactory.create(b.r.choice(["Fusion", "Fusion", "Windows"])))
        app.setPalette(b.palette)
        app.setFont(b.font)
        app.setStyleSheet(b.sheet)
        win = b.build()
        w, h = b.r.choice([(800, 600), (1024, 700), (1100, 760), (1280, 800), (1366, 768), (900, 680)])
        win.resize(w, h)
        win.show()
        for _ in range(3):
            app.processEvents()
        if b.toolbar is not None:
            for tb, act, _size in b.tool_buttons:
                btn = tb.widgetForAction(act)
                if btn is not None and b.r.random() < 0.08:
                    btn.setDown(True)  # pressed: framed
            app.processEvents()
        boxes = b.labelled(win)
        image = win.grab().toImage()
        if b.menus and b.r.random() < 0.35:
            _open_menu(b, win, image, boxes)
        scale = image.devicePixelRatio()
        stem = out / f"{seed:05d}"
        image.save(str(stem.with_suffix(".png")))
        rows = [[k, *(round(v * scale, 1) for v in bx)] for k, bx in boxes]
        stem.with_suffix(".json").write_text(json.dumps({"scale": scale, "boxes": rows}))
        win.close()
        win.deleteLater()
        app.processEvents()
        done += 1
    return done


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--screens", type=int, default=800)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--seeds", help=argparse.SUPPRESS)  # a worker's own seeds (comma separated)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    if a.seeds is not None:
        seeds = [int(s) for s in a.seeds.split(",") if s]
        print(f"rendered {render_seeds(a.out, seeds)} Qt screens", flush=True)
        return 0
    todo = [s for s in range(a.start, a.start + a.screens) if not (a.out / f"{s:05d}.json").exists()]
    procs = []
    for scale in sorted(set(SCALES)):
        seeds = [s for s in todo if scale_of(s) == scale]
        if seeds:
            env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=f"{scale:g}")
            procs.append(subprocess.Popen([sys.executable, __file__, str(a.out), "--seeds",
                                           ",".join(map(str, seeds))], env=env))
    return max([p.wait() for p in procs], default=0)


if __name__ == "__main__":
    raise SystemExit(main())
