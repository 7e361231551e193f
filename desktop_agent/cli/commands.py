"""The CLI's commands other than the evaluations: parse, locate, run, runs, keys, doctor."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType
from typing import Any

from desktop_agent.cli.arguments import MAX_RUN_ID_CHARS, output_file, run_options
from desktop_agent.cli.printing import print_event, print_json, print_outcome, print_parse, print_run, print_runs
from desktop_agent.errors import TargetNotFound, UsageError, one_line


def _screen_frame(args: argparse.Namespace) -> Any:
    """A capture of the monitor --monitor names (default: the primary)."""
    from desktop_agent.capture.session import default_screen

    screen = default_screen(args.monitors)
    try:
        layout = screen.layout()
        if args.monitor is None:
            monitor = layout.primary
        else:
            found = [m for m in layout.monitors if m.index == args.monitor]
            if not found:
                raise UsageError(f"no monitor {args.monitor}: this display has {len(layout.monitors)}")
            monitor = found[0]
        return screen.grab(monitor)
    finally:
        _close(screen)


def _close(screen: Any) -> None:
    """Release a screen's connections and helper processes (the portal's stream readers), where it has any."""
    close = getattr(screen, "close", None)
    if close is not None:
        close()


def _frame(args: argparse.Namespace) -> Any:
    """The frame a command reads: the IMAGE file, or with --screen a capture."""
    from desktop_agent.capture.frame import frame_from_file

    if getattr(args, "screen", False):
        return _screen_frame(args)
    if not args.image:
        raise UsageError("give an IMAGE file or --screen")
    return frame_from_file(args.image)


def _parsed(args: argparse.Namespace, frame: Any) -> Any:
    """The frame parsed; a live screen's fused with the accessibility tree where there is one (not for an
    image file, nor with --no-accessibility)."""
    from desktop_agent.perception.parser import ScreenParser

    parser = ScreenParser()
    if not getattr(args, "screen", False) or args.no_accessibility:
        return parser.parse(frame.image)
    from desktop_agent.perception.accessibility.reader import TreeReader
    from desktop_agent.perception.accessibility.source import default_source

    reader = TreeReader(default_source())
    try:
        pending = reader.start()  # read while the pixels are parsed

        def view() -> Any:
            read = pending.result()
            return read.view(frame.geometry) if read is not None else None

        return parser.parse(frame.image, tree=view)
    finally:
        reader.close()


def cmd_parse(args: argparse.Namespace) -> int:
    """`desktop-agent parse`: the UI elements of an image or a monitor."""
    frame = _frame(args)
    result = _parsed(args, frame)
    if args.json:
        print_json(result.to_dict())
    else:
        print_parse(result)
    return 0


def cmd_locate(args: argparse.Namespace) -> int:
    """`desktop-agent locate`: the point to click for an instruction, or abstain (exit 3)."""
    from desktop_agent.grounding.instruction import MAX_INSTRUCTION_CHARS
    from desktop_agent.grounding.locate import locate_target

    if not args.instruction.strip():
        raise UsageError("the instruction is empty: name the target, e.g. `the Save button`")
    if len(args.instruction) > MAX_INSTRUCTION_CHARS:
        raise UsageError(f"the instruction is {len(args.instruction)} characters long: at most "
                         f"{MAX_INSTRUCTION_CHARS} (name one element, e.g. `the Save button`)")
    frame = _frame(args)
    parsed = _parsed(args, frame)
    try:
        res = locate_target(parsed, args.instruction)
    except TargetNotFound as exc:
        print(one_line(f"abstained: {exc}"), file=sys.stderr)
        return TargetNotFound.exit_code
    out = res.to_dict()
    if args.screen:
        d = frame.geometry.to_desktop(res.point)
        out["desktop"] = [d.x, d.y]
        out["monitor"] = frame.geometry.monitor.index
    if args.json:
        print_json(out)
    else:
        el = res.element
        print(f"({out['x']}, {out['y']})  {el.kind.value} {el.text!r}  score {res.score:.2f}  bbox {out['bbox']}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """`desktop-agent run`: a task, each step approved, acted and verified; the exit code tells how it ended."""
    from desktop_agent.planning.choice import make_planner
    from desktop_agent.planning.script import check_task_text

    check_task_text(args.task)  # a script or a goal: UTF-8, bounded
    options = run_options(args)
    planner = make_planner(options.planner_options(), args.task)  # a bad script or model fails before anything runs
    from desktop_agent.assemble import assemble_run, run_screen
    from desktop_agent.capture.session import check_display, default_driver, default_screen
    from desktop_agent.perception.parser import ScreenParser
    from desktop_agent.runs.store import RunStore

    session = check_display()  # the session is read once: on a portal desktop that asks D-Bus and GStreamer
    real_screen: Any = default_screen(options.monitors, session=session)
    try:
        real_screen.layout()  # a layout off the real screen is refused here, before a run is recorded
    except BaseException:
        _close(real_screen)
        raise
    store = RunStore()
    screen = run_screen(options, real_screen)  # HiDPI emulation where the environment asks for it (evaluation only)
    driver = default_driver(session)
    run = assemble_run(options, screen=screen, parser=ScreenParser(), driver=driver, store=store,
                       on_event=print_event)

    def on_term(signum: int, frame: FrameType | None) -> None:
        run.agent.abort()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    # Ctrl+C stops the run cleanly even where the launcher ignored SIGINT (a background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        outcome = run.agent.run(args.task, planner, run.approve_mode)
    finally:
        driver.close()
        run.close()
        _close(real_screen)
    print_outcome(outcome)
    return int(outcome.exit_code)


def cmd_keys(args: argparse.Namespace) -> int:
    """`desktop-agent keys set|delete`: a provider's API key in the OS keyring."""
    from desktop_agent.api_keys import check_provider, delete_api_key, read_key, set_api_key

    check_provider(args.provider)
    if args.keys_cmd == "set":
        key = read_key(args.provider)
        backend = set_api_key(args.provider, key)
        print(f"stored the {args.provider} key in the OS keyring ({backend})")
        return 0
    if delete_api_key(args.provider):
        print(f"deleted the {args.provider} key from the OS keyring")
        return 0
    print(f"no {args.provider} key in the OS keyring", file=sys.stderr)
    return 1


