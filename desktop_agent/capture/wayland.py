"""Capture on a wlroots Wayland compositor (sway, Hyprland, river, labwc, Wayfire...).

The outputs' layout comes from the compositor itself over pywayland: xdg-output gives each output's
position and size in the compositor's logical layout (the space the virtual pointer takes), wl_output its
mode in device pixels. A capture is one output's pixels through the wlr-screencopy protocol, as grim takes
them (device pixels: a scale-2 output gives twice its logical size), and `FrameGeometry` maps them back.
GNOME and KDE have no wlr-screencopy: there the xdg-desktop-portal ScreenCast path is needed (not yet here).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from desktop_agent.capture.frame import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, ScreenFrame, check_image_size
from desktop_agent.errors import AgentError, MonitorLayoutError, NoDisplayError
from desktop_agent.geometry import FrameGeometry, Monitor, ScreenLayout

# The protocols a wlroots backend needs from the compositor, by global interface name.
SCREENCOPY = "zwlr_screencopy_manager_v1"
VIRTUAL_POINTER = "zwlr_virtual_pointer_manager_v1"
VIRTUAL_KEYBOARD = "zwp_virtual_keyboard_manager_v1"
XDG_OUTPUT = "zxdg_output_manager_v1"
WLROOTS_GLOBALS = (SCREENCOPY, VIRTUAL_POINTER, VIRTUAL_KEYBOARD, XDG_OUTPUT)

GRIM_TIMEOUT = 10.0


def wayland_socket(environ: Mapping[str, str] | None = None) -> str | None:
    """The compositor's socket path from WAYLAND_DISPLAY (absolute, or relative to XDG_RUNTIME_DIR)."""
    env = os.environ if environ is None else environ
    name = env.get("WAYLAND_DISPLAY")
    if not name:
        return None
    if os.path.isabs(name):
        return name
    runtime = env.get("XDG_RUNTIME_DIR")
    return os.path.join(runtime, name) if runtime else None


@dataclass
class WaylandOutput:
    """One wl_output: its name, logical box in the compositor's layout, and mode in device pixels."""

    name: str = ""
    description: str = ""
    left: int = 0
    top: int = 0
    width: int = 0  # logical
    height: int = 0
    pixel_width: int = 0  # the current mode
    pixel_height: int = 0
    scale: int = 1  # wl_output's integer scale
    _proxies: list[Any] = field(default_factory=list, repr=False)

    @property
    def ready(self) -> bool:
        """Whether the output's size is known."""
        return self.width > 0 and self.height > 0


_OPEN: weakref.WeakSet[WaylandConnection] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """Disconnect what is still open before the interpreter tears pywayland down: its proxies freed after
    their display (in an order Python's exit picks) crash the process."""
    for conn in list(_OPEN):
        conn.close()


