"""A fresh desktop for one task: its own X display (Xvfb of the task's screen at its scale, the apps told to
draw at that scale; or, for a task with monitors, Xorg's dummy driver with one output a monitor, so RandR
reports them), a window manager (openbox), a fresh home folder with
the task's files (text, or binary files made by code: PDFs, archives, images), its own D-Bus session bus,
its own temporary folder, and the task's applications started and placed. The applications run with
their own `/tmp` where a private mount namespace can be made (`unshare -m`: as root, or where the system
allows it), else with `TMPDIR` pointing at the task's folder only. Everything is stopped by its handle."""

from __future__ import annotations

import functools
import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from types import TracebackType
from typing import Any

from desktop_agent.capture.monitor_display import MonitorDisplay
from desktop_agent.capture.virtual_display import VirtualDisplay, stop_process
from desktop_agent.config import ENV_NAMES
from desktop_agent.errors import AgentError
from desktop_agent.evaluation.task_suite import AppSpec, ArchiveFixture, Fixture, ImageFixture, PdfFixture, TaskSpec
from desktop_agent.geometry import parse_monitor_spec

# Run as `sh -c PRIVATE_TMP sh TASK_TMP KEEP... -- CMD...` inside a new mount namespace: the task's folder
# becomes /tmp, with the X server's sockets and every KEEP path that lives in /tmp (the task's home, the
# program and files the command names, this checkout and its Python when they are there) mounted back.
PRIVATE_TMP = r"""set -e
t=$1
shift
if [ -d /tmp/.X11-unix ]; then mkdir -p "$t/.X11-unix"; mount --bind /tmp/.X11-unix "$t/.X11-unix"; fi
while [ "$1" != "--" ]; do
  case $1 in /tmp/?*) r=${1#/tmp/}; if [ -d "$1" ]; then mkdir -p "$t/$r"; else mkdir -p "$(dirname "$t/$r")";
    touch "$t/$r"; fi; mount --bind "$1" "$t/$r";; esac
  shift
done
shift
mount --rbind "$t" /tmp
exec "$@"
"""
UNSHARE = ["unshare", "--mount", "--propagation", "private"]

SESSION_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""  # no service folders: nothing is started on demand, so the bus leaves no daemons behind


