"""The first-run window, shown once at the app's first start: the hotkey that opens the command bar, how
approval works, where runs are kept, and a choice of planner (saved to the settings). Closing it
counts as seen: it does not come back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop_agent.app.qt_text import plain_label
from desktop_agent.app.settings import AppSettings, save_settings

PLANNER_CHOICES = (
    ("direct", "Scripts only, no model: steps such as  click \"Save\"; press ctrl+s"),
    ("llama", "A local model (llama.cpp, a .gguf file): nothing leaves this computer"),
    ("openai", "OpenAI, or a compatible server (Ollama, vLLM, llama.cpp)"),
    ("anthropic", "Anthropic (Claude): needs an API key"),
)


def hotkey_words(spec: str) -> str:
    """'ctrl+alt+space' as people read it: 'Ctrl+Alt+Space'."""
    return "+".join(part.strip().capitalize() for part in spec.split("+"))


class FirstRunWindow(QDialog):
    """Welcome: what to press, what the agent asks before acting, where runs go, which planner."""

    settings_requested = Signal()  # the person asked for the full settings (model, key, server)

    def __init__(self, settings: AppSettings, data_folder: Path, tray: bool, settings_path: str | None = None,
                 hotkey_error: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRun")
        self.setWindowTitle("Welcome to desktop-agent")
        self.settings = settings
        self.settings_path = settings_path
        lay = QVBoxLayout(self)
        title = plain_label("desktop-agent is ready")
        title.setStyleSheet("font-size: 17px; font-weight: 600")
        lay.addWidget(title)
        where = ("It lives in the tray: click its icon for the command bar, right-click it for the menu."
                 if tray else "Its small window holds the menu: New task, Timeline, Settings, Quit.")
        keys = (f"Press {hotkey_words(settings.summon_hotkey)} anywhere to open the command bar and type a task. "
                f"{hotkey_words(settings.stop_hotkey)} stops a run at once.")
        if hotkey_error:  # the keys could not be grabbed: say so, and what to use instead
            keys = (f"The hotkeys {hotkey_words(settings.summon_hotkey)} and {hotkey_words(settings.stop_hotkey)} "
                    f"could not be set up ({hotkey_error}): use New task and Stop in the menu.")
        self.hotkey = plain_label(f"{keys} {where}", wrap=True)
        self.approval = plain_label(
            "Before each step acts (a click, a key, typing), a panel shows it with its target marked on the "
            "screen: approve, edit, skip or reject it. Deleting, sending and typing into password fields are "
            "always asked; in Settings you can let routine kinds of steps through.", wrap=True)
        self.data = plain_label(
            f"Every run, with its screenshots and the model's reasons, is kept in {data_folder}. The timeline "
            "shows them and exports them as HTML.", wrap=True)
        for label in (self.hotkey, self.approval, self.data):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lay.addWidget(label)
        box = QGroupBox("Which planner should turn tasks into steps?")
        bl = QVBoxLayout(box)
        self.planners = QButtonGroup(self)
        self.choices: dict[str, QRadioButton] = {}
        for kind, words in PLANNER_CHOICES:
            b = QRadioButton(words)
            b.setChecked(kind == settings.planner)
            self.planners.addButton(b)
            self.choices[kind] = b
            bl.addWidget(b)
        later = plain_label("The model, API key and server are set in Settings; you can change all of this there.",
                            wrap=True)
        later.setEnabled(False)  # faint, still readable
        bl.addWidget(later)
        lay.addWidget(box)
        buttons = QDialogButtonBox()
        self.open_settings = QPushButton("Open Settings…")
        self.start = QPushButton("Start")
        self.start.setDefault(True)
        buttons.addButton(self.open_settings, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.start, QDialogButtonBox.ButtonRole.AcceptRole)
        self.open_settings.clicked.connect(self._to_settings)
        buttons.accepted.connect(self.accept)
        lay.addWidget(buttons)
        self.setMinimumWidth(600)
        self.finished.connect(self._save)

    def chosen_planner(self) -> str:
        """The planner ticked now (saved when the person clicks Start or Open Settings…)."""
        return next((k for k, b in self.choices.items() if b.isChecked()), self.settings.planner)

    def _to_settings(self) -> None:
        self.accept()
        self.settings_requested.emit()

    def _save(self, result: int) -> None:
        # Seen, whichever way it was closed; the planner only when the person confirmed it.
        if result == QDialog.DialogCode.Accepted:
            self.settings.planner = self.chosen_planner()
        self.settings.first_run_done = True
        save_settings(self.settings, self.settings_path)
