"""`desktop-agent app`: the tray app people live with."""

from __future__ import annotations

import argparse
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    """Run the tray app (or save its screenshots) with these arguments; returns the exit status."""
    ap = argparse.ArgumentParser(prog="desktop-agent app", description="The desktop-agent tray app.")
    ap.add_argument("--settings", help="settings file (INI); default: the user's QSettings")
    ap.add_argument("--no-tray", action="store_true", help="use the small window even where there is a tray")
    ap.add_argument("--no-hotkeys", action="store_true", help="do not grab global hotkeys")
    ap.add_argument("--screenshots", metavar="DIR",
                    help="save PNGs of every window, light and dark (also busy, first run, notifications), "
                         "with regions.json for the contrast test, and exit")
    ap.add_argument("--task", help="start this task right away (as if typed in the command bar)")
    args = ap.parse_args(argv)
    if args.screenshots:
        from desktop_agent.app.screenshots import save_screenshots

        for path in save_screenshots(args.screenshots):
            print(path)
        return 0
    from desktop_agent.capture.session import check_display

    check_display()
    from PySide6.QtCore import QCoreApplication, QEvent, QTimer

    from desktop_agent.app.controller import AppController, make_qapplication

    app = make_qapplication(sys.argv[:1])
    controller = AppController(settings_path=args.settings, use_tray=False if args.no_tray else None,
                               hotkeys=not args.no_hotkeys)
    # SIGTERM/SIGINT quit as Quit does: the same shutdown, in the event loop, and exit status 0.
    signal.signal(signal.SIGINT, lambda *_: controller.quit())
    signal.signal(signal.SIGTERM, lambda *_: controller.quit())
    # Let Python see signals while Qt's loop runs.
    pulse = QTimer()
    pulse.timeout.connect(lambda: None)
    pulse.start(200)
    if not controller.settings.first_run_done:
        controller.show_first_run()  # once: the hotkey, approval, where runs go, a planner
    if args.task:
        QTimer.singleShot(300, controller, lambda: controller.start_task(args.task))
    if controller.hotkey_error:
        print(f"desktop-agent: {controller.hotkey_error}", file=sys.stderr)
    code = app.exec()
    pulse.stop()
    controller.shutdown()  # (done already when Quit or a signal ended the loop; once only)
    # Qt deletes the controller (its actions, timer, tray) while the QApplication still exists, not
    # Python's collector at exit in whatever order.
    controller.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return int(code)
