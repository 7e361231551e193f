"""Finding the AT-SPI accessibility bus, switching accessibility on, and a private bus for headless runs.

A desktop session runs `at-spi-bus-launcher` (Debian: at-spi2-core), which starts a second D-Bus daemon,
the accessibility bus, and publishes its address three ways: `AT_SPI_BUS_ADDRESS`, the `AT_SPI_BUS`
property of the X root window, and `org.a11y.Bus.GetAddress` on the session bus. Applications register
there (GTK 3 always, unless `NO_AT_BRIDGE=1`; Qt when `org.a11y.Status.IsEnabled` is true or
`QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1`; Chromium's web content with `--force-renderer-accessibility`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from desktop_agent.perception.accessibility.source import AccessibilityUnavailable

A11Y_BUS = DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.a11y.Bus")
BUS_LAUNCHER = "/usr/libexec/at-spi-bus-launcher"
SETUP_HINT = ("install at-spi2-core; a desktop session starts the AT-SPI bus, a bare X server needs "
              "`dbus-run-session` with /usr/libexec/at-spi-bus-launcher --launch-immediately")


def connect_bus(address: str, timeout: float) -> DBusConnection:
    """Open a connection, bounded: jeepney's handshake has no time limit of its own."""
    box: list[DBusConnection | BaseException] = []

    def run() -> None:
        try:
            box.append(open_dbus_connection(address, auth_timeout=timeout))
        except BaseException as e:
            box.append(e)

    t = threading.Thread(target=run, name="atspi-connect", daemon=True)
    t.start()
    t.join(timeout)
    if not box:
        raise AccessibilityUnavailable(f"the accessibility bus at {address} did not answer within {timeout:g} s")
    if isinstance(box[0], BaseException):
        raise AccessibilityUnavailable(f"cannot connect to the accessibility bus at {address}: {box[0]}")
    return box[0]


def session_bus_address(env: Mapping[str, str] | None = None) -> str | None:
    """The D-Bus session bus: `DBUS_SESSION_BUS_ADDRESS`, else systemd's per-user socket if it exists."""
    env = os.environ if env is None else env
    if env.get("DBUS_SESSION_BUS_ADDRESS"):
        return env["DBUS_SESSION_BUS_ADDRESS"]
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and (Path(runtime) / "bus").exists():
        return f"unix:path={runtime}/bus"
    return None


def _session(env: Mapping[str, str] | None, timeout: float) -> DBusConnection:
    address = session_bus_address(env)
    if address is None:
        raise AccessibilityUnavailable(f"no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): {SETUP_HINT}")
    return connect_bus(address, timeout)


def _x_root_property(display: str) -> str | None:
    """The AT_SPI_BUS property the launcher puts on the X root window, if there is one."""
    try:
        from Xlib import X
        from Xlib import display as xdisplay
    except ImportError:
        return None
    try:
        d = xdisplay.Display(display)
    except Exception:
        return None
    try:
        prop = d.screen().root.get_full_property(d.intern_atom("AT_SPI_BUS"), X.AnyPropertyType)
        if prop is None or not prop.value:
            return None
        value = prop.value
        return (value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)).strip("\0") or None
    finally:
        d.close()


def accessibility_bus_address(env: Mapping[str, str] | None = None, timeout: float = 2.0) -> str:
    """The accessibility bus's address, looked up where libatspi looks: the environment, the X root
    window, then the session bus."""
    env = os.environ if env is None else env
    if env.get("AT_SPI_BUS_ADDRESS"):
        return env["AT_SPI_BUS_ADDRESS"]
    if env.get("DISPLAY") and env.get("XDG_SESSION_TYPE") != "wayland":
        found = _x_root_property(env["DISPLAY"])
        if found:
            return found
    conn = _session(env, timeout)
    try:
        reply = conn.send_and_get_reply(new_method_call(A11Y_BUS, "GetAddress"), timeout=timeout)
    except TimeoutError as e:
        raise AccessibilityUnavailable(f"the AT-SPI bus launcher did not answer: {SETUP_HINT}") from e
    finally:
        conn.close()
    if reply.header.message_type != MessageType.method_return or not reply.body[0]:
        raise AccessibilityUnavailable(f"there is no AT-SPI bus on the session bus: {SETUP_HINT}")
    return str(reply.body[0])


_STATUS = DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.freedesktop.DBus.Properties")
STATUS_FLAGS = ("IsEnabled", "ScreenReaderEnabled")


def set_accessibility_enabled(enabled: bool = True, env: Mapping[str, str] | None = None,
                              timeout: float = 2.0) -> None:
    """Set `org.a11y.Status` `IsEnabled` and `ScreenReaderEnabled`, as a screen reader does: Qt apps started
    afterwards expose their trees without `QT_LINUX_ACCESSIBILITY_ALWAYS_ON` (Qt 5 reads the flags once, at
    start; some Qt 5 builds only the screen-reader one), and Chromium turns on renderer accessibility."""
    conn = _session(env, timeout)
    try:
        for flag in STATUS_FLAGS:
            msg = new_method_call(_STATUS, "Set", "ssv", ("org.a11y.Status", flag, ("b", enabled)))
            reply = conn.send_and_get_reply(msg, timeout=timeout)
            if reply.header.message_type != MessageType.method_return:
                raise AccessibilityUnavailable(f"cannot switch accessibility on: {reply.body}")
    finally:
        conn.close()


