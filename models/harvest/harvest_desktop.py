"""Harvest training screens with exact truth from real Debian desktop applications.

Each (application, theme, scale) runs on a fresh Xvfb with openbox, a private session bus and the AT-SPI bus;
the application's accessibility tree gives every control's role, name, states and box. Only what is seen is
kept: boxes clipped to their containers and window, nothing covered by another window, nothing empty. Menus
named in the tree are opened one by one for more screens. Output (never run in CI):

    OUT/images/<app>__<theme>__<scale>__<screen>.png
    OUT/samples.jsonl   one line per visible control: app, toolkit, theme, icon_theme, scale, image, role,
                        name, states, bbox [x1, y1, x2, y2] in image pixels
    OUT/split.json      train/test by whole applications (held-out apps never appear in train)
    OUT/metadata.json   every app with its Debian package and license, the themes, the run's settings

    .venv/bin/python models/harvest/harvest_desktop.py --out build/harvest --apps galculator,featherpad \\
        --themes default,Adwaita:dark,HighContrast --scales 1,2 --held-out ristretto
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import cv2
import numpy as np

from desktop_agent.capture.virtual_display import VirtualDisplay, stop_process
from desktop_agent.perception.accessibility import A11ySnapshot, DesktopRect
from desktop_agent.perception.accessibility.atspi import AtspiSource
from desktop_agent.perception.accessibility.atspi_bus import PrivateAtspiBus
from desktop_agent.perception.accessibility.visibility import ScreenWindow, visible_nodes
from desktop_agent.perception.accessibility.x_windows import stacked_windows

SCREEN_W, SCREEN_H = 1600, 1000


@dataclass(frozen=True)
class AppSpec:
    name: str  # the application's name in its accessibility tree
    cmd: tuple[str, ...]
    toolkit: str  # gtk2, gtk3, gtk4, qt5, qt6
    package: str  # Debian package (its copyright file gives the license)


# Installed by packaging/debian-packages-suite.txt (the task suite's apps) and models/harvest/debian-packages.txt; their
# licenses are in models/harvest/README.md. A command's {home} is the session's fresh home; {image}, {pdf},
# {text}, {text2} and {archive} are files made there for it (write_fixture), so viewers and editors open on a
# document. Flags keep each app a fresh single process: no remote instance, no restored session.
# Dropped after trying: gnome-calculator (GTK 4.8: its tree shows the frame only, no child under it); ghostwriter and
# audacious (Qt 5: no accessible window within 30 s under Xvfb).
APPS = {a.name: a for a in (
    AppSpec("galculator", ("galculator",), "gtk3", "galculator"),
    AppSpec("mousepad", ("mousepad",), "gtk3", "mousepad"),
    AppSpec("gnumeric", ("gnumeric",), "gtk3", "gnumeric"),
    AppSpec("ristretto", ("ristretto",), "gtk3", "ristretto"),
    AppSpec("pcmanfm", ("pcmanfm", "{home}"), "gtk2", "pcmanfm"),
    AppSpec("FeatherPad", ("featherpad", "--standalone"), "qt5", "featherpad"),
    AppSpec("geany", ("geany", "--no-session", "--new-instance"), "gtk3", "geany"),
    AppSpec("transmission", ("transmission-gtk",), "gtk3", "transmission-gtk"),
    AppSpec("xarchiver", ("xarchiver",), "gtk3", "xarchiver"),
    AppSpec("gpicview", ("gpicview",), "gtk2", "gpicview"),
    AppSpec("mtpaint", ("mtpaint",), "gtk2", "mtpaint"),
    AppSpec("lximage-qt", ("lximage-qt",), "qt5", "lximage-qt"),
    AppSpec("qpdfview", ("qpdfview", "--unique"), "qt5", "qpdfview"),
    AppSpec("thunar", ("thunar", "{home}"), "gtk3", "thunar"),
    AppSpec("gedit", ("gedit", "--standalone", "{text}"), "gtk3", "gedit"),
    AppSpec("eog", ("eog", "--new-instance", "{image}"), "gtk3", "eog"),
    AppSpec("atril", ("atril", "{pdf}"), "gtk3", "atril"),
    AppSpec("engrampa", ("engrampa", "{archive}"), "gtk3", "engrampa"),
    AppSpec("pluma", ("pluma", "{text}"), "gtk3", "pluma"),
    AppSpec("kcalc", ("kcalc",), "qt5", "kcalc"),
    AppSpec("pcmanfm-qt", ("pcmanfm-qt", "{home}"), "qt5", "pcmanfm-qt"),
    AppSpec("qterminal", ("qterminal",), "qt5", "qterminal"),
    AppSpec("lxterminal", ("lxterminal", "--no-remote"), "gtk3", "lxterminal"),
    AppSpec("org.gnome.Meld", ("meld", "{text}", "{text2}"), "gtk3", "meld"),
    AppSpec("gucharmap", ("gucharmap",), "gtk3", "gucharmap"),
    AppSpec("abiword", ("abiword", "{text}"), "gtk3", "abiword"),
    AppSpec("evince", ("evince", "{pdf}"), "gtk3", "evince"),
    AppSpec("xfce4-terminal", ("xfce4-terminal", "--disable-server"), "gtk3", "xfce4-terminal"),
    AppSpec("mate-calc", ("mate-calc",), "gtk3", "mate-calc"),
    AppSpec("claws-mail", ("claws-mail", "--alternate-config-dir", "{home}/.claws-mail"), "gtk3", "claws-mail"),
    AppSpec("homebank", ("homebank",), "gtk3", "homebank"),
    AppSpec("glabels", ("glabels-3",), "gtk3", "glabels"),
    AppSpec("easytag", ("easytag", "{home}"), "gtk3", "easytag"),
    AppSpec("diffuse", ("diffuse", "{text}", "{text2}"), "gtk3", "diffuse"),
    AppSpec("l3afpad", ("l3afpad", "{text}"), "gtk3", "l3afpad"),
    AppSpec("caja", ("caja", "--no-desktop", "{home}"), "gtk3", "caja"),
    AppSpec("geeqie", ("geeqie", "{image}"), "gtk3", "geeqie"),
    AppSpec("parole", ("parole",), "gtk3", "parole"),
    AppSpec("xfburn", ("xfburn",), "gtk3", "xfburn"),
    AppSpec("gftp", ("gftp-gtk",), "gtk2", "gftp-gtk"),
    AppSpec("osmo", ("osmo",), "gtk3", "osmo"),
    AppSpec("dia", ("dia",), "gtk2", "dia"),
    AppSpec("xournal", ("xournal",), "gtk2", "xournal"),
    AppSpec("sylpheed", ("sylpheed",), "gtk2", "sylpheed"),
    AppSpec("hexchat", ("hexchat",), "gtk2", "hexchat"),
    AppSpec("filezilla", ("filezilla",), "gtk3", "filezilla"),
    AppSpec("qbittorrent", ("qbittorrent",), "qt5", "qbittorrent"),
    AppSpec("qimgv", ("qimgv", "{image}"), "qt5", "qimgv"),
    AppSpec("lxqt-archiver", ("lxqt-archiver", "{archive}"), "qt5", "lxqt-archiver"),
    AppSpec("qps", ("qps",), "qt5", "qps"),
    AppSpec("screengrab", ("screengrab",), "qt5", "screengrab"),
    AppSpec("focuswriter", ("focuswriter",), "qt5", "focuswriter"),
    AppSpec("kchmviewer", ("kchmviewer",), "qt5", "kchmviewer"),
    AppSpec("qtqr", ("qtqr",), "qt5", "qtqr"),
    AppSpec("smplayer", ("smplayer",), "qt5", "smplayer"),
)}
# The split by application: models train on the others' screens only; these are measured, never trained on.
# The first six since the harvest began; dia, geeqie and focuswriter added on 2026-12-01, before any model saw them
# (chosen by toolkit, one each of GTK 2, GTK 3 and Qt 5, among the newly added apps that start).
HELD_OUT_APPS = ("FeatherPad", "lximage-qt", "qpdfview", "gpicview", "xarchiver", "ristretto", "dia", "geeqie",
                 "focuswriter")
TRAIN_APPS = tuple(a for a in APPS if a not in HELD_OUT_APPS)
# The training apps whose icon crops the committed icon model (models/icon_embed) learned from. A retrain on the
# crops of every training app was measured on 2026-12-01 and not adopted (that model card says why).
ICON_TRAIN_APPS = ("galculator", "mousepad", "gnumeric", "pcmanfm", "geany", "transmission", "mtpaint")
# GTK 3 names a theme and variant with GTK_THEME; Qt takes a style. "default" leaves both alone.
QT_STYLES = {"default": "", "Adwaita:dark": "Fusion", "HighContrast": "Windows"}


def package_license(package: str) -> str:
    """The license of a Debian package's own files (machine-readable copyright), else where to read it."""
    path = Path("/usr/share/doc") / package / "copyright"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown (no copyright file)"
    m = re.search(r"^Files:[ \t]*\*[ \t]*\n(?:[^\n]+\n)*?License:[ \t]*([^\n]+)", text, re.M)
    if m:
        return m.group(1).strip()
    # Machine-readable files that list every path and no "Files: *": the license most stanzas name.
    stanzas = re.findall(r"^License:[ \t]*(\S[^\n]*)", text, re.M) if text.startswith("Format:") else []
    if stanzas:
        top = max(set(stanzas), key=stanzas.count)
        return f"{top.strip()} (most files; see {path})"
    return f"see {path}"


