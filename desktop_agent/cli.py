"""The `desktop-agent` command: a thin front end over the core (parse, locate, run, runs, eval, doctor).

Every error reaches the user as one line on stderr, `desktop-agent: ...`, and a documented exit code
(README, "Using the command line"): bad input is refused with 2 before any work is done or anything is
recorded or clicked.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

# OpenCV reads its log level once, when it loads: its "[ WARN:0@...]" lines never reach the terminal.
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

from desktop_agent import __version__
from desktop_agent.errors import AgentError, TargetNotFound, UsageError, one_line, quote

MAX_RUN_ID_CHARS = 64  # run ids are 20 characters (20251130-034512-ab12); `runs show` takes a part of one


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=None))


def _error_line(message: str) -> None:
    print(f"desktop-agent: {one_line(message)}", file=sys.stderr)


def _int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}, not {quote(text, 20)}")
        return value

    parse.__name__ = "number"
    return parse


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (and exit 2) like every other error of the CLI."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"desktop-agent: {one_line(message)} (see `{self.prog} --help`)\n")


def _non_utf8_argument(argv: Sequence[str]) -> str | None:
    """The first argument that held bytes which are not UTF-8 (Python passes them as lone surrogates)."""
    for arg in argv:
        if any("\ud800" <= ch <= "\udfff" for ch in arg):
            return arg
    return None


def _output_file(path: str, flag: str) -> Path:
    """`path` as a file the command can write at the end of its work, checked before the work starts."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{flag} {quote(path)} is a folder: name a file in it")
    parent = p.parent
    if not parent.is_dir():
        raise UsageError(f"{flag} {quote(path)}: the folder {quote(str(parent))} does not exist (create it first)")
    if not os.access(parent, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise UsageError(f"{flag} {quote(path)} cannot be written: permission denied")
    return p


def _output_folder(path: str, flag: str) -> Path:
    """`path` as a folder the command can create (with its parents) and write in, checked up front."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(f"{flag} {quote(path)} is a file: name a folder")
    existing = p
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{flag} {quote(path)}: {quote(str(existing))} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {quote(path)} cannot be written: permission denied in {quote(str(existing))}")
    return p


def _screen_frame(args: argparse.Namespace) -> Any:
    from desktop_agent.capture.session import default_screen

    screen = default_screen(args.monitors)
    layout = screen.layout()
    if args.monitor is None:
        monitor = layout.primary
    else:
        found = [m for m in layout.monitors if m.index == args.monitor]
        if not found:
            raise UsageError(f"no monitor {args.monitor}: this display has {len(layout.monitors)}")
        monitor = found[0]
    return screen.grab(monitor)


def _frame(args: argparse.Namespace) -> Any:
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
    frame = _frame(args)
    result = _parsed(args, frame)
    if args.json:
        _print_json(result.to_dict())
        return 0
    t = result.timings
    print(f"{len(result.elements)} elements in {result.width}x{result.height} "
          f"({t['total']:.0f} ms: OCR detection {t['ocr_det']:.0f}, recognition {t['ocr_rec']:.0f}, "
          f"elements {t['detect']:.0f}, merge {t['merge']:.0f}, icons {t.get('icons', 0):.0f})")
    for el in result.elements:
        b = el.bbox
        meaning = f"  (icon: {el.icon[0][0]} {el.icon[0][1]:.2f})" if el.icon else ""
        tree = f"  [{el.origin}: {el.role}]" if el.role else ""
        print(f"{el.id:4d}  {el.kind.value:9s} [{b.x1:.0f},{b.y1:.0f},{b.x2:.0f},{b.y2:.0f}]  "
              f"{el.confidence:.2f}  {el.text}{meaning}{tree}")
    return 0


def cmd_locate(args: argparse.Namespace) -> int:
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
        _print_json(out)
    else:
        el = res.element
        print(f"({out['x']}, {out['y']})  {el.kind.value} {el.text!r}  score {res.score:.2f}  bbox {out['bbox']}")
    return 0


def _stop_on_signals() -> None:
    """Ctrl+C (and SIGTERM) stop a long command as KeyboardInterrupt, which it turns into a partial result;
    also where the launcher ignored SIGINT (a background job of a script)."""

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_term)


def _ignore_signals() -> None:
    """Once a long command has stopped: a second Ctrl+C must not cut its partial report short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def cmd_eval_grounding(args: argparse.Namespace) -> int:
    from desktop_agent.errors import DatasetError
    from desktop_agent.evaluation.grounding import evaluate_grounding, load_samples, write_predictions
    from desktop_agent.progress import Progress

    folder = Path(args.dir)
    out = _output_file(args.out, "--out") if args.out else None
    samples = load_samples(folder)  # a set that cannot be read, or an empty one: refused before the models load
    _stop_on_signals()
    from desktop_agent.perception.parser import ScreenParser

    parser = ScreenParser()
    bar = Progress(len(samples), "eval grounding", "sample")
    report = evaluate_grounding(folder, parser, lambda done, total: bar.update(done), samples)
    if report.interrupted:
        _ignore_signals()
    bar.close(stopped=report.interrupted)
    if out:
        write_predictions(report, out)
    print(report.format())
    if report.interrupted:
        _error_line(f"interrupted: {report.partial_note()}" + (f" (predictions so far in {out})" if out else ""))
        return 130
    if report.errors:
        raise DatasetError(f"{len(report.errors)} of {report.total} samples are errors, not scored (listed in the "
                           f"report); {report.total - len(report.errors)} were scored")
    return 0


def cmd_eval_tasks(args: argparse.Namespace) -> int:
    from desktop_agent.evaluation.task_suite import DEFAULT_SUITE, load_suite
    from desktop_agent.runs.store import data_home

    out_arg = _output_folder(args.out, "--out") if args.out else None
    try:
        tasks = load_suite(Path(args.suite) if args.suite else DEFAULT_SUITE)
    except AgentError as exc:  # a task file that cannot be used is bad input
        raise UsageError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the task suite: {exc}") from None
    if args.only:
        wanted = {n for part in args.only for n in part.split(",") if n}
        unknown = wanted - {t.name for t in tasks}
        if unknown:
            raise UsageError(f"no task named {quote(', '.join(sorted(unknown)))}: see `desktop-agent eval tasks "
                             "--list`")
        tasks = [t for t in tasks if t.name in wanted]
    if args.list:
        for t in tasks:
            print(t.name)
        return 0
    planner_args: list[str] = []
    for flag in ("model", "mmproj", "base_url", "api_key_env", "price"):
        value = getattr(args, flag)
        if value:
            planner_args += [f"--{flag.replace('_', '-')}", value]
    if args.text_only:
        planner_args.append("--text-only")
    if args.accessibility != "off" and args.stepwise:
        raise UsageError("--accessibility on/both runs whole tasks: leave out --stepwise")
    _check_suite_programs(tasks, args.accessibility != "off")
    home = data_home()
    out = out_arg or home / "evals" / time.strftime("%Y%m%d-%H%M%S")
    _stop_on_signals()
    if args.accessibility == "off":
        report = _run_suite_with_progress(args, tasks, home, planner_args, "eval tasks")
        return _finish_suite(report, out)
    return _eval_tasks_accessibility(args, tasks, home, out, planner_args)


# Programs the task suite itself runs, beside each task's apps (Debian packages of
# packaging/debian-packages-suite.txt, installed by `./scripts/setup.sh --suite`).
SUITE_PROGRAMS = ("openbox", "xdotool")
CHECK_PROGRAMS = {"cells": "ssconvert", "clipboard": "xclip"}
SETUP_SUITE_HINT = "install the task suite's applications: ./scripts/setup.sh --suite"


def _check_suite_programs(tasks: list[Any], accessibility: bool) -> None:
    """Every program the chosen tasks need is installed, or one line saying which are not and how to get them
    (before any desktop is started)."""
    import shutil

    from desktop_agent.capture.monitor_display import dummy_available

    needed: dict[str, list[str]] = {p: [] for p in SUITE_PROGRAMS}  # program -> the tasks that need it
    if accessibility:
        needed["dbus-daemon"] = []
    for t in tasks:
        for app in t.apps:
            needed.setdefault(app.cmd[0], []).append(t.name)
        for c in t.check:
            if c.kind in CHECK_PROGRAMS:
                needed.setdefault(CHECK_PROGRAMS[c.kind], []).append(t.name)
    missing = sorted(p for p in needed if "/" not in p and shutil.which(p) is None)
    multi = [t.name for t in tasks if t.monitors]
    if multi and not dummy_available():  # the second-monitor tasks run on Xorg with the dummy video driver
        missing.append(dummy := "Xorg's dummy driver")
        needed[dummy] = multi

    def who(program: str) -> str:
        names = needed[program]
        if not names:
            return "every task"
        return f"task {names[0]}" + (f" and {len(names) - 1} more" if len(names) > 1 else "")

    if missing:
        raise AgentError(f"not installed: {', '.join(f'{p} ({who(p)})' for p in missing)}; {SETUP_SUITE_HINT}")


def _run_suite_with_progress(args: argparse.Namespace, tasks: list[Any], home: Path, planner_args: list[str],
                             label: str, environment: Any = None) -> Any:
    """run_suite with each task's line as it ends (stdout) and the progress with rate and ETA (stderr)."""
    from desktop_agent.evaluation.task_runner import run_suite
    from desktop_agent.progress import Progress

    bar = Progress(len(tasks), label, "task", announce=True)  # each task takes minutes: say it started

    def progress(r: Any) -> None:
        bar.write(f"{r.name:40s} {'ok  ' if r.success else 'FAIL'} {r.steps:3d} steps {r.seconds:6.1f} s  "
                  f"{r.failure + ': ' if r.failure else ''}{r.detail}")
        bar.update(bar.done + 1)

    extra = {"environment": environment} if environment is not None else {}
    report = run_suite(tasks, home, args.planner, planner_args, args.stepwise, progress, **extra)
    if report.interrupted:
        _ignore_signals()
    bar.close(stopped=report.interrupted)
    return report


def _finish_suite(report: Any, out: Path) -> int:
    """Write a suite's report, print its summary (the per-task lines were printed as the tasks ended)."""
    js, page = report.write(out)
    print("\n".join(report.format().splitlines()[len(report.results):]))
    print(f"report: {page}\njson: {js}")
    if report.interrupted:
        _error_line(f"interrupted: {report.partial_note()}")
        return 130
    return 0 if all(r.success for r in report.results) else 1


def _eval_tasks_accessibility(args: argparse.Namespace, tasks: list[Any], home: Path, out: Path,
                              planner_args: list[str]) -> int:
    """`eval tasks --accessibility on|both`: the suite with the apps' accessibility trees on (an AT-SPI bus
    per task, the agent fusing the tree), and for `both` again with them off; one report each."""
    from desktop_agent.evaluation.task_accessibility import AccessibleTaskEnvironment
    from desktop_agent.evaluation.task_env import TaskEnvironment

    modes = ["on", "off"] if args.accessibility == "both" else ["on"]
    reports = []
    for mode in modes:
        print(f"-- accessibility {mode}", flush=True)
        env_kind, extra = ((AccessibleTaskEnvironment, []) if mode == "on"
                           else (TaskEnvironment, ["--no-accessibility"]))
        report = _run_suite_with_progress(args, tasks, home, planner_args + extra, f"eval tasks (accessibility {mode})",
                                          env_kind)
        report.mode = f"{report.mode}, accessibility {mode}"
        code = _finish_suite(report, out / f"accessibility-{mode}")
        if report.interrupted:
            return code  # the other mode is not started
        reports.append(report)
    if len(reports) == 2:
        on, off = (r.summary() for r in reports)
        print(f"accessibility on: {on['succeeded']}/{on['tasks']}, off: {off['succeeded']}/{off['tasks']}")
    return 0 if all(r.success for rep in reports for r in rep.results) else 1


def _print_event(event: Any) -> None:
    from desktop_agent.agent.events import EventKind
    from desktop_agent.runs.wording import answer_cost

    step = f"step {event.step + 1}: " if event.step is not None else ""
    kind = event.kind
    if kind == EventKind.RUN_STARTED:
        print(f"run {event.run_id} ({event.data.get('planner')}): {event.message}", flush=True)
    elif kind == EventKind.STEP_PLANNED:
        if event.data.get("usage"):  # a model planned it: show why, and what it cost
            print(f"  {step}{event.message}  ({event.data.get('reason', '')}; {answer_cost(event.usage)})", flush=True)
        else:
            print(f"  {step}{event.message}", flush=True)
    elif kind == EventKind.STEP_LOCATED:
        risk = f"  [needs explicit approval: {event.data['risk']}]" if event.data.get("risk") else ""
        print(f"  {step}{event.message}{risk}", flush=True)
    elif kind == EventKind.STEP_REJECTED:
        print(f"  {step}model answer rejected: {event.message}", flush=True)
    elif kind == EventKind.STEP_ANSWERED:
        print(f"  {step}you answered: {event.message}", flush=True)
    elif kind in (EventKind.STEP_DONE, EventKind.STEP_SKIPPED):
        print(f"  {step}{'verified: ' if kind == EventKind.STEP_DONE else ''}{event.message}", flush=True)
    elif kind == EventKind.STEP_FAILED:
        print(f"  {step}FAILED: {event.message}", flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    from desktop_agent.planning.choice import make_planner
    from desktop_agent.planning.script import check_task_text

    check_task_text(args.task)  # a script or a goal: UTF-8, bounded
    planner = make_planner(_planner_options(args), args.task)  # a bad script or model fails before anything runs
    from desktop_agent.agent import Agent, AgentSettings
    from desktop_agent.agent.approval import approver_for
    from desktop_agent.capture.session import check_display, default_driver, default_screen
    from desktop_agent.runs.store import RunStore

    check_display()
    from desktop_agent.perception.parser import ScreenParser

    screen: Any = default_screen(args.monitors)
    screen.layout()  # a layout off the real screen is refused here, before a run is recorded
    store = RunStore()
    approver, args.approve = approver_for(args.approve, args.planner, args.dry_run)
    scale = os.environ.get("DESKTOP_AGENT_EMULATE_SCALE")
    if scale:  # evaluation only: show the agent HiDPI captures of a display that cannot make them (Xvfb)
        from desktop_agent.capture.scaled import ScaledScreen

        screen = ScaledScreen(screen, float(scale))
    driver = default_driver()
    accessibility = None
    if not args.no_accessibility:  # fused with the pixels at each step; where there is no tree, pixels only
        from desktop_agent.perception.accessibility.source import default_source

        accessibility = default_source()
    agent = Agent(screen, ScreenParser(), driver, store, approver,
                  AgentSettings(max_steps=args.max_steps), on_event=_print_event, accessibility=accessibility)

    def on_term(signum: int, frame: FrameType | None) -> None:
        agent.abort()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    # Ctrl+C stops the run cleanly even where the launcher ignored SIGINT (a background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        outcome = agent.run(args.task, planner, args.approve)
    finally:
        driver.close()
        if accessibility is not None:
            accessibility.close()
    verb = {"succeeded": "succeeded", "partial": "PARTIAL", "failed": "FAILED", "aborted": "ABORTED"}[outcome.status]
    print(one_line(f"run {outcome.run_id} {verb}: {outcome.message}"),
          file=sys.stdout if outcome.exit_code == 0 else sys.stderr)
    return outcome.exit_code


def _planner_options(args: argparse.Namespace) -> Any:
    from desktop_agent.planning.backends.pricing import parse_price
    from desktop_agent.planning.choice import PlannerOptions

    return PlannerOptions(kind=args.planner, model=args.model, mmproj=args.mmproj, chat_handler=args.chat_handler,
                          n_ctx=args.ctx, base_url=args.base_url, api_key_env=args.api_key_env,
                          response_format=args.response_format,
                          price=parse_price(args.price) if args.price else None, recent_images=args.images,
                          vision=not args.text_only, system_role=not args.no_system_role)


def cmd_keys(args: argparse.Namespace) -> int:
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
    from desktop_agent.errors import RunNotFound
    from desktop_agent.runs.store import RunStore

    if args.runs_cmd != "list" and len(args.run_id) > MAX_RUN_ID_CHARS:  # not an id, nor a part of one
        raise RunNotFound(args.run_id)
    store = RunStore(readonly=True)  # reading never creates, migrates or writes anything
    if args.runs_cmd == "list":
        runs = store.list_runs(args.limit)
        if args.json:
            _print_json([r.__dict__ for r in runs])
            return 0
        if not runs:
            print(f"no runs yet in {store.path}")
        for r in runs:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started_at))
            task = " ".join(r.task.replace(";", "; ").split()) if "\n" in r.task else r.task
            print(f"{r.id}  {when}  {r.status:11s} {r.step_count:3d} steps  {r.planner:7s} {task[:60]}")
        return 0
    run = store.get_run(args.run_id)
    if args.runs_cmd == "show":
        steps = store.steps(run.id)
        if args.json:
            _print_json({"run": run.__dict__, "steps": [s.__dict__ for s in steps]})
            return 0
        print(f"run {run.id}: {run.status} {run.message}\ntask: {run.task}\nplanner: {run.planner}, "
              f"approval: {run.approve}")
        from desktop_agent.runs.record import TargetRecord, Usage
        from desktop_agent.runs.wording import answer_cost, money, target_place

        for s in steps:
            where = f" {target_place(TargetRecord.of(s.target))}" if s.target else ""
            detail = s.error or (s.verify or {}).get("detail", "")
            print(f"  {s.idx + 1}. {s.description}{where}: {s.status} {detail}")
            if s.usage:
                why = f"; reason: {s.reason}" if s.reason else ""
                print(f"     model: {answer_cost(Usage.of(s.usage))}{why}")
        spent = [Usage.of(s.usage) for s in steps if s.usage]
        if spent:
            costs = [u.cost_usd for u in spent if u.cost_usd is not None]
            print(f"model total: {sum(u.tokens for u in spent):.0f} tokens over {len(spent)} answers"
                  + (f", {money(sum(costs))}" if costs else ""))
        return 0
    # export
    from desktop_agent.runs.report import run_report_html

    if not args.html:
        raise UsageError("choose a format: `desktop-agent runs export ID --html`")
    out = _output_file(args.output or f"desktop-agent-run-{run.id}.html", "-o")
    out.write_text(run_report_html(store, run), encoding="utf-8")
    print(out)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from desktop_agent.doctor import collect, format_report

    report = collect()
    if args.json:
        _print_json(report)
    else:
        print(format_report(report))
    return 0 if report["ok"] else 1