@functools.cache
def private_tmp_supported() -> bool:
    """Whether this process may give an app its own /tmp (a mount namespace with mounts in it)."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    with tempfile.TemporaryDirectory(prefix="tmp-probe-") as d:
        try:
            r = subprocess.run([*UNSHARE, "sh", "-c", 'mount --bind "$1" "$1" && mount --rbind "$1" /tmp', "sh", d],
                               capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return False
    return r.returncode == 0


def _kept_in_tmp(home: Path, cmd: list[str]) -> list[str]:
    """The paths under /tmp an app of a task still needs inside its private /tmp: the task's home, the
    program and the files its command line names, this checkout and the Python running it. Outermost
    first, and none inside another, so each is mounted once."""
    tmp = Path("/tmp")
    wanted = [home, Path(__file__).resolve().parents[2], Path(sys.prefix), Path(sys.executable).resolve()]
    for arg in cmd:
        found = shutil.which(arg) if "/" not in arg else arg
        if found and Path(found).exists():
            wanted.append(Path(found).absolute())
    under = sorted({w for w in wanted if tmp in w.parents}, key=lambda w: len(w.parts))
    kept: list[Path] = []
    for w in under:
        if not any(k == w or k in w.parents for k in kept):
            kept.append(w)
    return [str(k) for k in kept]


def mapped_windows(display: str) -> list[tuple[Any, str]]:
    """Mapped client windows (title, window), children of openbox frames included."""
    from Xlib import X
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    net_name, utf8 = d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING")
    out = []
    try:
        def title(w: Any) -> str | None:
            # EWMH's UTF-8 title first: some apps (Chromium) set WM_NAME in a type python-xlib skips.
            prop = w.get_full_property(net_name, utf8)
            if prop is not None and prop.value:
                value = prop.value
                return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            name = w.get_wm_name()
            return str(name) if name else None

        def walk(w: Any, depth: int) -> None:
            try:
                name = title(w)
                attrs = w.get_attributes()
            except Exception:
                return
            if name and attrs.map_state == X.IsViewable and w.get_wm_class():
                out.append((w.id, str(name)))
            if depth < 2:
                for c in w.query_tree().children:
                    walk(c, depth + 1)
        for top in d.screen().root.query_tree().children:
            walk(top, 0)
    finally:
        d.close()
    return out


def pdf_bytes(lines: list[str], title: str | None = None) -> bytes:
    """A valid one-page PDF (US Letter) showing these lines in Helvetica, from top to bottom."""
    def literal(text: str) -> bytes:
        raw = text.encode("cp1252", "replace")
        return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"

    content = b"BT /F1 14 Tf 18 TL 72 720 Td " + b" ".join(literal(line) + b" Tj T*" for line in lines) + b" ET"
    info = b"<< /Producer (desktop-agent task suite)" + (b" /Title " + literal(title) if title else b"") + b" >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        info,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def archive_bytes(kind: str, members: dict[str, str]) -> bytes:
    """A zip, tar or tar.gz archive of these members (text; a name ending in "/" is a folder), the same bytes
    every time (fixed dates), so a task can check by hash whether it changed."""
    buf = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, text in members.items():
                info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 12, 0, 0))
                info.external_attr = (0o40755 if name.endswith("/") else 0o100644) << 16
                zf.writestr(info, b"" if name.endswith("/") else text.encode("utf-8"))
        return buf.getvalue()
    gz = gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) if kind == "tar.gz" else None
    with tarfile.open(fileobj=gz or buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, text in members.items():
            member = tarfile.TarInfo(name.rstrip("/"))
            member.mtime = 1704110400
            if name.endswith("/"):
                member.type, member.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(member)
            else:
                data = text.encode("utf-8")
                member.size, member.mode = len(data), 0o644
                tf.addfile(member, io.BytesIO(data))
    if gz is not None:
        gz.close()
    return buf.getvalue()


def image_bytes(fx: ImageFixture) -> bytes:
    """A PNG fixture of the given size and colour."""
    import cv2
    import numpy as np

    width, height = fx.size
    rgb = tuple(int(fx.color[i:i + 2], 16) for i in (1, 3, 5))
    img = np.full((height, width, 3), rgb[::-1], np.uint8)
    if fx.text:
        ink = (20, 20, 20) if sum(rgb) > 380 else (240, 240, 240)
        cv2.putText(img, fx.text, (width // 10, height // 2), cv2.FONT_HERSHEY_SIMPLEX, max(0.5, height / 160), ink,
                    2)
    ok, data = cv2.imencode(".png" if fx.kind == "png" else ".jpg", img)
    if not ok:
        raise AgentError(f"cannot encode a {fx.kind} picture")
    return bytes(data.tobytes())


def fixture_bytes(fx: Fixture) -> bytes:
    """The bytes of a binary fixture made by code."""
    if isinstance(fx, PdfFixture):
        return pdf_bytes(fx.lines, fx.title)
    if isinstance(fx, ArchiveFixture):
        return archive_bytes(fx.kind, fx.members)
    return image_bytes(fx)


def scaled_size(size: str, scale: float) -> str:
    """A WIDTHxHEIGHT screen size at a scale: the device pixels of a desktop of that size in logical units."""
    w, h = (int(v) for v in size.lower().split("x"))
    return f"{round(w * scale)}x{round(h * scale)}"


def scale_env(scale: float) -> dict[str, str]:
    """What tells each toolkit to draw at a desktop scale, beside the X resources' `Xft.dpi` of 96 x scale
    (which GTK 2, GTK 3's text and Xlib apps read): GTK 3 scales by whole numbers (GDK_SCALE) with its text
    scaled back by as much (GDK_DPI_SCALE), so text follows Xft.dpi once, fractions included, as on a
    scaled X11 session; Qt scales by any factor (QT_SCALE_FACTOR), its font DPI held at 96 so that Xft.dpi
    does not scale its text a second time."""
    if scale == 1:
        return {}
    whole = max(1, int(scale))
    return {"GDK_SCALE": str(whole), "GDK_DPI_SCALE": f"{1 / whole:g}", "QT_SCALE_FACTOR": f"{scale:g}",
            "QT_AUTO_SCREEN_SCALE_FACTOR": "0", "QT_ENABLE_HIGHDPI_SCALING": "1", "QT_FONT_DPI": "96"}


def _write_picture(path: Path, width: int, height: int) -> None:
    import cv2
    import numpy as np

    hue = sum(path.name.encode()) % 180
    hsv = np.full((height, width, 3), (hue, 90, 230), np.uint8)
    img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    cv2.putText(img, path.stem, (width // 10, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (40, 40, 40), 3)
    cv2.imwrite(str(path), img)


class TaskEnvironment:
    """One task's desktop. `private_tmp`: give the apps their own /tmp (None: where this system allows it;
    False: TMPDIR only, as on systems that do not allow it)."""

    def __init__(self, task: TaskSpec, private_tmp: bool | None = None) -> None:
        self.task = task
        self.xvfb: VirtualDisplay | MonitorDisplay | None = None
        self.wm: subprocess.Popen[bytes] | None = None
        self.bus: subprocess.Popen[bytes] | None = None
        self.bus_address: str | None = None
        self.apps: list[subprocess.Popen[bytes]] = []
        self.home = Path(tempfile.mkdtemp(prefix="home-"))  # no task words on screen (title bars show paths)
        self.tmp = Path(tempfile.mkdtemp(prefix="tmp-"))  # the task's temporary folder: the apps' /tmp
        self.private_tmp = private_tmp_supported() if private_tmp is None else private_tmp
        # The scale the apps draw at: the task's, unless it is emulated (apps at 1x, captures upscaled).
        self.scale = 1.0 if task.emulate_scale else task.scale

    @property
    def isolation(self) -> str:
        """How the task's temporary files are kept apart from other tasks', in words."""
        return "private /tmp (mount namespace)" if self.private_tmp else "TMPDIR only (no private /tmp here)"

    @property
    def display(self) -> str:
        """The task's X display (`:N`)."""
        assert self.xvfb is not None
        return self.xvfb.display

    def env(self) -> dict[str, str]:
        """The environment of the task's apps and of the agent: this display, this home."""
        runtime = self.home / ".runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DBUS_", "QT_QPA"))}
        env.update(DISPLAY=self.display, HOME=str(self.home), XDG_RUNTIME_DIR=str(runtime),
                   XDG_CONFIG_HOME=str(self.home / ".config"), XDG_DATA_HOME=str(self.home / ".local/share"),
                   XDG_CACHE_HOME=str(self.home / ".cache"), NO_AT_BRIDGE="1", LANG="C.UTF-8",
                   GSETTINGS_BACKEND="keyfile",  # .config/glib-2.0/settings/keyfile: what a gsettings check reads
                   TMPDIR=str(self.tmp))
        if self.bus_address:
            env["DBUS_SESSION_BUS_ADDRESS"] = self.bus_address
        env.pop(ENV_NAMES["monitors"], None)  # monitors are the X server's own (RandR), as on a real desktop
        return env

    def app_command(self, cmd: list[str]) -> list[str]:
        """The command line that starts an app in this task: in its own /tmp where that is possible."""
        if not self.private_tmp:
            return cmd
        kept = _kept_in_tmp(self.home, [*cmd, *self.kept_paths()])
        return [*UNSHARE, "sh", "-c", PRIVATE_TMP, "sh", str(self.tmp), *kept, "--", *cmd]

    def kept_paths(self) -> list[str]:
        """Paths under /tmp, besides those `_kept_in_tmp` finds, that this session's apps need in their
        private /tmp (a compositor's socket folder)."""
        return []

    def _start_bus(self) -> None:
        """The task's own D-Bus session bus (a socket in its runtime folder), when dbus-daemon is installed."""
        if shutil.which("dbus-daemon") is None:
            return
        runtime = self.home / ".runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        config = runtime / "session-bus.conf"
        config.write_text(SESSION_BUS_CONFIG.format(socket=runtime / "bus"), encoding="utf-8")
        self.bus = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile",
                                     "--print-address"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
        assert self.bus.stdout is not None
        address = self.bus.stdout.readline().decode().strip()
        self.bus.stdout.close()
        if not address:
            raise AgentError(f"task {self.task.name}: the D-Bus session bus did not start")
        self.bus_address = address

    def __enter__(self) -> TaskEnvironment:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _write_files(self) -> None:
        """The task's files in its home: generated fixtures, pictures, folders and text files."""
        for f in self.task.files:
            p = self.home / f.path
            if f.generate is not None:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(fixture_bytes(f.generate))
                continue
            if f.image is not None:
                p.parent.mkdir(parents=True, exist_ok=True)
                _write_picture(p, *f.image)
                continue
            if f.text is None and f.lines is None:
                p.mkdir(parents=True, exist_ok=True)
                continue
            p.parent.mkdir(parents=True, exist_ok=True)
            text = f.text if f.text is not None else "".join(f"line {i:03d}\n" for i in range(1, (f.lines or 0) + 1))
            p.write_text(text, encoding="utf-8")

    def _start_app(self, app: AppSpec, env: dict[str, str]) -> None:
        """One of the task's apps, started in the task's home, its window placed and activated."""
        cmd = [c.replace("{home}", str(self.home)) for c in app.cmd]
        if shutil.which(cmd[0]) is None:
            raise AgentError(f"task {self.task.name}: {cmd[0]} is not installed")
        app_env = {**env, **scale_env(self.scale),
                   **{k: v.replace("{home}", str(self.home)) for k, v in app.env.items()}}
        if self.private_tmp and "TMPDIR" not in app.env:
            app_env["TMPDIR"] = "/tmp"  # the task's folder, seen from inside the app's namespace
        proc = subprocess.Popen(self.app_command(cmd), env=app_env, cwd=self.home, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        self.apps.append(proc)
        wid = self._wait_for_window(app.window, proc, cmd)
        if app.geometry:
            x, y, w, h = (round(v * self.scale) for v in app.geometry)  # given in logical units
            subprocess.run(["xdotool", "windowsize", str(wid), str(w), str(h), "windowmove", str(wid), str(x),
                            str(y)], env=env, check=False, timeout=10)
        subprocess.run(["xdotool", "windowactivate", "--sync", str(wid)], env=env, check=False, timeout=10,
                       stderr=subprocess.DEVNULL)

    def start(self) -> None:
        """The task's files, its display (Xvfb, or Xorg with real monitors), a D-Bus bus, openbox and its apps."""
        self._write_files()
        if self.task.monitors:  # a real multi-monitor X server: Xorg's dummy driver, one output a monitor
            self.xvfb = MonitorDisplay.start(parse_monitor_spec(self.task.monitors))
        else:
            self.xvfb = VirtualDisplay.start(scaled_size(self.task.screen, self.scale))
        self._start_bus()
        env = self.env()
        if self.scale != 1:  # the X resources a scaled session has: GTK 2, Xlib and Xft apps read Xft.dpi
            subprocess.run(["xrdb", "-nocpp", "-merge"], input=f"Xft.dpi: {round(96 * self.scale)}\n".encode(),
                           env=env, check=True, timeout=10)
        if shutil.which("openbox") is None:
            raise AgentError("the task suite needs openbox (scripts/setup.sh --test installs it)")
        self.wm = subprocess.Popen(["openbox", "--sm-disable"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(0.4)
        for app in self.task.apps:
            self._start_app(app, env)
        time.sleep(0.8)  # let the windows paint before the first capture

    def _wait_for_window(self, title: str, proc: subprocess.Popen[bytes], cmd: list[str],
                         timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for wid, name in mapped_windows(self.display):
                if title in name:
                    return int(wid)
            if proc.poll() not in (None, 0):  # 0: a single-instance app handed its file to the running one
                raise AgentError(f"task {self.task.name}: {cmd!r} exited (status {proc.returncode}) before "
                                 f"showing {title!r}")
            time.sleep(0.1)
        raise AgentError(f"task {self.task.name}: no window titled {title!r} within {timeout:g} s")

    def window_titles(self) -> list[str]:
        """The titles of the windows on the task's display."""
        return [name for _, name in mapped_windows(self.display)]

    def clipboard(self) -> str:
        """The text on the task's clipboard."""
        r = subprocess.run(["xclip", "-o", "-selection", "clipboard"], env=self.env(), capture_output=True,
                           timeout=10)
        return r.stdout.decode("utf-8", "replace") if r.returncode == 0 else ""

    def stop(self) -> None:
        """Stop the apps, the window manager, the bus and the display."""
        for proc in self.apps:
            stop_process(proc)
        self.apps = []
        if self.wm is not None:
            stop_process(self.wm)
            self.wm = None
        if self.bus is not None:
            stop_process(self.bus)  # it started nothing itself (no service folders)
            self.bus = None
            self.bus_address = None
        if self.xvfb is not None:
            self.xvfb.stop()
            self.xvfb = None

    def cleanup(self) -> None:
        """Remove the task's home and temporary folders."""
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)
