"""The CLI's arguments: the parser of every command, argument types and checks, and `RunOptions` from them."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from desktop_agent import __version__
from desktop_agent.errors import UsageError, one_line, quote

if TYPE_CHECKING:
    from desktop_agent.config import RunOptions

MAX_RUN_ID_CHARS = 64  # run ids are 20 characters (20251130-034512-ab12); `runs show` takes a part of one


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


def _action_kinds(text: str) -> tuple[str, ...]:
    """An argparse type: action kinds separated by commas, each one the approval policy knows."""
    from desktop_agent.agent.approval import ACTION_KINDS

    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in ACTION_KINDS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown kind {quote(unknown[0], 20)}: choose from {', '.join(ACTION_KINDS)}")
    return kinds


_action_kinds.__name__ = "kinds"


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (and exit 2) like every other error of the CLI."""

    def error(self, message: str) -> NoReturn:
        """Print a usage error as one line and exit 2."""
        self.exit(2, f"desktop-agent: {one_line(message)} (see `{self.prog} --help`)\n")


def non_utf8_argument(argv: Sequence[str]) -> str | None:
    """The first argument that held bytes which are not UTF-8 (Python passes them as lone surrogates)."""
    for arg in argv:
        if any("\ud800" <= ch <= "\udfff" for ch in arg):
            return arg
    return None


def output_file(path: str, flag: str) -> Path:
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


def output_folder(path: str, flag: str) -> Path:
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


def run_options(args: argparse.Namespace) -> RunOptions:
    """`desktop-agent run`'s arguments (and the scale the environment asks for) as the one settings model."""
    from desktop_agent.config import RunOptions, read_environment

    return RunOptions(planner=args.planner, model=args.model, mmproj=args.mmproj, chat_handler=args.chat_handler,
                      n_ctx=args.ctx, base_url=args.base_url, api_key_env=args.api_key_env,
                      response_format=args.response_format, price=args.price, recent_images=args.images,
                      text_only=args.text_only, system_role=not args.no_system_role, approve=args.approve,
                      auto_approve=args.auto_approve, auto_approve_app=args.auto_approve_app, dry_run=args.dry_run,
                      max_steps=args.max_steps, monitors=args.monitors, accessibility=not args.no_accessibility,
                      emulate_scale=read_environment().scale())


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


def _screen_options(sp: argparse.ArgumentParser) -> None:
    """The options of a command that reads an image or, with --screen, a monitor."""
    sp.add_argument("--screen", action="store_true", help="capture the screen instead of reading IMAGE")
    sp.add_argument("--monitor", type=_int_in(1, 64), help="monitor number for --screen (default: the primary)")
    sp.add_argument("--monitors", help="explicit layout, e.g. 1920x1080+0+0*,1280x1024+1920+0")
    sp.add_argument("--json", action="store_true", help="print JSON")
    sp.add_argument("--no-accessibility", action="store_true",
                    help="with --screen: pixels only, without the accessibility tree's names, roles and states")


def _add_parse_and_locate(sub: Any) -> None:
    """`parse` and `locate`: an image (or a monitor) and its elements."""
    from desktop_agent.cli import commands  # (it imports this module: not at the top)

    sp = sub.add_parser("parse", help="list the UI elements of a screenshot",
                        description="List the UI elements of a screenshot (or of a monitor with --screen): id, kind, "
                                    "box [x1, y1, x2, y2] in image pixels, confidence, text.")
    sp.add_argument("image", nargs="?", help="screenshot file (PNG, JPEG, ...; or --screen)")
    _screen_options(sp)
    sp.set_defaults(func=commands.cmd_parse)

    sp = sub.add_parser("locate", help="find the element an instruction names (exit 3: not confident)",
                        description="Find the element an instruction names and the point to click. Prints the point "
                                    "(x, y), the element's kind and text, the score and the box of the text that "
                                    "matched; --json prints {x, y, bbox, score, element}: bbox is the matched text's "
                                    "box, element.bbox the whole element's (e.g. the button around the label).")
    sp.add_argument("image", nargs="?", help="screenshot file (or --screen)")
    sp.add_argument("instruction",
                    help='what to find, e.g. "Save", \'click the "Save As…" button\', "the search field"')
    _screen_options(sp)
    sp.set_defaults(func=commands.cmd_locate)