_TEXT = """Meeting notes

Agenda
1. Review the release checklist
2. Update the install guide for the new packages
3. Plan the next sprint: search, export to CSV, keyboard shortcuts

Decisions
- Ship version 2.4 on Friday
- Keep the old importer for one more release
"""


def _pdf(pages: list[list[str]]) -> bytes:
    """A small valid PDF: one page of Helvetica text lines per entry."""
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for i, lines in enumerate(pages):
        shown = (ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for ln in lines)
        body = "BT /F1 14 Tf 72 760 Td 18 TL " + " ".join(f"({ln}) Tj T*" for ln in shown) + " ET"
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                    f"/Contents {5 + 2 * i} 0 R >>")
        objs.append(f"<< /Length {len(body)} >>\nstream\n{body}\nendstream")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def write_fixture(kind: str, home: Path) -> Path:
    """A document for a command's {image}, {pdf}, {text}, {text2} or {archive}, made in the session's home."""
    if kind == "image":
        path = home / "photo.png"
        img = np.zeros((600, 800, 3), np.uint8)
        img[:] = np.linspace(40, 220, 800, dtype=np.uint8)[None, :, None]
        cv2.circle(img, (260, 300), 140, (40, 120, 230), -1)
        cv2.rectangle(img, (450, 150), (700, 450), (60, 180, 80), -1)
        cv2.putText(img, "Harvest", (300, 560), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        cv2.imwrite(str(path), img)
    elif kind == "pdf":
        path = home / "report.pdf"
        lines = _TEXT.splitlines()
        path.write_bytes(_pdf([[f"Page {i + 1}", *lines] for i in range(3)]))
    elif kind == "text":
        path = home / "notes.txt"
        path.write_text(_TEXT, encoding="utf-8")
    elif kind == "text2":
        path = home / "notes-v2.txt"
        path.write_text(_TEXT.replace("Friday", "Monday").replace("one more release", "two releases")
                        + "- Review the docs\n", encoding="utf-8")
    elif kind == "archive":
        path = home / "backup.zip"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("notes.txt", _TEXT)
            z.writestr("docs/readme.md", "# Readme\n")
            z.writestr("docs/changes.md", "# Changes\n")
            z.writestr("data/table.csv", "a,b\n1,2\n")
    else:
        raise ValueError(f"unknown fixture {kind!r}")
    return path


def command(app: AppSpec, home: Path) -> list[str]:
    """The app's command line with {home} and its fixtures' placeholders filled in (fixtures made on use)."""
    out = []
    for arg in app.cmd:
        for kind in re.findall(r"\{(\w+)\}", arg):
            value = str(home) if kind == "home" else str(write_fixture(kind, home))
            arg = arg.replace("{" + kind + "}", value)
        out.append(arg)
    return out


def _x_windows(display: str) -> list[ScreenWindow]:
    """Every mapped top-level window bottom to top (the perception package's reading of the X stacking order)."""
    windows = stacked_windows(display)
    if windows is None:
        raise RuntimeError(f"cannot read the window stack of X display {display}")
    return windows


def _capture(display: str) -> np.ndarray:
    import mss

    with getattr(mss, "MSS", mss.mss)(display=display) as sct:
        shot = np.asarray(sct.grab(sct.monitors[0]))
    return cv2.cvtColor(shot, cv2.COLOR_BGRA2BGR)


class Session:
    """One application on its own display, bus and home, in one theme and scale. Stopped by its handles."""

    def __init__(self, app: AppSpec, theme: str, icon_theme: str, scale: float) -> None:
        self.app, self.theme, self.icon_theme, self.scale = app, theme, icon_theme, scale
        self.home = Path(tempfile.mkdtemp(prefix="harvest-home-"))
        self.display = VirtualDisplay.start(f"{SCREEN_W}x{SCREEN_H}")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.bus: PrivateAtspiBus | None = None
        try:
            self.bus = PrivateAtspiBus.start(self.display.display)
            self.env = self._env()
            self._start(["openbox", "--sm-disable"])
            time.sleep(0.3)
            self.proc = self._start(command(app, self.home))
            address = self.bus.address()
            assert address is not None
            self.source = AtspiSource(bus_address=address, exclude_self=False)
        except BaseException:
            self.stop()
            raise

    def _env(self) -> dict[str, str]:
        assert self.bus is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DBUS_", "QT_", "GTK", "GDK"))}
        env.pop("NO_AT_BRIDGE", None)
        env.update(self.bus.env(), HOME=str(self.home), LANG="C.UTF-8", GSETTINGS_BACKEND="memory",
                   XDG_CONFIG_HOME=str(self.home / ".config"), QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1",
                   QT_QPA_PLATFORM="xcb", NO_AT_BRIDGE="0")
        if self.app.toolkit == "gtk2":
            env["GTK_MODULES"] = "gail:atk-bridge"
        if self.theme != "default":
            env["GTK_THEME"] = self.theme
            if QT_STYLES.get(self.theme):
                env["QT_STYLE_OVERRIDE"] = QT_STYLES[self.theme]
        if self.icon_theme != "default":
            for gtk in ("gtk-3.0", "gtk-4.0"):
                ini = self.home / ".config" / gtk / "settings.ini"
                ini.parent.mkdir(parents=True, exist_ok=True)
                ini.write_text(f"[Settings]\ngtk-icon-theme-name={self.icon_theme}\n", encoding="utf-8")
            (self.home / ".gtkrc-2.0").write_text(f'gtk-icon-theme-name="{self.icon_theme}"\n', encoding="utf-8")
        if self.scale != 1:
            # GTK scales by whole numbers (GDK_SCALE) and fonts by the rest; Qt takes any factor.
            whole = max(1, int(self.scale))
            env.update(GDK_SCALE=str(whole), GDK_DPI_SCALE=f"{self.scale / whole:g}", QT_SCALE_FACTOR=f"{self.scale:g}")
        return env

    def _start(self, cmd: list[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, env=self.env, cwd=self.home, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(proc)
        return proc

    def wait_for_window(self, timeout: float = 30.0) -> A11ySnapshot:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snap = self.source.read(budget_s=5.0)
            if any(w.pid == self.proc.pid and w.box is not None for w in snap.windows):
                time.sleep(1.0)  # let it finish painting
                return self.source.read(budget_s=5.0)
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        raise RuntimeError(f"{self.app.name}: no accessible window within {timeout:g} s")

    def xdo(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env, check=False, timeout=10, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop_process(proc)
        if self.bus is not None:
            self.bus.stop()
        self.display.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def _scale_fix(snap: A11ySnapshot, windows: list[ScreenWindow], pid: int) -> float:
    """Pixels per unit of the app's reported boxes: GTK 3 under GDK_SCALE reports logical units."""
    frames = [w.box for w in snap.windows if w.pid == pid and w.box is not None]
    xwins = [w.box for w in windows if w.pid == pid and not w.popup]
    if not frames or not xwins:
        return 1.0
    ratio = max(x.width for x in xwins) / max(f.width for f in frames)
    return round(ratio) if abs(ratio - round(ratio)) < 0.1 and round(ratio) > 1 else 1.0


def _scaled(snap: A11ySnapshot, factor: float) -> A11ySnapshot:
    if factor == 1:
        return snap
    from dataclasses import replace

    def sc(b: DesktopRect | None) -> DesktopRect | None:
        return None if b is None else DesktopRect(*(round(v * factor) for v in b.as_list()))

    wins = {w: replace(w, box=sc(w.box)) for w in snap.windows}
    nodes = tuple(replace(n, box=sc(n.box), window=wins.get(n.window, n.window)) for n in snap.nodes)
    return replace(snap, nodes=nodes, windows=tuple(wins.values()))


def record_screen(s: Session, out: Path, screen: str, samples: list[dict[str, Any]]) -> int:
    """Capture the screen and its visible controls; returns how many were kept."""
    time.sleep(0.4)
    snap = s.source.read(budget_s=5.0)
    windows = _x_windows(s.display.display)
    snap = _scaled(snap, _scale_fix(snap, windows, s.proc.pid))
    image = _capture(s.display.display)
    seen = [v for v in visible_nodes(snap, windows, DesktopRect(0, 0, SCREEN_W, SCREEN_H))
            if v.node.window.pid == s.proc.pid and v.box.width >= 2 and v.box.height >= 2]
    name = f"{s.app.name}__{s.theme.replace(':', '-')}__{s.icon_theme}__{s.scale:g}__{screen}.png"
    (out / "images").mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out / "images" / name), image)
    for v in seen:
        samples.append({"app": s.app.name, "toolkit": s.app.toolkit, "theme": s.theme, "icon_theme": s.icon_theme,
                        "scale": s.scale, "image": f"images/{name}", "role": v.node.role, "name": v.node.name,
                        "states": v.node.states.names(), "bbox": v.box.as_list()})
    return len(seen)


def harvest_app(app: AppSpec, theme: str, icon_theme: str, scale: float, out: Path, menus: int,
                samples: list[dict[str, Any]]) -> dict[str, Any]:
    s = Session(app, theme, icon_theme, scale)
    try:
        snap = s.wait_for_window()
        # GTK 3 under GDK_SCALE reports logical units: click menu entries at their pixels, as recorded.
        snap = _scaled(snap, _scale_fix(snap, _x_windows(s.display.display), s.proc.pid))
        frame = next(w for w in snap.windows if w.pid == s.proc.pid and w.box is not None)
        assert frame.box is not None
        s.xdo("mousemove", str(SCREEN_W - 1), str(SCREEN_H - 1))  # no hover highlight, no tooltip
        counts = {"main": record_screen(s, out, "main", samples)}
        # The menu bar's entries: GTK names them role "menu", Qt "menu item", both children of the menu bar.
        bars = {n.id for n in snap.nodes if n.role == "menu bar" and n.window.pid == s.proc.pid}
        entries = [n for n in snap.nodes if n.parent in bars and n.box is not None and n.name][:menus]
        for i, entry in enumerate(entries):
            assert entry.box is not None
            c = entry.box.center
            s.xdo("mousemove", str(c.x), str(c.y), "click", "1")
            counts[f"menu{i}"] = record_screen(s, out, f"menu{i}-{re.sub(r'[^A-Za-z0-9]+', '', entry.name)}", samples)
            s.xdo("key", "Escape")
            time.sleep(0.3)
        return {"screens": counts, "app_alive": s.proc.poll() is None}
    finally:
        s.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--apps", default=",".join(APPS), help=f"comma-separated, of: {', '.join(APPS)}")
    ap.add_argument("--themes", default="default", help="GTK_THEME values (default, Adwaita:dark, HighContrast)")
    ap.add_argument("--icon-themes", default="default", help="installed icon themes (Adwaita, Papirus, breeze...)")
    ap.add_argument("--scales", default="1", help="e.g. 1,1.25,1.5,2")
    ap.add_argument("--menus", type=int, default=4, help="menu-bar entries to open per screen set")
    ap.add_argument("--held-out", default=",".join(HELD_OUT_APPS), help="apps kept out of train (the test split)")
    args = ap.parse_args(argv)
    unknown = [a for a in args.apps.split(",") if a not in APPS]
    if unknown:
        ap.error(f"unknown apps {unknown}: known are {', '.join(APPS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    samples: list[dict[str, Any]] = []
    runs = []
    for name in args.apps.split(","):
        app = APPS[name]
        if shutil.which(app.cmd[0]) is None:
            print(f"skip {name}: {app.cmd[0]} is not installed (apt-get install {app.package})", file=sys.stderr)
            continue
        for theme in args.themes.split(","):
            for icon_theme in args.icon_themes.split(","):
                for scale in (float(v) for v in args.scales.split(",")):
                    t0 = time.monotonic()
                    try:
                        result = harvest_app(app, theme, icon_theme, scale, args.out, args.menus, samples)
                    except Exception as e:  # one app failing must not lose the others' screens
                        result = {"error": f"{type(e).__name__}: {e}"}
                    result.update(app=name, theme=theme, icon_theme=icon_theme, scale=scale,
                                  seconds=round(time.monotonic() - t0, 1))
                    runs.append(result)
                    print(json.dumps(result), flush=True)
    with (args.out / "samples.jsonl").open("w", encoding="utf-8") as f:
        for sample in samples:
            f.write(json.dumps(sample, ensure_ascii=False) + "\n")
    apps = sorted({s["app"] for s in samples})
    held = set(args.held_out.split(",")) if args.held_out else set()
    split = {"train": [a for a in apps if a not in held], "test": [a for a in apps if a in held],
             "rule": "split by whole application: no screen of a test app is in train"}
    (args.out / "split.json").write_text(json.dumps(split, indent=2) + "\n", encoding="utf-8")
    meta = {"apps": [{"name": a.name, "package": a.package, "toolkit": a.toolkit, "license": package_license(a.package)}
                     for a in APPS.values() if a.name in apps],
            "themes": args.themes.split(","), "icon_themes": args.icon_themes.split(","),
            "scales": args.scales.split(","), "screen": [SCREEN_W, SCREEN_H], "runs": runs,
            "samples": len(samples)}
    (args.out / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"{len(samples)} samples from {len(apps)} apps in {args.out}")
    return 0 if samples else 1


if __name__ == "__main__":
    sys.exit(main())
