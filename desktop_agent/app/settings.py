"""The app's settings, persisted with QSettings (API keys go to the OS keyring, never here; the task
history holds tasks only with their secret typed values replaced by ••••••••)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from PySide6.QtCore import QSettings

from desktop_agent.approval import ApprovalPolicy
from desktop_agent.planning.choice import PlannerOptions
from desktop_agent.secret_fields import redact_task

ORG, APP = "desktop-agent", "desktop-agent"


@dataclass
class AppSettings:
    planner: str = "direct"
    model: str = ""
    mmproj: str = ""
    base_url: str = ""
    n_ctx: int = 8192
    recent_images: int = 2
    text_only: bool = False
    summon_hotkey: str = "ctrl+alt+space"
    stop_hotkey: str = "ctrl+alt+escape"
    auto_approve: list[str] = field(default_factory=lambda: ["wait"])  # action kinds approved without asking
    auto_approve_app: str = ""  # clicks/typing/drags auto-approved only inside this app's windows
    data_folder: str = ""  # empty: the platform's user data folder
    history: list[str] = field(default_factory=list)  # recent tasks, newest last, redacted
    first_run_done: bool = False  # the welcome window was shown (once, at the first start)

    def planner_options(self) -> PlannerOptions:
        return PlannerOptions(kind=self.planner, model=self.model or None, mmproj=self.mmproj or None,
                              n_ctx=self.n_ctx, base_url=self.base_url or None, recent_images=self.recent_images,
                              vision=not self.text_only)

    def approval_policy(self) -> ApprovalPolicy:
        return ApprovalPolicy(frozenset(self.auto_approve), self.auto_approve_app)

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
    qs = _qsettings(path)
    for f in fields(AppSettings):
        value = getattr(settings, f.name)
        if f.name == "history":
            value = [redact_task(t) for t in value]  # never a secret on disk, whoever filled the list
        qs.setValue(f.name, value)
    qs.sync()
