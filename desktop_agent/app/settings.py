"""The app's settings, persisted with QSettings (API keys go to the OS keyring, never here; the task
history holds tasks only with their secret typed values replaced by ••••••••). The file can hold every
option of `desktop-agent run`; `AppSettings.run_options` gives them as the one settings model."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from PySide6.QtCore import QSettings

from desktop_agent.agent.approval import ApprovalPolicy
from desktop_agent.config import RunOptions
from desktop_agent.planning.choice import PlannerOptions
from desktop_agent.secret_fields import redact_task

ORG, APP = "desktop-agent", "desktop-agent"


@dataclass
class AppSettings:
    """What the app remembers: `desktop-agent run`'s options ("" for none), its hotkeys, data folder and history."""

    planner: str = "direct"
    model: str = ""
    mmproj: str = ""
    base_url: str = ""
    n_ctx: int = 8192
    recent_images: int = 2
    text_only: bool = False
    chat_handler: str = "mtmd"
    api_key_env: str = ""
    response_format: str = "auto"
    price: str = ""  # dollars per million input,output tokens: "3,15"
    system_role: bool = True
    max_steps: int = 50
    monitors: str = ""  # an explicit monitor layout, as --monitors takes it
    accessibility: bool = True  # fuse the accessibility tree where apps publish one (off: pixels only)
    dry_run: bool = False
    summon_hotkey: str = "ctrl+alt+space"
    stop_hotkey: str = "ctrl+alt+escape"
    auto_approve: list[str] = field(default_factory=lambda: ["wait"])  # action kinds approved without asking
    auto_approve_app: str = ""  # clicks/typing/drags auto-approved only inside this app's windows
    data_folder: str = ""  # empty: the platform's user data folder
    history: list[str] = field(default_factory=list)  # recent tasks, newest last, redacted
    first_run_done: bool = False  # the welcome window was shown (once, at the first start)

    def run_options(self, emulate_scale: float | None = None) -> RunOptions:
        """The run's options as the one settings model the CLI builds too (the app always asks: `ask`). Taken
        as the file holds them, unvalidated: an odd value fails where it is used (`make_planner` says why)."""
        return RunOptions.model_construct(planner=self.planner,
                          model=self.model or None, mmproj=self.mmproj or None, chat_handler=self.chat_handler,
                          n_ctx=self.n_ctx, base_url=self.base_url or None, api_key_env=self.api_key_env or None,
                          response_format=self.response_format, price=self.price or None,
                          recent_images=self.recent_images, text_only=self.text_only, system_role=self.system_role,
                          approve="ask", auto_approve=tuple(self.auto_approve), auto_approve_app=self.auto_approve_app,
                          dry_run=self.dry_run, max_steps=self.max_steps, monitors=self.monitors or None,
                          accessibility=self.accessibility, emulate_scale=emulate_scale)

    def planner_options(self) -> PlannerOptions:
        """The planner the next run uses."""
        return self.run_options().planner_options()

    def approval_policy(self) -> ApprovalPolicy:
        """The steps the next run approves without asking."""
        return self.run_options().approval_policy()

    def remember(self, task: str, keep: int = 50) -> None:
        """Add a task to the history, as it may be written down: `type "x" into "Password"` is kept as
        `type "••••••••" into "Password"`."""
        task = redact_task(task)
        self.history = [*[t for t in (redact_task(h) for h in self.history) if t != task][-(keep - 1):], task]


def _qsettings(path: str | None) -> QSettings:
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG, APP)


def load_settings(path: str | None = None) -> AppSettings:
    """Settings from QSettings (an INI file in the user's config folder, or `path`)."""
    qs = _qsettings(path)
    out = AppSettings()
    for f in fields(AppSettings):
        if not qs.contains(f.name):
            continue
        value = qs.value(f.name)
        default = getattr(out, f.name)
        if isinstance(default, bool):
            value = value in (True, "true", "1", 1)
        elif isinstance(default, int):
            try:
                value = int(value)
            except (TypeError, ValueError):
                continue
        elif isinstance(default, list):
            value = [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value else [])
        else:
            value = str(value)
        setattr(out, f.name, value)
    out.history = [redact_task(t) for t in out.history]  # a file written before redaction is cleaned
    return out


def save_settings(settings: AppSettings, path: str | None = None) -> None:
    """Write every setting (the history redacted once more) and sync the file."""
    qs = _qsettings(path)
    for f in fields(AppSettings):
        value = getattr(settings, f.name)
        if f.name == "history":
            value = [redact_task(t) for t in value]  # never a secret on disk, whoever filled the list
        qs.setValue(f.name, value)
    qs.sync()