EXIT_CODES = """\
exit codes:
  0    done: the result was printed (`run`: every step ran and was verified)
  1    other errors: no display or the X display went away, the OS keyring cannot be reached, a file
       system error, a program the task suite needs is not installed; `doctor`: a problem (not a warning)
  2    bad input, refused before any work: a script step, an option out of range, an image that cannot
       be read, an unknown run, an evaluation set that cannot be read or has error samples, ...
  3    target not on screen (`locate` and `run` abstained)
  4    approval refused or not possible
  5    a step had no visible effect (or a model planner could not finish)
  6    the person skipped a step (the rest verified)
  7    the model could not be loaded or reached
  130  stopped: Ctrl+C, SIGTERM, the stop request or pyautogui's fail-safe; `eval grounding` and `eval
       tasks` print the figures over what was done, marked PARTIAL
Every error is one line on stderr: `desktop-agent: ...`. Details: README, "Using the command line".
"""


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="desktop-agent", description="A local-first computer-use agent.", epilog=EXIT_CODES,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"desktop-agent {__version__}",
                   help="print the version and exit")
    sub = p.add_subparsers(dest="cmd", required=True, title="commands", metavar="COMMAND")

    def screen_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--screen", action="store_true", help="capture the screen instead of reading IMAGE")
        sp.add_argument("--monitor", type=_int_in(1, 64), help="monitor number for --screen (default: the primary)")
        sp.add_argument("--monitors", help="explicit layout, e.g. 1920x1080+0+0*,1280x1024+1920+0")
        sp.add_argument("--json", action="store_true", help="print JSON")
        sp.add_argument("--no-accessibility", action="store_true",
                        help="with --screen: pixels only, without the accessibility tree's names, roles and states")

    sp = sub.add_parser("parse", help="list the UI elements of a screenshot",
                        description="List the UI elements of a screenshot (or of a monitor with --screen): id, kind, "
                                    "box [x1, y1, x2, y2] in image pixels, confidence, text.")
    sp.add_argument("image", nargs="?", help="screenshot file (PNG, JPEG, ...; or --screen)")
    screen_opts(sp)
    sp.set_defaults(func=cmd_parse)

    sp = sub.add_parser("locate", help="find the element an instruction names (exit 3: not confident)",
                        description="Find the element an instruction names and the point to click. Prints the point "
                                    "(x, y), the element's kind and text, the score and the box of the text that "
                                    "matched; --json prints {x, y, bbox, score, element}: bbox is the matched text's "
                                    "box, element.bbox the whole element's (e.g. the button around the label).")
    sp.add_argument("image", nargs="?", help="screenshot file (or --screen)")
    sp.add_argument("instruction",
                    help='what to find, e.g. "Save", \'click the "Save As…" button\', "the search field"')
    screen_opts(sp)
    sp.set_defaults(func=cmd_locate)

    sp = sub.add_parser("run", help="run a task on the screen",
                        description="Run a task on the screen: each step is located, shown, approved, sent as real "
                                    "input and verified from a fresh screenshot; every step is recorded.")
    sp.add_argument("task", help='a script for the direct planner: click "File"; click "Save As…"; '
                    'type "x" into "Name"; press enter. With a model planner: the goal in plain words')
    sp.add_argument("--planner", default="direct", choices=["direct", "llama", "openai", "anthropic"],
                    help="direct: run the script (no model); llama: a local GGUF model in process; openai: any "
                         "OpenAI-compatible server; anthropic: Claude")
    mo = sp.add_argument_group("model planners")
    mo.add_argument("--model", help="llama: path to a .gguf file; openai/anthropic: the model name")
    mo.add_argument("--mmproj", help="llama: the vision projector .gguf of a vision model (Qwen2.5-VL, UI-TARS, ...)")
    mo.add_argument("--chat-handler", default="mtmd", help="llama with --mmproj: mtmd (default), qwen25vl, llava15...")
    mo.add_argument("--ctx", type=_int_in(512, 1_048_576), default=8192,
                    help="llama: context length in tokens (512 to 1048576)")
    mo.add_argument("--base-url", help="openai: the server, e.g. http://127.0.0.1:8080/v1 (Ollama: :11434/v1)")
    mo.add_argument("--api-key-env", help="read the API key from this environment variable")
    mo.add_argument("--response-format", default="auto",
                    choices=["auto", "json_schema", "json_object_schema", "json_object", "none"],
                    help="openai: how to ask for JSON (auto tries the most precise first)")
    mo.add_argument("--price", help="dollars per million input,output tokens, for the cost column (e.g. 3,15)")
    mo.add_argument("--images", type=_int_in(0, 10), default=2,
                    help="screenshots sent as images per step (K, 0 to 10; default 2)")
    mo.add_argument("--text-only", action="store_true", help="openai: the model takes no images")
    mo.add_argument("--no-system-role", action="store_true",
                    help="openai: put the instructions in the user message (for Gemma served by llama.cpp)")
    sp.add_argument("--approve", default="ask", choices=["ask", "auto"],
                    help="ask before every step (default) or approve all (risky steps of a model planner still "
                         "need a person)")
    sp.add_argument("--dry-run", action="store_true",
                    help="plan and locate every step, record it with its target, send no input (all skipped)")
    sp.add_argument("--max-steps", type=_int_in(1, 1000), default=50,
                    help="stop the run after this many steps (1 to 1000; default 50)")
    sp.add_argument("--monitors", help="explicit monitor layout, e.g. 1280x800+1024+0*,1024x768+0+0")
    sp.add_argument("--no-accessibility", action="store_true",
                    help="pixels only: do not read the accessibility tree (AT-SPI), which otherwise gives exact "
                         "names, roles and states where apps publish them (a password field by its role)")
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("runs", help="browse and export recorded runs (read-only)",
                        description="Browse and export the runs recorded in the run database (opened read-only).")
    rs = sp.add_subparsers(dest="runs_cmd", required=True, title="commands", metavar="COMMAND")
    r1 = rs.add_parser("list", help="the latest runs, newest first", description="The latest runs, newest first.")
    r1.add_argument("--limit", type=_int_in(1, 100_000), default=30,
                    help="show at most this many runs (1 to 100000; default 30)")
    r1.add_argument("--json", action="store_true", help="print a JSON list of the runs' records")
    r2 = rs.add_parser("show", help="one run and its steps", description="One run and its steps.")
    r2.add_argument("run_id", help="the run's ID (as `runs list` prints it), or a unique part of it")
    r2.add_argument("--json", action="store_true", help="print {run, steps} as JSON")
    r3 = rs.add_parser("export", help="one run as a self-contained HTML report",
                       description="One run as a self-contained HTML report (screenshots embedded).")
    r3.add_argument("run_id", help="the run's ID (as `runs list` prints it), or a unique part of it")
    r3.add_argument("--html", action="store_true", help="a self-contained HTML report (the one format)")
    r3.add_argument("-o", "--output", help="the file to write (default: desktop-agent-run-ID.html here)")
    sp.set_defaults(func=cmd_runs)

    sp = sub.add_parser("eval", help="evaluations: grounding on a ScreenSpot-format set, the desktop task suite",
                        description="Evaluations. Both show their progress on stderr (done/total, rate, ETA); Ctrl+C "
                                    "stops them and prints the figures over what was done, marked PARTIAL (exit 130).")
    es = sp.add_subparsers(dest="eval_cmd", required=True, title="commands", metavar="COMMAND")
    e1 = es.add_parser("grounding", help="score a ScreenSpot-format folder",
                       description="Locate every sample's target in a ScreenSpot-format folder and print accuracy, "
                                   "wrong clicks and the risk-coverage table.")
    e1.add_argument("dir", help="the folder: annotations.json and the images it names")
    e1.add_argument("--out", help="write the predictions here, one JSON line per sample (also when interrupted)")
    e1.set_defaults(func=cmd_eval_grounding)
    e2 = es.add_parser("tasks", help="run the task suite on fresh desktops and check the outcomes",
                       description="Run the task suite on fresh desktops with real applications and check the "
                                   "outcomes (the applications: ./scripts/setup.sh --suite).")
    e2.add_argument("suite", nargs="?", help="a folder of task files (default: the suite in the repository)")
    e2.add_argument("--planner", default="direct", choices=["direct", "llama", "openai", "anthropic"],
                    help="direct (default): each task's reference script; a model planner: each task's goal")
    e2.add_argument("--only", action="append", help="run only these tasks (name, or names separated by commas)")
    e2.add_argument("--list", action="store_true", help="print the task names, one per line")
    e2.add_argument("--stepwise", action="store_true",
                    help="step-controlled: replay the reference steps before each step, score each step alone "
                         "(direct: the step's grounding; a model planner: its plan against the reference step)")
    e2.add_argument("--out", help="folder for tasks.json and tasks.html (default: the data folder's evals/)")
    e2.add_argument("--accessibility", choices=["off", "on", "both"], default="off",
                    help="off (default): apps without their accessibility trees, pixels only; on: an AT-SPI bus "
                         "per task and the agent fusing the tree with the pixels; both: the suite both ways, one "
                         "report each (in --out's accessibility-on/ and accessibility-off/)")
    for flag in ("--model", "--mmproj", "--base-url", "--api-key-env", "--price"):
        e2.add_argument(flag, help="passed to `desktop-agent run` (model planners)")
    e2.add_argument("--text-only", action="store_true", help="passed to `desktop-agent run`: the model takes no images")
    e2.set_defaults(func=cmd_eval_tasks)

    sp = sub.add_parser("app", help="the tray app (command bar, timeline, approval); --screenshots DIR",
                        add_help=False)
    sp.add_argument("app_args", nargs=argparse.REMAINDER, help="see `desktop-agent app --help`")

    sp = sub.add_parser("keys", help="API keys for remote models, kept in the OS keyring",
                        description="API keys for remote models, kept in the OS keyring (never in a file).")
    ks = sp.add_subparsers(dest="keys_cmd", required=True, title="commands", metavar="COMMAND")
    for name, what in (("set", "store a provider's key, read as one line from stdin"),
                       ("delete", "remove a provider's key (exit 1 when there is none)")):
        k = ks.add_parser(name, help=what, description=what[0].upper() + what[1:] + ".")
        k.add_argument("provider", help="openai, anthropic, or a name you pass to --api-key-env")
    sp.set_defaults(func=cmd_keys)

    sp = sub.add_parser("doctor", help="screens, models and planners found on this machine",
                        description="Screens, models, planners, the data folder and the accessibility set-up found "
                                    "on this machine. Exit 0: ready (warnings, such as no display, are listed); "
                                    "exit 1: a problem the agent cannot work with (the OCR models).")
    sp.add_argument("--json", action="store_true",
                    help="print the report as JSON, with `ok`, `problems` and `warnings`")
    sp.set_defaults(func=cmd_doctor)
    return p


def _unexpected(exc: Exception) -> int | None:
    """The last line of defence: errors of the environment (a lost X display, a full disk) as one line;
    None for anything else (a bug, which keeps its traceback)."""
    from desktop_agent.capture.screen import display_error

    lost = display_error(exc)
    if lost is not None:
        _error_line(str(lost))
        return lost.exit_code
    if isinstance(exc, OSError):
        _error_line(str(exc))
        return 1
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    bad = _non_utf8_argument(argv)
    if bad is not None:  # refused before anything runs: sqlite, the terminal and X take only text
        shown = bad.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        shown = shown if len(shown) <= 80 else shown[:80] + "…"
        _error_line(f"the argument `{shown}` is not valid UTF-8 text: give every argument (file names too) in UTF-8")
        return UsageError.exit_code
    if argv[:1] == ["app"]:  # the app parses its own options
        from desktop_agent.app.main import main as app_main

        try:
            return app_main(argv[1:])
        except AgentError as exc:
            _error_line(str(exc))
            return exc.exit_code
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AgentError as exc:
        _error_line(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _error_line("interrupted")
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except Exception as exc:
        code = _unexpected(exc)
        if code is None:
            raise
        return code


if __name__ == "__main__":
    sys.exit(main())