def accessibility_enabled(env: Mapping[str, str] | None = None, timeout: float = 2.0) -> bool | None:
    """Whether `org.a11y.Status` says accessibility is on (either flag); None where it cannot be read."""
    try:
        conn = _session(env, timeout)
    except AccessibilityUnavailable:
        return None
    try:
        values = []
        for flag in STATUS_FLAGS:
            reply = conn.send_and_get_reply(new_method_call(_STATUS, "Get", "ss", ("org.a11y.Status", flag)),
                                            timeout=timeout)
            if reply.header.message_type != MessageType.method_return:
                return None
            values.append(bool(reply.body[0][1]))
    except TimeoutError:
        return None
    finally:
        conn.close()
    return any(values)


@dataclass
class PrivateAtspiBus:
    """A private D-Bus session bus with the AT-SPI bus launcher on it, for one X display: what a desktop
    session provides, for headless runs (tests, the training-data harvester). Stopped by its handles."""

    session: subprocess.Popen[bytes]
    launcher: subprocess.Popen[bytes]
    session_address: str
    runtime_dir: Path
    display: str

    @staticmethod
    def start(display: str, timeout: float = 10.0, publish_on_display: bool = True,
              parent: Path | None = None) -> PrivateAtspiBus:
        """`publish_on_display` puts the bus on the X root window, as desktop sessions do: Qt 5 apps then
        expose their trees unasked. Without it apps find the bus on the session bus only, as on Wayland.
        `parent`: where the buses' sockets go (default: the temporary folder), a folder the apps can reach
        (an app in a private /tmp cannot reach sockets in the real one)."""
        for tool in ("dbus-daemon", BUS_LAUNCHER):
            if shutil.which(tool) is None:
                raise AccessibilityUnavailable(f"{tool} is not installed: apt-get install dbus-daemon at-spi2-core")
        runtime = Path(tempfile.mkdtemp(prefix="atspi-run-", dir=parent))
        runtime.chmod(0o700)
        # Services the bus starts on demand (xfconfd, dconf) write their settings here, not in the user's home.
        private = {**os.environ, "HOME": str(runtime), "XDG_CONFIG_HOME": str(runtime / "config"),
                   "XDG_DATA_HOME": str(runtime / "data"), "XDG_CACHE_HOME": str(runtime / "cache")}
        session = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"], env=private,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert session.stdout is not None
        address = session.stdout.readline().decode().strip()
        # GSETTINGS_BACKEND=memory: switching accessibility on here must not persist in the user's dconf.
        env = {**private, "DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address,
               "XDG_RUNTIME_DIR": str(runtime), "GSETTINGS_BACKEND": "memory"}
        if not publish_on_display:
            env.pop("DISPLAY")
        launcher = subprocess.Popen([BUS_LAUNCHER, "--launch-immediately"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bus = PrivateAtspiBus(session, launcher, address, runtime, display)
        try:
            bus._wait_ready(timeout)
        except BaseException:
            bus.stop()
            raise
        return bus

    def _wait_ready(self, timeout: float) -> None:
        # Asking org.a11y.Bus before the launcher owns the name would start a second launcher by activation.
        deadline = time.monotonic() + timeout
        conn = connect_bus(self.session_address, timeout)
        try:
            owner = new_method_call(DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                                                interface="org.freedesktop.DBus"), "NameHasOwner", "s",
                                    ("org.a11y.Bus",))
            while time.monotonic() < deadline:
                if self.launcher.poll() is not None:
                    raise AccessibilityUnavailable("at-spi-bus-launcher exited at start")
                if conn.send_and_get_reply(owner, timeout=timeout).body[0]:
                    break
                time.sleep(0.05)
            else:
                raise AccessibilityUnavailable(f"the AT-SPI bus did not come up within {timeout:g} s")
        finally:
            conn.close()
        # The launcher publishes the bus address once its bus daemon is up.
        while self.address() is None:
            if time.monotonic() > deadline:
                raise AccessibilityUnavailable(f"the AT-SPI bus did not come up within {timeout:g} s")
            time.sleep(0.05)

    def env(self) -> dict[str, str]:
        """What an application (or a reader) on this display needs to find the bus."""
        return {"DISPLAY": self.display, "DBUS_SESSION_BUS_ADDRESS": self.session_address,
                "XDG_RUNTIME_DIR": str(self.runtime_dir)}

    def address(self) -> str | None:
        """The accessibility bus's address, None while it is not up."""
        try:
            return accessibility_bus_address({"DBUS_SESSION_BUS_ADDRESS": self.session_address}, timeout=2.0)
        except AccessibilityUnavailable:
            return None

    def stop(self) -> None:
        """Stop the session bus and the accessibility launcher, and remove their runtime folder."""
        from desktop_agent.capture.virtual_display import stop_process

        stop_process(self.launcher)  # it stops the accessibility bus daemon it started
        stop_process(self.session)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def __enter__(self) -> PrivateAtspiBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
