"""The CLI's evaluations: `eval grounding` (a ScreenSpot-format set) and `eval tasks` (the desktop task suite)."""

from __future__ import annotations

import argparse
import signal
import time
from pathlib import Path
from types import FrameType
from typing import Any

from desktop_agent.cli.arguments import output_file, output_folder
from desktop_agent.cli.printing import error_line
from desktop_agent.errors import AgentError, UsageError, quote


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
    """`desktop-agent eval grounding`: locate every sample of a ScreenSpot-format set and print the figures."""
    from desktop_agent.errors import DatasetError
    from desktop_agent.evaluation.grounding import evaluate_grounding, load_samples, write_predictions
    from desktop_agent.progress import Progress

    folder = Path(args.dir)
    out = output_file(args.out, "--out") if args.out else None
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
        error_line(f"interrupted: {report.partial_note()}" + (f" (predictions so far in {out})" if out else ""))
        return 130
    if report.errors:
        raise DatasetError(f"{len(report.errors)} of {report.total} samples are errors, not scored (listed in the "
                           f"report); {report.total - len(report.errors)} were scored")
    return 0


def _chosen_tasks(args: argparse.Namespace) -> list[Any]:
    """The suite's tasks, only those --only names; a suite or a name that cannot be used is bad input."""
    from desktop_agent.evaluation.task_suite import DEFAULT_SUITE, load_suite

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
    return tasks


def cmd_eval_tasks(args: argparse.Namespace) -> int:
    """`desktop-agent eval tasks`: the task suite on fresh desktops, its report written and summarised."""
    from desktop_agent.config import RunOptions
    from desktop_agent.runs.store import data_home

    out_arg = output_folder(args.out, "--out") if args.out else None
    tasks = _chosen_tasks(args)
    if args.list:
        for t in tasks:
            print(t.name)
        return 0
    planner_args = RunOptions(planner=args.planner, model=args.model, mmproj=args.mmproj, base_url=args.base_url,
                              api_key_env=args.api_key_env, price=args.price, text_only=args.text_only).run_args()
    if args.accessibility != "off" and args.stepwise:
        raise UsageError("--accessibility on/both runs whole tasks: leave out --stepwise")
    if args.session == "wayland" and (args.stepwise or args.accessibility != "off"):
        raise UsageError("--session wayland runs whole tasks, pixels only: leave out --stepwise and --accessibility")
    _check_suite_programs(tasks, args.accessibility != "off", args.session)
    home = data_home()
    out = out_arg or home / "evals" / time.strftime("%Y%m%d-%H%M%S")
    _stop_on_signals()
    if args.session == "wayland":
        from desktop_agent.evaluation.task_wayland import WaylandTaskEnvironment

        report = _run_suite_with_progress(args, tasks, home, planner_args, "eval tasks (Wayland)",
                                          WaylandTaskEnvironment)
        report.mode = f"{report.mode}, Wayland (headless sway)"
        return _finish_suite(report, out)
    if args.accessibility == "off":
        report = _run_suite_with_progress(args, tasks, home, planner_args, "eval tasks")
        return _finish_suite(report, out)
    return _eval_tasks_accessibility(args, tasks, home, out, planner_args)


# Programs the task suite itself runs, beside each task's apps (Debian packages of
# packaging/debian-packages-suite.txt, installed by `./scripts/setup.sh --suite`).
SUITE_PROGRAMS = {"x11": ("openbox", "xdotool"), "wayland": ("sway", "swaymsg", "grim")}
CHECK_PROGRAMS = {"x11": {"cells": "ssconvert", "clipboard": "xclip"},
                  "wayland": {"cells": "ssconvert", "clipboard": "wl-paste"}}
SETUP_SUITE_HINT = "install the task suite's applications: ./scripts/setup.sh --suite"


def _needed_programs(tasks: list[Any], accessibility: bool, session: str = "x11") -> dict[str, list[str]]:
    """Each program the chosen tasks need in a session of that kind, with the tasks that need it ([]: the suite
    itself)."""
    needed: dict[str, list[str]] = {p: [] for p in SUITE_PROGRAMS[session]}
    if accessibility:
        needed["dbus-daemon"] = []
    for t in tasks:
        for app in t.apps:
            needed.setdefault(app.cmd[0], []).append(t.name)
        for c in t.check:
            if c.kind in CHECK_PROGRAMS[session]:
                needed.setdefault(CHECK_PROGRAMS[session][c.kind], []).append(t.name)
    return needed


def _check_suite_programs(tasks: list[Any], accessibility: bool, session: str = "x11") -> None:
    """Every program the chosen tasks need is installed, or one line saying which are not and how to get them
    (before any desktop is started)."""
    import shutil

    from desktop_agent.capture.monitor_display import dummy_available

    needed = _needed_programs(tasks, accessibility, session)  # program -> the tasks that need it
    missing = sorted(p for p in needed if "/" not in p and shutil.which(p) is None)
    multi = [t.name for t in tasks if t.monitors]
    if multi and session == "x11" and not dummy_available():  # X11: second monitors on Xorg's dummy driver
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

    bar = Progress(len(tasks), label, "task")

    def progress(r: Any) -> None:
        bar.write(f"{r.name:40s} {r.verdict} {r.steps:3d} steps {r.seconds:6.1f} s  "
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
        error_line(f"interrupted: {report.partial_note()}")
        return 130
    return 0 if all(r.success or r.verdict == "SKIP" for r in report.results) else 1


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
