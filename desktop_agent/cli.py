"""The `desktop-agent` command: a thin front end over the core (parse, locate, run, runs, eval, doctor)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from desktop_agent import __version__
from desktop_agent.errors import AgentError, TargetNotFound


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=None))


def _screen_frame(args: argparse.Namespace) -> Any:
    from desktop_agent.capture.screen import MssScreen

    screen = MssScreen(args.monitors)
    layout = screen.layout()
    if args.monitor is None:
        monitor = layout.primary
    else:
        found = [m for m in layout.monitors if m.index == args.monitor]
        if not found:
            raise AgentError(f"no monitor {args.monitor}: this display has {len(layout.monitors)}")
        monitor = found[0]
    return screen.grab(monitor)


def _frame(args: argparse.Namespace) -> Any:
    from desktop_agent.capture.frame import frame_from_file

    if getattr(args, "screen", False):
        return _screen_frame(args)
    if not args.image:
        raise AgentError("give an IMAGE file or --screen")
    return frame_from_file(args.image)


def cmd_parse(args: argparse.Namespace) -> int:
    from desktop_agent.perception.parser import ScreenParser

    frame = _frame(args)
    result = ScreenParser().parse(frame.image)
    if args.json:
        _print_json(result.to_dict())
        return 0
    t = result.timings
    print(f"{len(result.elements)} elements in {result.width}x{result.height} "
          f"({t['total']:.0f} ms: OCR detection {t['ocr_det']:.0f}, recognition {t['ocr_rec']:.0f}, "
          f"elements {t['detect']:.0f}, merge {t['merge']:.0f}, icons {t.get('icons', 0):.0f})")
    for el in result.elements:
        b = el.bbox
        meaning = f"  (icon: {el.icon[0][0].replace('_', ' ')} {el.icon[0][1]:.2f})" if el.icon else ""
        print(f"{el.id:4d}  {el.kind.value:9s} [{b.x1:.0f},{b.y1:.0f},{b.x2:.0f},{b.y2:.0f}]  "
              f"{el.confidence:.2f}  {el.text}{meaning}")
    return 0


def cmd_locate(args: argparse.Namespace) -> int:
    from desktop_agent.grounding.locate import locate_target
    from desktop_agent.perception.parser import ScreenParser

    frame = _frame(args)
    parsed = ScreenParser().parse(frame.image)
    try:
        res = locate_target(parsed, args.instruction)
    except TargetNotFound as exc:
        print(f"abstained: {exc}", file=sys.stderr)
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


def cmd_eval_grounding(args: argparse.Namespace) -> int:
    from desktop_agent.evaluation.grounding import evaluate_grounding, write_predictions
    from desktop_agent.perception.parser import ScreenParser

    folder = Path(args.dir)

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)

    report = evaluate_grounding(folder, ScreenParser(), progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if args.out:
        write_predictions(report, Path(args.out))
    print(report.format())
    return 0


def _print_event(event: Any) -> None:
    step = f"step {event.step + 1}: " if event.step is not None else ""
    kind = event.kind
    if kind == "run_started":
        print(f"run {event.run_id} ({event.data.get('planner')}): {event.message}", flush=True)
    elif kind == "step_located" or kind == "step_planned":
        print(f"  {step}{event.message}", flush=True)
    elif kind in ("step_done", "step_skipped"):
        print(f"  {step}{'verified: ' if kind == 'step_done' else ''}{event.message}", flush=True)
    elif kind == "step_failed":
        print(f"  {step}FAILED: {event.message}", flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    from desktop_agent.agent import Agent, AgentSettings
    from desktop_agent.approval import AutoApprover, TerminalApprover
    from desktop_agent.capture.screen import MssScreen, check_display
    from desktop_agent.planning.planner import DirectPlanner
    from desktop_agent.runs.store import RunStore

    if args.planner != "direct":
        raise AgentError(f"planner {args.planner!r} is not available yet: use --planner direct")
    planner = DirectPlanner(args.task)  # a bad script fails here, before anything is touched
    check_display()
    from desktop_agent.execution.input_driver import PyAutoGuiDriver
    from desktop_agent.perception.parser import ScreenParser

    store = RunStore()
    approver = AutoApprover() if args.approve == "auto" else TerminalApprover()
    agent = Agent(MssScreen(args.monitors), ScreenParser(), PyAutoGuiDriver(), store, approver,
                  AgentSettings(max_steps=args.max_steps), on_event=_print_event)

    def on_term(signum: int, frame: FrameType | None) -> None:
        agent.abort()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    outcome = agent.run(args.task, planner, args.approve)
    verb = {"succeeded": "succeeded", "partial": "PARTIAL", "failed": "FAILED", "aborted": "ABORTED"}[outcome.status]
    print(f"run {outcome.run_id} {verb}: {outcome.message}", file=sys.stdout if outcome.exit_code == 0 else sys.stderr)
    return outcome.exit_code


def cmd_runs(args: argparse.Namespace) -> int:
    from desktop_agent.runs.store import RunStore

    store = RunStore()
    if args.runs_cmd == "list":
        runs = store.list_runs(args.limit)
        if args.json:
            _print_json([r.__dict__ for r in runs])
            return 0
        if not runs:
            print(f"no runs yet in {store.path}")
        for r in runs:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started_at))
            print(f"{r.id}  {when}  {r.status:11s} {r.step_count:3d} steps  {r.planner:7s} {r.task[:60]}")
        return 0
    run = store.get_run(args.run_id)
    if args.runs_cmd == "show":
        steps = store.steps(run.id)
        if args.json:
            _print_json({"run": run.__dict__, "steps": [s.__dict__ for s in steps]})
            return 0
        print(f"run {run.id}: {run.status} {run.message}\ntask: {run.task}\nplanner: {run.planner}, "
              f"approval: {run.approve}")
        for s in steps:
            where = ""
            if s.target:
                where = f" at ({s.target['desktop'][0]}, {s.target['desktop'][1]}) on monitor {s.target['monitor']}"
            detail = s.error or (s.verify or {}).get("detail", "")
            print(f"  {s.idx + 1}. {s.description}{where}: {s.status} {detail}")
        return 0
    # export
    from desktop_agent.runs.report import run_report_html

    if not args.html:
        raise AgentError("choose a format: `desktop-agent runs export ID --html`")
    out = Path(args.output or f"desktop-agent-run-{run.id}.html")
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
    return 0 if report["display"]["ok"] and report["ocr_models"] and "ocr_error" not in report else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="desktop-agent", description="A local-first computer-use agent.")
    p.add_argument("--version", action="version", version=f"desktop-agent {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)

    def screen_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--screen", action="store_true", help="capture the screen instead of reading IMAGE")
        sp.add_argument("--monitor", type=int, help="monitor number for --screen (default: the primary)")
        sp.add_argument("--monitors", help="explicit layout, e.g. 1920x1080+0+0*,1280x1024+1920+0")
        sp.add_argument("--json", action="store_true", help="print JSON")

    sp = sub.add_parser("parse", help="list the UI elements of a screenshot")
    sp.add_argument("image", nargs="?")
    screen_opts(sp)
    sp.set_defaults(func=cmd_parse)

    sp = sub.add_parser("locate", help="find the element an instruction names (exit 3: not confident)")
    sp.add_argument("image", nargs="?", help="screenshot file (or --screen)")
    sp.add_argument("instruction")
    screen_opts(sp)
    sp.set_defaults(func=cmd_locate)

    sp = sub.add_parser("run", help="run a task on the screen")
    sp.add_argument("task", help='a script: click "File"; click "Save As…"; type "x" into "Name"; press enter')
    sp.add_argument("--planner", default="direct", choices=["direct"])
    sp.add_argument("--approve", default="ask", choices=["ask", "auto"],
                    help="ask before every step (default) or approve all")
    sp.add_argument("--max-steps", type=int, default=50)
    sp.add_argument("--monitors", help="explicit monitor layout, e.g. 1280x800+1024+0*,1024x768+0+0")
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("runs", help="browse and export recorded runs")
    rs = sp.add_subparsers(dest="runs_cmd", required=True)
    r1 = rs.add_parser("list")
    r1.add_argument("--limit", type=int, default=30)
    r1.add_argument("--json", action="store_true")
    r2 = rs.add_parser("show")
    r2.add_argument("run_id")
    r2.add_argument("--json", action="store_true")
    r3 = rs.add_parser("export")
    r3.add_argument("run_id")
    r3.add_argument("--html", action="store_true", help="a self-contained HTML report")
    r3.add_argument("-o", "--output")
    sp.set_defaults(func=cmd_runs)

    sp = sub.add_parser("eval", help="evaluations")
    es = sp.add_subparsers(dest="eval_cmd", required=True)
    e1 = es.add_parser("grounding", help="score a ScreenSpot-format folder")
    e1.add_argument("dir")
    e1.add_argument("--out", help="write predictions JSONL here")
    e1.set_defaults(func=cmd_eval_grounding)

    sp = sub.add_parser("doctor", help="screens, models and planners found on this machine")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_doctor)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AgentError as exc:
        print(f"desktop-agent: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("desktop-agent: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
