"""The one settings model: the environment read in one place, RunOptions from the CLI and from the app's file,
and the agent assembled from it the same way for both front ends."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs
import pytest

from desktop_agent.agent.approval import AutoApprover, PolicyApprover, PreviewApprover, TerminalApprover
from desktop_agent.assemble import approve_mode, assemble_run, run_approver, run_screen
from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.capture.masked import ExcludedRegions, MaskedScreen
from desktop_agent.capture.scaled import ScaledScreen
from desktop_agent.cli import main
from desktop_agent.cli.arguments import build_parser, run_options
from desktop_agent.config import ENV_NAMES, RunOptions, data_folder, read_environment
from desktop_agent.errors import UsageError
from desktop_agent.execution.input_driver import RecordingDriver
from desktop_agent.geometry import Monitor, ScreenLayout
from desktop_agent.planning.choice import PlannerOptions
from desktop_agent.runs.store import RunStore, data_home


@dataclass
class FakeScreen:
    """One 800x600 monitor of grey pixels (the run below is never started)."""

    def layout(self) -> ScreenLayout:
        return ScreenLayout((Monitor(1, 0, 0, 800, 600, primary=True),))

    def grab(self, monitor: Monitor) -> ScreenFrame:
        raise AssertionError("not captured in these tests")


def test_the_environment_is_read_in_one_place() -> None:
    env = read_environment({ENV_NAMES["home"]: "/data", ENV_NAMES["monitors"]: "", ENV_NAMES["emulate_scale"]: "2"})
    assert (env.home, env.monitors, env.scale()) == ("/data", None, 2.0)
    assert env.path("home", Path("/x")) == Path("/data") and env.path("detector_model", Path("/x")) == Path("/x")
    assert read_environment({}).scale() is None
    with pytest.raises(UsageError, match="DESKTOP_AGENT_EMULATE_SCALE='two'"):
        read_environment({ENV_NAMES["emulate_scale"]: "two"}).scale()


def test_the_data_folder_is_the_home_variable_else_the_users_data_directory(monkeypatch: pytest.MonkeyPatch,
                                                                             tmp_path: Path) -> None:
    default = Path(platformdirs.user_data_dir("desktop-agent", appauthor=False))
    assert data_folder({ENV_NAMES["home"]: "/data"}) == Path("/data")
    assert data_folder({ENV_NAMES["home"]: ""}) == default and data_folder({}) == default
    monkeypatch.setenv(ENV_NAMES["home"], str(tmp_path))
    assert data_folder() == tmp_path and data_home() == tmp_path


def test_the_cli_arguments_become_run_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_NAMES["emulate_scale"], "1.5")
    args = build_parser().parse_args(["run", "x", "--planner", "openai", "--model", "m", "--price", "3,15", "--ctx",
                                      "4096", "--images", "0", "--text-only", "--no-system-role", "--auto-approve",
                                      "wait,scroll", "--auto-approve-app", "gedit", "--max-steps", "7",
                                      "--no-accessibility"])
    options = run_options(args)
    assert options == RunOptions(planner="openai", model="m", price="3,15", n_ctx=4096, recent_images=0,
                                 text_only=True, system_role=False, auto_approve=("wait", "scroll"),
                                 auto_approve_app="gedit", max_steps=7, accessibility=False, emulate_scale=1.5)
    assert options.planner_options() == PlannerOptions(kind="openai", model="m", n_ctx=4096, price=(3.0, 15.0),
                                                       recent_images=0, vision=False, system_role=False)
    assert options.run_args() == ["--model", "m", "--price", "3,15", "--text-only"]


def test_an_unknown_approval_kind_is_refused_as_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["run", 'click "OK"', "--auto-approve", "wait,teleport"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown kind 'teleport'" in err[0]


def test_approvers_from_options() -> None:
    person = TerminalApprover()
    assert isinstance(run_approver(RunOptions(dry_run=True, approve="auto"), person), PreviewApprover)
    assert approve_mode(RunOptions(dry_run=True, approve="auto")) == "ask"
    auto = run_approver(RunOptions(approve="auto", planner="openai"))
    assert isinstance(auto, AutoApprover) and not auto.allow_risky
    assert run_approver(RunOptions(), person) is person  # no policy: the person is asked about every step
    policy = run_approver(RunOptions(auto_approve=("wait",), auto_approve_app="gedit"), person)
    assert isinstance(policy, PolicyApprover) and policy.inner is person
    assert (policy.policy.auto, policy.policy.app) == (frozenset({"wait"}), "gedit")


def test_the_screen_scaled_then_masked() -> None:
    regions = ExcludedRegions()
    screen = run_screen(RunOptions(emulate_scale=2.0), FakeScreen(), regions)
    assert isinstance(screen, MaskedScreen) and isinstance(screen.inner, ScaledScreen)
    assert screen.layout().monitors[0].scale == 2.0
    assert isinstance(run_screen(RunOptions(), FakeScreen()), FakeScreen)


def test_the_agent_is_assembled_from_options(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    try:
        run = assemble_run(RunOptions(max_steps=3, accessibility=False), screen=FakeScreen(), parser=object(),
                           driver=RecordingDriver(), store=store, person=TerminalApprover())
        assert run.agent.settings.max_steps == 3 and run.accessibility is None and run.approve_mode == "ask"
        run.close()
    finally:
        store.close()


def test_the_apps_settings_file_holds_every_run_option(tmp_path: Path) -> None:
    from desktop_agent.app.settings import AppSettings, load_settings, save_settings

    ini = str(tmp_path / "s.ini")
    saved = AppSettings(planner="llama", model="/m.gguf", chat_handler="qwen25vl", api_key_env="K", price="1,2",
                        response_format="json_object", system_role=False, max_steps=9, monitors="800x600+0+0*",
                        accessibility=True, dry_run=True, auto_approve=["scroll"])
    save_settings(saved, ini)
    options = load_settings(ini).run_options()
    assert options == RunOptions(planner="llama", model="/m.gguf", chat_handler="qwen25vl", api_key_env="K",
                                 price="1,2", response_format="json_object", system_role=False, max_steps=9,
                                 monitors="800x600+0+0*", accessibility=True, dry_run=True, auto_approve=("scroll",))
    cli_fields = set(vars(build_parser().parse_args(["run", "x"])))
    covered = {"planner", "model", "mmproj", "chat_handler", "base_url", "api_key_env", "response_format", "price",
               "text_only", "approve", "auto_approve", "auto_approve_app", "dry_run", "max_steps", "monitors"}
    renamed = {"ctx": "n_ctx", "images": "recent_images", "no_system_role": "system_role",
               "no_accessibility": "accessibility"}
    app_fields = set(AppSettings.__dataclass_fields__)
    # `approve`: the app always asks (its approval policy decides what it need not ask); `task` is typed in.
    missing = {renamed.get(f, f) for f in cli_fields - {"cmd", "task", "func", "approve"}} - app_fields
    assert missing == set() and covered <= cli_fields
    assert AppSettings().planner_options() == PlannerOptions()  # the defaults are the command line's


