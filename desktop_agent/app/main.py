"""`desktop-agent app`: the tray app people live with."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="desktop-agent app", description="The desktop-agent tray app.")
    ap.add_argument("--settings", help="settings file (INI); default: the user's QSettings")
    ap.add_argument("--no-tray", action="store_true", help="use the small window even where there is a tray")
    ap.add_argument("--no-hotkeys", action="store_true", help="do not grab global hotkeys")
    ap.add_argument("--screenshots", metavar="DIR",
                    help="save PNGs of every window, light and dark (also busy, first run, notifications), "
                         "with regions.json for the contrast test, and exit")
    ap.add_argument("--task", help="start this task right away (as if typed in the command bar)")
    running = ap.add_mutually_exclusive_group()
    running.add_argument("--summon", action="store_true",
                         help="show the running app's command bar (starting the app if none runs): for a key "
                              "binding of the desktop's own")
    running.add_argument("--stop-run", action="store_true",
                         help="stop the running app's run in progress, as the stop hotkey does")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run the tray app (or save its screenshots) with these arguments; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.screenshots:
        from desktop_agent.app.screenshots import save_screenshots

        for path in save_screenshots(args.screenshots):
            print(path)
        return 0
    forwarded = _to_running_app(args)
    if forwarded is not None:
        return forwarded
    from desktop_agent.capture.session import check_display

    session = check_display()  # detected once: on Wayland that asks the compositor or the desktop portal
    from PySide6.QtCore import QCoreApplication, QEvent, QTimer

    from desktop_agent.app.controller import AppController, make_qapplication

    app = make_qapplication(sys.argv[:1])
    controller = AppController(settings_path=args.settings, use_tray=False if args.no_tray else None,
                               hotkeys=not args.no_hotkeys, session=session)
    server = _listen(controller)
    # SIGTERM/SIGINT quit as Quit does: the same shutdown, in the event loop, and exit status 0.
    signal.signal(signal.SIGINT, lambda *_: controller.quit())
    signal.signal(signal.SIGTERM, lambda *_: controller.quit())
    # Let Python see signals while Qt's loop runs.
    pulse = QTimer()
    pulse.timeout.connect(lambda: None)
    pulse.start(200)
    if not controller.settings.first_run_done:
        controller.show_first_run()  # once: the hotkey, approval, where runs go, a planner
    if args.summon:
        QTimer.singleShot(0, controller, controller.command_bar.summon)
    if args.task:
        QTimer.singleShot(300, controller, lambda: controller.start_task(args.task))
    if controller.hotkey_error:
        print(f"desktop-agent: {controller.hotkey_error}", file=sys.stderr)
    code = app.exec()
    pulse.stop()
    if server is not None:
        server.close()
    controller.shutdown()  # (done already when Quit or a signal ended the loop; once only)
    # Qt deletes the controller (its actions, timer, tray) while the QApplication still exists, not
    # Python's collector at exit in whatever order.
    controller.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return int(code)


def _listen(controller: Any) -> Any:
    """Take commands from later invocations (`--summon`, `--stop-run`); None where that cannot be set up (the
    app works all the same: it says why on stderr)."""
    from desktop_agent.app.instance import instance_socket
    from desktop_agent.app.qt_instance import InstanceServer
    from desktop_agent.errors import AgentError

    try:
        server = InstanceServer(instance_socket(), controller.remote_command, controller)
    except AgentError as exc:
        print(f"desktop-agent: `desktop-agent app --summon` and `--stop-run` cannot reach this app: {exc}",
              file=sys.stderr)
        return None
    if not server.listen():
        print(f"desktop-agent: {server.error}", file=sys.stderr)
        return None
    return server


def _to_running_app(args: argparse.Namespace) -> int | None:
    """Hand `--summon`, `--stop-run` or a second plain start to the app already running on this display (one
    app per user and display); the exit status, or None when no app runs here and this one should start."""
    from desktop_agent.app.instance import send_command
    from desktop_agent.errors import AgentError

    try:
        return _forward(args, send_command)
    except AgentError as exc:
        if args.stop_run:
            raise
        print(f"desktop-agent: {exc}; starting the app", file=sys.stderr)
        return None


def _forward(args: argparse.Namespace, send_command: Any) -> int | None:
    if args.task:  # a task is not handed over: it would start without the person seeing the command bar
        answer = send_command("ping")
        if answer is None:
            return None
        print("desktop-agent: the app is already running on this display; type the task in its command bar "
              "(`desktop-agent app --summon`)", file=sys.stderr)
        return 1
    answer = send_command("stop-run" if args.stop_run else "summon")
    if answer is None:
        if args.stop_run:
            print("desktop-agent: no app is running on this display: there is no run to stop", file=sys.stderr)
            return 1
        return None
    if answer.startswith("error"):
        print(f"desktop-agent: the running app says: {answer}", file=sys.stderr)
        return 1
    if args.stop_run:
        print(f"desktop-agent: {answer.removeprefix('ok: ')}")
    elif not args.summon:
        print("desktop-agent: the app is already running on this display: its command bar is shown")
    return 0