class WaylandConnection:
    """A client connection to the compositor: its globals, and its outputs kept current through xdg-output."""

    def __init__(self, socket: str | None = None) -> None:
        try:
            from pywayland.client import Display
        except ImportError as exc:
            raise NoDisplayError(f"the Python package pywayland is missing ({exc}): pip install pywayland") from None
        self.socket = socket or wayland_socket()
        if not self.socket:
            raise NoDisplayError("WAYLAND_DISPLAY is not set")
        self.display: Any = Display(self.socket)
        try:
            self.display.connect()
        except Exception as exc:
            raise NoDisplayError(f"cannot connect to the Wayland compositor at {self.socket}: {exc}") from None
        self.lock = threading.RLock()  # one pywayland display is not for several threads at once
        self._closed = False
        _OPEN.add(self)
        self.globals: dict[str, tuple[int, int]] = {}  # interface -> (name, version); the last one wins
        self._outputs: dict[int, WaylandOutput] = {}
        self._bound = 0  # how many outputs were bound so far
        self._xdg_manager: Any = None
        self.registry: Any = self.display.get_registry()
        self.registry.dispatcher["global"] = self._on_global
        self.registry.dispatcher["global_remove"] = self._on_global_remove
        self.display.roundtrip()
        if XDG_OUTPUT in self.globals:
            from pywayland.protocol.xdg_output_unstable_v1 import ZxdgOutputManagerV1

            name, version = self.globals[XDG_OUTPUT]
            self._xdg_manager = self.registry.bind(name, ZxdgOutputManagerV1, min(version, 3))
            for out_name in list(self._outputs):
                self._watch_xdg(out_name)
        self.display.roundtrip()
        self.display.roundtrip()

    # -- registry -------------------------------------------------------------------------------------

    def _on_global(self, registry: Any, name: int, interface: str, version: int) -> None:
        self.globals[interface] = (name, version)
        if interface == "wl_output":
            from pywayland.protocol.wayland import WlOutput

            out = WaylandOutput()
            proxy = registry.bind(name, WlOutput, min(version, 4))
            # xdg-output's logical position wins where there is one; wl_output's is the fallback.
            proxy.dispatcher["geometry"] = lambda _p, x, y, *_rest: (
                _set(out, left=x, top=y) if len(out._proxies) < 2 else None)
            proxy.dispatcher["mode"] = lambda _p, flags, w, h, _r: (
                _set(out, pixel_width=w, pixel_height=h) if flags & 1 else None)
            proxy.dispatcher["scale"] = lambda _p, factor: _set(out, scale=factor)
            proxy.dispatcher["name"] = lambda _p, n: _set(out, name=n)
            out._proxies.append(proxy)
            self._outputs[name] = out
            self._bound += 1
            if self._xdg_manager is not None:
                self._watch_xdg(name)

    def _on_global_remove(self, _registry: Any, name: int) -> None:
        self._outputs.pop(name, None)

    def _watch_xdg(self, out_name: int) -> None:
        out = self._outputs[out_name]
        xdg = self._xdg_manager.get_xdg_output(out._proxies[0])
        xdg.dispatcher["logical_position"] = lambda _p, x, y: _set(out, left=x, top=y)
        xdg.dispatcher["logical_size"] = lambda _p, w, h: _set(out, width=w, height=h)
        xdg.dispatcher["name"] = lambda _p, n: _set(out, name=n)
        xdg.dispatcher["description"] = lambda _p, d: _set(out, description=d)
        out._proxies.append(xdg)

    def bind(self, interface: type[Any], version: int) -> Any:
        """Bind the compositor's global for `interface` (a pywayland Interface) at most at `version`."""
        name, offered = self.globals[interface.name]
        return self.registry.bind(name, interface, min(version, offered))

    def roundtrip(self) -> None:
        """Send what is queued and wait until the compositor has handled it (and its answers are read)."""
        with self.lock:
            if self.display.roundtrip() < 0:
                raise NoDisplayError(f"lost the connection to the Wayland compositor at {self.socket}")

    def outputs(self) -> list[WaylandOutput]:
        """The outputs as the compositor reports them now, in the order it announced them."""
        for _ in range(3):  # an output announced during a roundtrip sends its details in the next one
            bound = self._bound
            self.roundtrip()
            if self._bound == bound:
                break
        if self._xdg_manager is None:  # no xdg-output: the logical size is the mode over the integer scale
            for o in self._outputs.values():
                o.width, o.height = o.pixel_width // max(o.scale, 1), o.pixel_height // max(o.scale, 1)
        return [o for o in self._outputs.values() if o.ready]

    def missing(self) -> list[str]:
        """The wlroots protocols this compositor lacks (empty on sway and other wlroots compositors)."""
        return [g for g in WLROOTS_GLOBALS if g not in self.globals]

    def close(self) -> None:
        """Disconnect (once); every proxy of this connection is dead afterwards."""
        with self.lock:
            if self._closed:
                return
            self._closed = True
            _OPEN.discard(self)
            with contextlib.suppress(Exception):
                self.display.disconnect()


def _set(out: WaylandOutput, **values: Any) -> None:
    for k, v in values.items():
        setattr(out, k, v)