def _add_run(sub: Any) -> None:
    """`run`: a task on the screen, with the planner, approval and screen options."""
    from desktop_agent.agent.approval import ACTION_KINDS
    from desktop_agent.cli import commands

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
    sp.add_argument("--auto-approve", type=_action_kinds, default=(), metavar="KINDS",
                    help="with --approve ask: approve these kinds of step without asking, e.g. wait,scroll (of "
                         f"{', '.join(ACTION_KINDS)}; never a step on the approval floor), as the app's settings do")
    sp.add_argument("--auto-approve-app", default="", metavar="APP",
                    help="with --auto-approve: clicks, typing and drags only inside this app's windows")
    sp.add_argument("--dry-run", action="store_true",
                    help="plan and locate every step, record it with its target, send no input (all skipped)")
    sp.add_argument("--max-steps", type=_int_in(1, 1000), default=50,
                    help="stop the run after this many steps (1 to 1000; default 50)")
    sp.add_argument("--monitors", help="explicit monitor layout, e.g. 1280x800+1024+0*,1024x768+0+0")
    sp.add_argument("--no-accessibility", action="store_true",
                    help="pixels only: do not read the accessibility tree (AT-SPI), which otherwise gives exact "
                         "names, roles and states where apps publish them (a password field by its role)")
    sp.set_defaults(func=commands.cmd_run)


def _add_runs(sub: Any) -> None:
    """`runs list|show|export`: the recorded runs, read-only."""
    from desktop_agent.cli import commands

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
    sp.set_defaults(func=commands.cmd_runs)


def _add_eval(sub: Any) -> None:
    """`eval grounding|tasks`: the evaluations."""
    from desktop_agent.cli import evaluate  # (it imports this module: not at the top)

    sp = sub.add_parser("eval", help="evaluations: grounding on a ScreenSpot-format set, the desktop task suite",
                        description="Evaluations. Both show their progress on stderr (done/total, rate, ETA); Ctrl+C "
                                    "stops them and prints the figures over what was done, marked PARTIAL (exit 130).")
    es = sp.add_subparsers(dest="eval_cmd", required=True, title="commands", metavar="COMMAND")
    e1 = es.add_parser("grounding", help="score a ScreenSpot-format folder",
                       description="Locate every sample's target in a ScreenSpot-format folder and print accuracy, "
                                   "wrong clicks and the risk-coverage table.")
    e1.add_argument("dir", help="the folder: annotations.json and the images it names")
    e1.add_argument("--out", help="write the predictions here, one JSON line per sample (also when interrupted)")
    e1.set_defaults(func=evaluate.cmd_eval_grounding)
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
    e2.add_argument("--session", choices=["x11", "wayland"], default="x11",
                    help="x11 (default): each task on an X display with openbox; wayland: on a headless wlroots "
                         "compositor (sway) with the apps as native Wayland clients (tasks whose apps are X11 only "
                         "are skipped)")
    for flag in ("--model", "--mmproj", "--base-url", "--api-key-env", "--price"):
        e2.add_argument(flag, help="passed to `desktop-agent run` (model planners)")
    e2.add_argument("--text-only", action="store_true", help="passed to `desktop-agent run`: the model takes no images")
    e2.set_defaults(func=evaluate.cmd_eval_tasks)


def _add_app_keys_doctor(sub: Any) -> None:
    """`app` (which parses its own options), `keys set|delete` and `doctor`."""
    from desktop_agent.cli import commands

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
    sp.set_defaults(func=commands.cmd_keys)

    sp = sub.add_parser("doctor", help="screens, models and planners found on this machine",
                        description="Screens, models, planners, the data folder and the accessibility set-up found "
                                    "on this machine. Exit 0: ready (warnings, such as no display, are listed); "
                                    "exit 1: a problem the agent cannot work with (the OCR models).")
    sp.add_argument("--json", action="store_true",
                    help="print the report as JSON, with `ok`, `problems` and `warnings`")
    sp.set_defaults(func=commands.cmd_doctor)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command; each sets `func`, the function that runs it."""
    p = _Parser(prog="desktop-agent", description="A local-first computer-use agent.", epilog=EXIT_CODES,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"desktop-agent {__version__}",
                   help="print the version and exit")
    sub = p.add_subparsers(dest="cmd", required=True, title="commands", metavar="COMMAND")

    for add in (_add_parse_and_locate, _add_run, _add_runs, _add_eval, _add_app_keys_doctor):
        add(sub)
    return p
