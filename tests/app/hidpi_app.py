"""The whole app in a process of its own, so that Qt's scaling (QT_SCALE_FACTOR, QT_SCREEN_SCALE_FACTORS, set
before its QApplication exists) applies: it runs one task and reports, one JSON line each on stdout, what a
test checks from outside on the X server: `asked` (the step waits; the overlay's and the app's windows by
X11 id, the box the overlay frames, the input point), then, once the test writes `approve` on stdin, the
click is approved in the panel, and `finished` (the run's id and status).

python -m tests.app.hidpi_app HOME TASK --timeline X,Y,W,H (logical units)"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer


def say(**event: Any) -> None:
    print(json.dumps(event), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("home")
    ap.add_argument("task")
    ap.add_argument("--timeline", required=True)
    args = ap.parse_args()

    from desktop_agent.agent import RunOutcome
    from desktop_agent.app.controller import AppController, make_qapplication
    from desktop_agent.app.settings import AppSettings

    app = make_qapplication(["hidpi-app"])
    home = Path(args.home)
    c = AppController(AppSettings(data_folder=str(home), auto_approve=[]), settings_path=str(home / "settings.ini"),
                      use_tray=False, hotkeys=False)
    c._timeline_placed = True
    x, y, w, h = (int(v) for v in args.timeline.split(","))
    c.timeline.setMinimumSize(0, 0)
    c.timeline.setMaximumSize(w, h)  # exactly where the test put it, whatever the style's minimum
    c.timeline.setGeometry(x, y, w, h)
    c.show_timeline()

    def windows() -> dict[str, int]:
        """Every window of the app on screen (what it must blank), by X11 id; the overlay's are apart."""
        named = {c.timeline: "timeline", c.panel: "panel", c.command_bar: "command_bar"}
        return {named.get(w, f"{type(w).__name__}-{i}"): int(w.winId())
                for i, w in enumerate(c.own_windows()) if w.isVisible()}

    lines: queue.Queue[str] = queue.Queue()

    def read_stdin() -> None:
        for raw in sys.stdin:
            lines.put(raw.strip())

    threading.Thread(target=read_stdin, daemon=True).start()
    state = {"reported": False, "approving": False}

    def poll() -> None:
        # Everything from the GUI thread: the agent's and the stdin reader's threads only leave traces here.
        proposal = c.panel.proposal
        if proposal is not None and not state["reported"] and c.overlay.visible and c.overlay.box is not None:
            state["reported"] = True
            app.sync()
            t = proposal.targets[0]
            say(event="asked", overlay=[int(e.winId()) for e in c.overlay.edges], box=c.overlay.box.as_list(),
                desktop=[t.desktop.x, t.desktop.y], windows=windows(),
                regions=[r.as_list() for r in c.regions.get()],
                screens=[[s.name(), s.geometry().getRect(), s.devicePixelRatio()] for s in app.screens()])
        while not lines.empty():
            if lines.get() == "approve":
                state["approving"] = True
        if state["approving"] and c.panel.armed:
            state["approving"] = False
            c.panel.approve.click()

    def finished(outcome: Any) -> None:
        if isinstance(outcome, RunOutcome):
            say(event="finished", run_id=outcome.run_id, status=outcome.status, message=outcome.message)
        else:
            say(event="finished", run_id=None, status="error", message=str(outcome))
        c.quit()

    c.run_finished.connect(finished)
    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(100)
    QTimer.singleShot(500, lambda: say(event="started", windows=windows()))
    QTimer.singleShot(600, lambda: c.start_task(args.task))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
