"""A tiny real X application that, like some desktop apps, claims a fixed path in /tmp: it binds a Unix socket
there, exclusively, and exits with status 1 if another copy holds it. It shows one window and stays up
until SIGTERM, when it removes its socket.

Run: python fixed_tmp_app.py SOCKET_PATH WINDOW_TITLE
On start it writes $HOME/fixed-tmp-app.json: its TMPDIR, D-Bus session address, FIXED_APP_WORD and
GSETTINGS_BACKEND, so a test can see the environment the task gave it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

from Xlib import X, display


def main() -> int:
    path, title = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)  # fails when the file exists: another copy holds the path
    except OSError as exc:
        print(f"fixed_tmp_app: {path} is taken: {exc}", file=sys.stderr)
        return 1
    sock.listen(1)

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    try:
        report = {k: os.environ.get(k) for k in ("TMPDIR", "DBUS_SESSION_BUS_ADDRESS", "FIXED_APP_WORD",
                                                  "GSETTINGS_BACKEND")}
        Path(os.environ["HOME"], "fixed-tmp-app.json").write_text(json.dumps(report), encoding="utf-8")
        d = display.Display()
        screen = d.screen()
        w = screen.root.create_window(50, 50, 240, 120, 0, screen.root_depth, background_pixel=screen.white_pixel,
                                      event_mask=X.ExposureMask)
        w.set_wm_name(title)
        w.set_wm_class("fixedtmpapp", "FixedTmpApp")
        w.change_property(d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"), 8, title.encode())
        w.map()
        d.flush()
        while True:
            d.next_event()
    finally:
        sock.close()
        Path(path).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