def cmd_runs(args: argparse.Namespace) -> int:
    """`desktop-agent runs list|show|export`: the run database, opened read-only."""
    from desktop_agent.errors import RunNotFound
    from desktop_agent.runs.store import RunStore

    if args.runs_cmd != "list" and len(args.run_id) > MAX_RUN_ID_CHARS:  # not an id, nor a part of one
        raise RunNotFound(args.run_id)
    store = RunStore(readonly=True)  # reading never creates, migrates or writes anything
    if args.runs_cmd == "list":
        runs = store.list_runs(args.limit)
        if args.json:
            print_json([r.__dict__ for r in runs])
        else:
            print_runs(runs, store.path)
        return 0
    run = store.get_run(args.run_id)
    if args.runs_cmd == "show":
        steps = store.steps(run.id)
        if args.json:
            print_json({"run": run.__dict__, "steps": [s.__dict__ for s in steps]})
        else:
            print_run(run, steps)
        return 0
    return _export_run(args, store, run)


def _export_run(args: argparse.Namespace, store: Any, run: Any) -> int:
    """`runs export ID --html`: the run as a self-contained HTML report."""
    from desktop_agent.runs.report import run_report_html

    if not args.html:
        raise UsageError("choose a format: `desktop-agent runs export ID --html`")
    out = output_file(args.output or f"desktop-agent-run-{run.id}.html", "-o")
    out.write_text(run_report_html(store, run), encoding="utf-8")
    print(out)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """`desktop-agent doctor`: what this machine has; exit 1 on a problem."""
    from desktop_agent.doctor import collect, format_report

    report = collect()
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
    return 0 if report["ok"] else 1
