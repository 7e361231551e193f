"""The one settings model and the one place environment variables are read.

`RunOptions` is what a run is asked to do: the CLI builds it from its arguments, the app from its settings
file, the task suite from its flags; `desktop_agent.assemble` turns it into an agent. `read_environment`
reads every `DESKTOP_AGENT_*` variable; no other module reads them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field

from desktop_agent.errors import UsageError, quote

if TYPE_CHECKING:
    from desktop_agent.agent.approval import ApprovalPolicy
    from desktop_agent.planning.choice import PlannerOptions

PlannerKind = Literal["direct", "llama", "openai", "anthropic"]

# The environment variables desktop-agent reads, by field of `AgentEnvironment`.
ENV_NAMES = {
    "home": "DESKTOP_AGENT_HOME",  # the data folder (run database, screenshots, evals)
    "monitors": "DESKTOP_AGENT_MONITORS",  # an explicit monitor layout, as --monitors takes it
    "backend": "DESKTOP_AGENT_BACKEND",  # x11 or wlroots, instead of telling from the session
    "emulate_scale": "DESKTOP_AGENT_EMULATE_SCALE",  # evaluation: HiDPI captures of a display that cannot make them
    "detector_model": "DESKTOP_AGENT_DETECTOR_MODEL",  # another element detector (.onnx)
    "icon_embed_dir": "DESKTOP_AGENT_ICON_EMBED_DIR",  # another icon meaning model (folder)
    "locate_calibration": "DESKTOP_AGENT_LOCATE_CALIBRATION",  # another click-probability calibration (.json)
}
EMULATE_SCALE_ENV = ENV_NAMES["emulate_scale"]


class AgentEnvironment(BaseModel):
    """The `DESKTOP_AGENT_*` environment variables, as read once by `read_environment`."""

    model_config = ConfigDict(frozen=True)

    home: str | None = None
    monitors: str | None = None
    backend: str | None = None
    emulate_scale: str | None = None
    detector_model: str | None = None
    icon_embed_dir: str | None = None
    locate_calibration: str | None = None

    def scale(self) -> float | None:
        """The emulated HiDPI scale, if set; UsageError for a value that is not a positive number."""
        if not self.emulate_scale:
            return None
        try:
            value = float(self.emulate_scale)
        except ValueError:
            value = 0.0
        if not 0 < value <= 8:
            raise UsageError(f"{EMULATE_SCALE_ENV}={quote(self.emulate_scale, 20)}: expected a scale from 0 to 8, "
                             "e.g. 2 or 1.5")
        return value

    def path(self, name: str, default: Path) -> Path:
        """The path a variable names (`name`, a field of this model), else `default`."""
        value = getattr(self, name)
        return Path(value) if value else default


def read_environment(environ: Mapping[str, str] | None = None) -> AgentEnvironment:
    """The `DESKTOP_AGENT_*` variables of `environ` (default: this process's environment); an empty one is unset."""
    env = os.environ if environ is None else environ
    return AgentEnvironment(**{field: env.get(name) or None for field, name in ENV_NAMES.items()})


def data_folder(environ: Mapping[str, str] | None = None) -> Path:
    """The data folder (run database, screenshots, evals): $DESKTOP_AGENT_HOME, else the user's data directory."""
    home = read_environment(environ).home
    return Path(home) if home else Path(platformdirs.user_data_dir("desktop-agent", appauthor=False))


class RunOptions(BaseModel):
    """Everything a run can be asked to do, the same for the CLI, the app and the task suite."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The planner (README, "Model planners")
    planner: PlannerKind = "direct"
    model: str | None = None  # a GGUF path for llama, a model name for the others
    mmproj: str | None = None
    chat_handler: str = "mtmd"
    n_ctx: int = Field(default=8192, ge=512, le=1_048_576)
    base_url: str | None = None
    api_key_env: str | None = None
    response_format: str = "auto"
    price: str | None = None  # dollars per million input,output tokens: "3,15"
    recent_images: int = Field(default=2, ge=0, le=10)
    text_only: bool = False
    system_role: bool = True
    # Approval: `ask` a person (the approval policy first), `auto` approves every step
    approve: Literal["ask", "auto"] = "ask"
    auto_approve: tuple[str, ...] = ()  # action kinds approved without asking (never the approval floor)
    auto_approve_app: str = ""  # ... clicks, typing and drags only inside this app's windows
    dry_run: bool = False
    # The run and the screen
    max_steps: int = Field(default=50, ge=1, le=1000)
    monitors: str | None = None
    accessibility: bool = True  # fuse the accessibility tree (AT-SPI) with the pixels
    emulate_scale: float | None = None  # evaluation only: show the agent HiDPI captures (ScaledScreen)

    def planner_options(self) -> PlannerOptions:
        """The planner part, as `planning.choice.make_planner` takes it."""
        from desktop_agent.planning.backends.pricing import parse_price
        from desktop_agent.planning.choice import PlannerOptions

        return PlannerOptions(kind=self.planner, model=self.model, mmproj=self.mmproj, chat_handler=self.chat_handler,
                              n_ctx=self.n_ctx, base_url=self.base_url, api_key_env=self.api_key_env,
                              response_format=self.response_format,
                              price=parse_price(self.price) if self.price else None, recent_images=self.recent_images,
                              vision=not self.text_only, system_role=self.system_role)

    def approval_policy(self) -> ApprovalPolicy:
        """The steps approved without asking the person."""
        from desktop_agent.agent.approval import ApprovalPolicy

        return ApprovalPolicy(frozenset(self.auto_approve), self.auto_approve_app)

    def run_args(self) -> list[str]:
        """The model planner's options as `desktop-agent run` flags (how the task suite passes them on)."""
        out: list[str] = []
        for flag, value in (("--model", self.model), ("--mmproj", self.mmproj), ("--base-url", self.base_url),
                            ("--api-key-env", self.api_key_env), ("--price", self.price)):
            if value:
                out += [flag, value]
        if self.text_only:
            out.append("--text-only")
        return out