def layout_from_outputs(outputs: list[WaylandOutput]) -> ScreenLayout:
    """The agent's monitors from the compositor's outputs: logical boxes (what input takes) and the scale
    device pixels / logical units. Wayland has no primary output: the one at the layout's origin is it."""
    if not outputs:
        raise MonitorLayoutError("the Wayland compositor reports no enabled output")
    monitors = []
    for i, o in enumerate(outputs):
        scale = o.pixel_width / o.width if o.pixel_width else float(o.scale)
        monitors.append(Monitor(i + 1, o.left, o.top, o.width, o.height, round(scale, 4), False, o.name))
    origin = min(monitors, key=lambda m: (m.left != 0 or m.top != 0, m.top, m.left))
    return ScreenLayout(tuple(m if m is not origin else Monitor(m.index, m.left, m.top, m.width, m.height,
                                                                   m.scale, True, m.name) for m in monitors))


def parse_ppm(data: bytes) -> np.ndarray:
    """A binary PPM (P6, 8 bits) as a BGR image."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        if end == pos:
            raise ValueError("truncated PPM header")
        fields.append(data[pos:end])
        pos = end
    magic, w, h, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic != b"P6" or maxval != 255:
        raise ValueError(f"not an 8-bit binary PPM ({magic!r}, maxval {maxval})")
    pos += 1  # the single whitespace after maxval
    pixels = np.frombuffer(data, dtype=np.uint8, count=w * h * 3, offset=pos).reshape(h, w, 3)
    return np.ascontiguousarray(pixels[:, :, ::-1])


class WlrootsScreen:
    """A `Screen` on a wlroots compositor: layout from xdg-output, captures through wlr-screencopy (grim)."""

    def __init__(self, connection: WaylandConnection | None = None) -> None:
        self._conn = connection or WaylandConnection()
        if SCREENCOPY not in self._conn.globals:
            raise NoDisplayError("this Wayland compositor has no wlr-screencopy: it is not wlroots-based "
                                 "(GNOME and KDE need the screen-cast portal, not supported yet)")
        self._grim = shutil.which("grim")
        if self._grim is None:
            raise NoDisplayError("grim is not installed: it captures wlroots outputs (Debian package grim)")

    def layout(self) -> ScreenLayout:
        """The compositor's outputs as monitors."""
        with self._conn.lock:
            layout = layout_from_outputs(self._conn.outputs())
        for m in layout.monitors:
            w, h = round(m.width * m.scale), round(m.height * m.scale)
            why = check_image_size(w, h)
            if why:
                raise MonitorLayoutError(f"output {m.name} captures {w}x{h} pixels, more than desktop-agent reads "
                                         f"(at most {MAX_IMAGE_SIDE} a side and "
                                         f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels)")
        return layout

    def grab(self, monitor: Monitor) -> ScreenFrame:
        """One output's pixels (device pixels) by its name; the whole output, as the monitor is one."""
        if not monitor.name:
            raise AgentError(f"monitor {monitor.index} has no output name to capture on Wayland")
        env = dict(os.environ, WAYLAND_DISPLAY=self._conn.socket or "")
        assert self._grim is not None
        try:
            done = subprocess.run([self._grim, "-o", monitor.name, "-t", "ppm", "-"], env=env,
                                  capture_output=True, timeout=GRIM_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise AgentError(f"capturing output {monitor.name} took over {GRIM_TIMEOUT:g} s") from None
        if done.returncode != 0:
            why = " ".join(done.stderr.decode(errors="replace").split())[:200]
            raise AgentError(f"cannot capture output {monitor.name}: grim: {why or f'exit {done.returncode}'}")
        try:
            image = parse_ppm(done.stdout)
        except (ValueError, IndexError) as exc:
            raise AgentError(f"cannot read the capture of output {monitor.name}: {exc}") from None
        too_big = check_image_size(image.shape[1], image.shape[0])
        if too_big:
            raise MonitorLayoutError(f"the capture of output {monitor.name}: {too_big}")
        return ScreenFrame(image, FrameGeometry(monitor, image.shape[1], image.shape[0]))

    def close(self) -> None:
        """Close the Wayland connection."""
        self._conn.close()
