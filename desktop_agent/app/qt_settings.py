"""The settings dialog: planner and its options, API keys (to the OS keyring), hotkeys, approval rules,
data folder. Its labels are plain text (the key state carries error messages from the keyring)."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_agent.agent.approval import ACTION_KINDS
from desktop_agent.api_keys import delete_api_key, get_api_key, set_api_key
from desktop_agent.app.autostart import autostart_enabled, set_autostart
from desktop_agent.app.qt_text import plain_label
from desktop_agent.app.settings import AppSettings
from desktop_agent.errors import AgentError
from desktop_agent.planning.choice import PLANNERS

MODEL_HINTS = {"llama": "a .gguf file", "openai": "e.g. gpt-4o-mini (empty: the default)",
               "anthropic": "e.g. claude-sonnet-4-6 (empty: the default)"}
FLOOR = ("Always asked, whatever you choose here: typing into password fields, deleting, sending or "
         "submitting, closing unsaved work, and anything the planner marks risky.")


def _label(text: str, field: QWidget) -> QLabel:
    """A form label tied to its field (its buddy: screen readers name the field by it)."""
    label = plain_label(text)
    label.setBuddy(field)
    field.setAccessibleName(text)
    return label


def _with_browse(edit: QLineEdit, title: str, folder: bool = False) -> tuple[QWidget, QPushButton]:
    w = QWidget()
    lay = QHBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(edit, 1)
    b = QPushButton("Browse…")

    def browse() -> None:
        path = (QFileDialog.getExistingDirectory(w, title) if folder
                else QFileDialog.getOpenFileName(w, title, "", "GGUF models (*.gguf);;All files (*)")[0])
        if path:
            edit.setText(path)
    b.clicked.connect(browse)
    lay.addWidget(b)
    return w, b


class SettingsDialog(QDialog):
    """The settings dialog: planner and model, API keys, reading the screen, hotkeys, approval, data folder and
    autostart."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings")
        self.setWindowTitle("desktop-agent: settings")
        self.settings = settings
        lay = QVBoxLayout(self)
        lay.addWidget(self._planner_group(settings))
        lay.addWidget(self._reading_group(settings))
        lay.addWidget(self._hotkeys_group(settings))
        lay.addWidget(self._approval_group(settings))
        lay.addWidget(self._data_group(settings))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.planner.currentTextChanged.connect(self._planner_changed)
        self._planner_changed(self.planner.currentText())

    def _planner_group(self, settings: AppSettings) -> QGroupBox:
        """The planner, its model and options, and the provider's API key."""
        planner = QGroupBox("Planner")
        pf = QFormLayout(planner)
        self.planner = QComboBox()
        self.planner.addItems(list(PLANNERS))
        self.planner.setCurrentText(settings.planner)
        self.model = QLineEdit(settings.model)
        self.mmproj = QLineEdit(settings.mmproj)
        self.mmproj.setPlaceholderText("vision models: the mmproj .gguf")
        self.base_url = QLineEdit(settings.base_url)
        self.base_url.setPlaceholderText("e.g. http://127.0.0.1:11434/v1")
        self.base_url.setToolTip("An OpenAI-compatible server (llama.cpp, Ollama, vLLM); empty: the provider's own")
        self.images = QSpinBox()
        self.images.setRange(0, 8)
        self.images.setValue(settings.recent_images)
        self.text_only = QCheckBox("the model takes no images")
        self.text_only.setChecked(settings.text_only)
        keyrow = self._key_row()
        pf.addRow(_label("Planner", self.planner), self.planner)
        # A field and its Browse… button are one row widget: enabled together, only where they apply.
        self.model_row, self.model_browse = _with_browse(self.model, "Choose a GGUF model")
        self.mmproj_row, self.mmproj_browse = _with_browse(self.mmproj, "Choose the mmproj file")
        pf.addRow(_label("Model", self.model), self.model_row)
        pf.addRow(_label("Vision projector", self.mmproj), self.mmproj_row)
        pf.addRow(_label("Server URL", self.base_url), self.base_url)
        pf.addRow(_label("Screenshots per step", self.images), self.images)
        pf.addRow(plain_label(), self.text_only)
        pf.addRow(_label("API key", self.api_key), keyrow)
        pf.addRow(plain_label(), self.key_state)
        return planner

    def _reading_group(self, settings: AppSettings) -> QGroupBox:
        """How the screen is read: the apps' accessibility trees fused with the pixels, or pixels only."""
        reading = QGroupBox("Reading the screen")
        rf = QFormLayout(reading)
        self.accessibility = QCheckBox("Use the apps' accessibility information (exact names, roles and states)")
        self.accessibility.setToolTip("Where an app publishes it (AT-SPI: GTK, Qt, browsers), the names of "
                                      "icon-only buttons, check box states and password fields come from the app; "
                                      "off: read from the pixels only")
        self.accessibility.setChecked(settings.accessibility)
        rf.addRow(plain_label(), self.accessibility)
        return reading

    def _key_row(self) -> QWidget:
        """The API key field with its Save and Forget buttons (and the key's state, shown below it)."""
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_state = plain_label(wrap=True)
        save_key = QPushButton("Save key to the keyring")
        forget_key = QPushButton("Forget key")
        save_key.clicked.connect(self.save_key)
        forget_key.clicked.connect(self.forget_key)
        keyrow = QWidget()
        kl = QHBoxLayout(keyrow)
        kl.setContentsMargins(0, 0, 0, 0)
        kl.addWidget(self.api_key, 1)
        kl.addWidget(save_key)
        kl.addWidget(forget_key)
        return keyrow

    def _hotkeys_group(self, settings: AppSettings) -> QGroupBox:
        """The command bar's and the stop hotkeys."""
        keys = QGroupBox("Hotkeys")
        kf = QFormLayout(keys)
        self.summon = QKeySequenceEdit(QKeySequence(settings.summon_hotkey.title()))
        self.stop = QKeySequenceEdit(QKeySequence(settings.stop_hotkey.title()))
        kf.addRow(_label("Command bar", self.summon), self.summon)
        kf.addRow(_label("Stop the run", self.stop), self.stop)
        return keys

    def _approval_group(self, settings: AppSettings) -> QGroupBox:
        """The kinds of step approved without asking, the app they are limited to, and the floor always asked."""
        approval = QGroupBox("Approval")
        af = QVBoxLayout(approval)
        af.addWidget(plain_label("Approve without asking:"))
        row = QHBoxLayout()
        self.auto: dict[str, QCheckBox] = {}
        for kind in ACTION_KINDS:
            c = QCheckBox(kind)
            c.setChecked(kind in settings.auto_approve)
            self.auto[kind] = c
            row.addWidget(c)
        af.addLayout(row)
        self.app_name = QLineEdit(settings.auto_approve_app)
        self.app_name.setPlaceholderText("e.g. gedit; empty: any window")
        self.app_name.setToolTip("Approve the kinds ticked above only inside this app's windows")
        app_row = QFormLayout()
        app_row.setContentsMargins(0, 0, 0, 0)
        self.app_label = _label("Only in the app", self.app_name)
        app_row.addRow(self.app_label, self.app_name)
        af.addLayout(app_row)
        floor = plain_label(FLOOR, wrap=True)
        floor.setEnabled(False)
        af.addWidget(floor)
        return approval

    def _data_group(self, settings: AppSettings) -> QGroupBox:
        """The run database's folder and the autostart with the session."""
        data = QGroupBox("Data")
        df = QFormLayout(data)
        self.data_folder = QLineEdit(settings.data_folder)
        self.data_folder.setPlaceholderText("default: the user data folder")
        df.addRow(_label("Run database folder", self.data_folder),
                  _with_browse(self.data_folder, "Choose the data folder", folder=True)[0])
        self.autostart = QCheckBox("Start desktop-agent with my session")
        self.autostart.setChecked(autostart_enabled())
        df.addRow(plain_label(), self.autostart)
        return data

    def _provider(self) -> str | None:
        kind = self.planner.currentText()
        return kind if kind in ("openai", "anthropic") else None

    def _planner_changed(self, kind: str) -> None:
        self.model_row.setEnabled(kind != "direct")  # the field and its Browse… button
        self.model_browse.setEnabled(kind == "llama")  # a .gguf file only for llama
        self.mmproj_row.setEnabled(kind == "llama")
        self.model.setPlaceholderText(MODEL_HINTS.get(kind, ""))
        self.base_url.setEnabled(kind in ("openai", "anthropic"))
        self.api_key.setEnabled(self._provider() is not None)
        provider = self._provider()
        if provider is None:
            self.key_state.setText("")
        else:
            found = get_api_key(provider) is not None
            self.key_state.setText(f"{provider} key: {'found' if found else 'not set'} "
                                   "(environment variable or OS keyring)")

    def save_key(self) -> None:
        """Store the typed API key in the OS keyring for the chosen provider."""
        provider = self._provider()
        if provider is None:
            return
        try:
            backend = set_api_key(provider, self.api_key.text())
            self.key_state.setText(f"{provider} key stored in the OS keyring ({backend})")
        except AgentError as exc:
            self.key_state.setText(str(exc))
        self.api_key.clear()

    def forget_key(self) -> None:
        """Delete the chosen provider's API key from the OS keyring."""
        provider = self._provider()
        if provider is None:
            return
        try:
            gone = delete_api_key(provider)
            self.key_state.setText(f"{provider} key {'deleted' if gone else 'was not in the keyring'}")
        except AgentError as exc:
            self.key_state.setText(str(exc))

    def result_settings(self) -> AppSettings:
        """The settings as the dialog shows them (written into the settings it was opened with)."""
        s = self.settings
        s.planner = self.planner.currentText()
        s.model = self.model.text().strip()
        s.mmproj = self.mmproj.text().strip()
        s.base_url = self.base_url.text().strip()
        s.recent_images = self.images.value()
        s.text_only = self.text_only.isChecked()
        s.accessibility = self.accessibility.isChecked()
        summon = self.summon.keySequence().toString().lower()
        stop = self.stop.keySequence().toString().lower()
        s.summon_hotkey = summon or s.summon_hotkey
        s.stop_hotkey = stop or s.stop_hotkey
        s.auto_approve = [k for k, c in self.auto.items() if c.isChecked()]
        s.auto_approve_app = self.app_name.text().strip()
        s.data_folder = self.data_folder.text().strip()
        if self.autostart.isChecked() != autostart_enabled():
            set_autostart(self.autostart.isChecked())
        return s
