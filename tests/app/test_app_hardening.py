"""The app's hardening, driven on the real Xvfb display: approval never given by accident (focus, stray
Enter, typeahead, the floor), screen and model text shown as plain text, a clean exit on Quit and SIGTERM,
a stopped run shown as stopped, a task entered during a run kept, and no secret in the task history."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from desktop_agent.agent import Located, RunOutcome, StepProposal
from desktop_agent.agent.approval import Decision
from desktop_agent.app.qt_approval import FLOOR_KEYS, ApprovalPanel, QtApprover
from desktop_agent.capture.frame import ScreenFrame
from desktop_agent.capture.virtual_display import VirtualDisplay, stop_process
from desktop_agent.geometry import DesktopPoint, Rect
from desktop_agent.grounding.instruction import parse_instruction
from desktop_agent.grounding.locate import LocateResult
from desktop_agent.perception.elements import Element, ElementKind
from desktop_agent.planning.actions import Click, Target, TypeText
from desktop_agent.planning.planner import PlannedStep
from desktop_agent.runs.store import RunStore
from tests.app.driving import type_task
from tests.display import TargetApp
from tests.e2e_helpers import ROOT

pytestmark = pytest.mark.display

# What a model's reason, a label read from the screen or a task could hold to talk the person into approving.
HTML = '<b style="color:green">✓ Checked: safe</b><span style="font-size:1px">hidden</span>'
RED = "#c62828"


# -- helpers ---------------------------------------------------------------------------------------------
def proposal(risk: str | None = None, label: str = "Save", reason: str = "Save stores the changes.",
             typing: str | None = None) -> StepProposal:
    """A step as the agent proposes it: a real frame, a located element, the planner's reason."""
    image = np.full((300, 500, 3), 235, np.uint8)
    box = Rect(200, 120, 280, 150)
    el = Element(3, ElementKind.BUTTON, box, label, 0.93, "ocr+detector")
    res = LocateResult(box.center, box, 0.97, el, parse_instruction(label))
    target = Target(element_id=3, monitor=1, label=label)
    loc = Located(target, ScreenFrame.from_image(image), res, DesktopPoint(240, 135))
    action = TypeText(text=typing, into=target) if typing is not None else Click(target=target)
    return StepProposal(0, PlannedStep(action, reason, 0.9, {"prompt_tokens": 100.0}), [loc], risk)


class Asking:
    """The agent's side: a thread that asks the approver about one step and waits, as the agent does."""

    def __init__(self, approver: QtApprover, step: StepProposal) -> None:
        self.approver = approver
        self.decisions: list[Decision] = []
        self.error: BaseException | None = None
        approver.open()  # as the runner does when a run starts
        self.thread = threading.Thread(target=self._run, args=(step,), daemon=True)
        self.thread.start()

    def _run(self, step: StepProposal) -> None:
        try:
            self.decisions.append(self.approver.decide(step))
        except BaseException as exc:  # the refusal when the test closes the approver
            self.error = exc

    def finish(self) -> None:
        self.approver.close()
        self.thread.join(5)


@pytest.fixture
def panel(qtbot: Any, qapp: Any) -> Iterator[tuple[QtApprover, ApprovalPanel]]:
    approver = QtApprover()
    approver.open()
    p = ApprovalPanel(approver)
    qtbot.addWidget(p)
    yield approver, p
    approver.close()


def x_focus() -> int:
    """The X window that has the keyboard focus now."""
    from Xlib import display

    d = display.Display()
    try:
        focus = d.get_input_focus().focus
        return int(focus) if isinstance(focus, int) else int(focus.id)
    finally:
        d.close()


def click_widget(qtbot: Any, w: QWidget) -> None:
    """A real click (X input through the server, as a person's), in the middle of a widget."""
    import pyautogui

    c = w.mapToGlobal(w.rect().center())
    pyautogui.click(c.x(), c.y())
    qtbot.wait(150)


def shown_text(label: QLabel) -> str:
    """What the person reads in a label: its text as Qt renders it."""
    if label.textFormat() == Qt.TextFormat.PlainText:
        return label.text()
    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def assert_plain_everywhere(root: QWidget, rich: tuple[QLabel, ...] = ()) -> None:
    """No label shows text as HTML on Qt's guess: plain text, or rich text of ours (listed) whose untrusted
    parts are escaped, so any tags in them show literally."""
    for label in root.findChildren(QLabel):
        if label in rich:
            assert label.textFormat() == Qt.TextFormat.RichText
            if "Checked" in shown_text(label):
                assert HTML in shown_text(label), label.text()
        else:
            assert label.textFormat() == Qt.TextFormat.PlainText, (label.objectName(), label.text())


# -- 1. approval never given by accident ---------------------------------------------------------------
def test_the_panel_never_takes_the_focus_and_stray_keys_never_approve(qtbot: Any, panel: Any,
                                                                       target_app: TargetApp) -> None:
    import pyautogui

    approver, p = panel
    name = target_app.widgets["name"]
    # The person is typing in another app's field.
    pyautogui.click((name[0] + name[2]) // 2, (name[1] + name[3]) // 2)
    pyautogui.write("ab", interval=0.02)
    qtbot.waitUntil(lambda: any(e.get("value") == "ab" for e in target_app.events("text")), timeout=5_000)
    focus_before = x_focus()
    # A step comes up for approval while they type on, Enter included.
    asking = Asking(approver, proposal())
    try:
        qtbot.waitUntil(p.isVisible)
        pyautogui.write("cd", interval=0.02)
        pyautogui.press("enter")
        qtbot.wait(900)  # past the moment the panel's buttons arm
        pyautogui.write("ef", interval=0.02)
        pyautogui.press("enter")
        qtbot.wait(300)
        # Every key went where the person was typing; the panel took no focus and approved nothing.
        texts = [e["value"] for e in target_app.events("text")]
        assert texts[-1] == "abcdef", texts
        assert [e["value"] for e in target_app.events("submitted")] == ["abcd", "abcdef"]
        assert x_focus() == focus_before and x_focus() != int(p.winId())
        assert not p.isActiveWindow() and QApplication.activeWindow() is not p
        assert asking.decisions == [] and asking.thread.is_alive()
        # Keys that reach the panel anyway (focus follows the mouse, or the pointer is over it) never
        # approve while nobody clicked into it: not Enter, not typeahead, not even the shortcut.
        qtbot.keyClick(p, Qt.Key.Key_Return)
        qtbot.keyClicks(p, "yes")
        qtbot.keyClick(p, Qt.Key.Key_Return)
        qtbot.keyClick(p.skip, Qt.Key.Key_Return)
        qtbot.keyClick(p, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.wait(200)
        assert asking.decisions == [] and asking.thread.is_alive()
        # No default button: nothing for Enter (or Space) to press.
        assert not any(b.isDefault() or b.autoDefault() for b in (p.approve, p.skip, p.edit, p.rest, p.reject))
        assert all(b.focusPolicy() == Qt.FocusPolicy.NoFocus for b in (p.approve, p.skip, p.edit, p.rest, p.reject))
    finally:
        asking.finish()


def test_enter_never_approves_even_inside_the_panel_and_the_floor_needs_the_deliberate_shortcut(
        qtbot: Any, panel: Any) -> None:
    import pyautogui

    approver, p = panel
    # A step on the approval floor; the person clicks into the panel (now it has the focus).
    asking = Asking(approver, proposal(risk="deleting or closing something", label="Delete"))
    try:
        qtbot.waitUntil(lambda: p.armed)
        assert FLOOR_KEYS in p.approve.toolTip() and "Enter does not" in p.approve.toolTip()
        click_widget(qtbot, p.title)
        qtbot.waitUntil(p.isActiveWindow)
        pyautogui.press("enter")
        pyautogui.hotkey("ctrl", "enter")  # the routine shortcut does not approve the floor
        pyautogui.press("space")
        qtbot.wait(300)
        assert asking.decisions == [] and asking.thread.is_alive()
        assert FLOOR_KEYS in p.keys_hint.text()
        pyautogui.hotkey("ctrl", "shift", "enter")
        qtbot.waitUntil(lambda: bool(asking.decisions), timeout=5_000)
        assert asking.decisions == [Decision.APPROVE]
    finally:
        asking.finish()

    # A routine step: Enter does not approve it either, Ctrl+Enter does.
    asking = Asking(approver, proposal(label="Save"))
    try:
        qtbot.waitUntil(lambda: p.armed)
        click_widget(qtbot, p.title)
        qtbot.waitUntil(p.isActiveWindow)
        pyautogui.press("enter")
        qtbot.wait(300)
        assert asking.decisions == []
        pyautogui.hotkey("ctrl", "enter")
        qtbot.waitUntil(lambda: bool(asking.decisions), timeout=5_000)
        assert asking.decisions == [Decision.APPROVE]
    finally:
        asking.finish()

    # Typing step: Enter in its text field does not approve; the edited text goes with a click on Approve.
    step = proposal(label="Name", typing="Zürich")
    asking = Asking(approver, step)
    try:
        qtbot.waitUntil(lambda: p.armed)
        click_widget(qtbot, p.text_edit)
        qtbot.waitUntil(p.text_edit.hasFocus)
        pyautogui.hotkey("ctrl", "a")
        pyautogui.write("Bern", interval=0.02)
        pyautogui.press("enter")
        qtbot.wait(300)
        assert asking.decisions == [] and p.text_edit.text() == "Bern"
        click_widget(qtbot, p.approve)
        qtbot.waitUntil(lambda: bool(asking.decisions), timeout=5_000)
        assert asking.decisions == [Decision.APPROVE] and step.edited_text == "Bern"
    finally:
        asking.finish()

    # Typing a password: on the floor, and the text is not shown in the panel.
    from PySide6.QtWidgets import QLineEdit

    from desktop_agent.agent.risk import PASSWORD_RISK

    p.ask_step(proposal(risk=PASSWORD_RISK, label="Password", typing="hunter2"))
    assert p.on_floor and p.text_edit.echoMode() == QLineEdit.EchoMode.Password


class Questioning(Asking):
    """The agent's side of a question (ask_user): a thread that waits for the person's answer."""

    def __init__(self, approver: QtApprover, question: str) -> None:
        self.answers: list[str | None] = []
        self.question = question
        super().__init__(approver, proposal())  # (the step is not used: the thread asks the question)

    def _run(self, step: StepProposal) -> None:
        try:
            self.answers.append(self.approver.answer(self.question))
        except BaseException as exc:
            self.error = exc


def test_a_question_takes_no_typeahead_and_stop_stops_the_run(qtbot: Any, panel: Any) -> None:
    import pyautogui

    from desktop_agent.errors import RunAborted

    approver, p = panel
    asking = Questioning(approver, "Which colour?")
    try:
        qtbot.waitUntil(lambda: p.armed)
        pyautogui.write("red", interval=0.02)  # typed for another window: never lands in the answer
        pyautogui.press("enter")
        qtbot.keyClick(p, Qt.Key.Key_Return)
        qtbot.wait(300)
        assert asking.answers == [] and p.answer_edit.text() == ""
        click_widget(qtbot, p.answer_edit)
        qtbot.waitUntil(p.answer_edit.hasFocus)
        pyautogui.write("blue", interval=0.02)
        pyautogui.press("enter")  # in the answer field the person clicked into, Enter sends it
        qtbot.waitUntil(lambda: bool(asking.answers), timeout=5_000)
        assert asking.answers == ["blue"]
    finally:
        asking.finish()
    # Stop at a question ends the run as stopped by the person, not as "no one answered".
    asking = Questioning(approver, "Which colour?")
    try:
        qtbot.waitUntil(lambda: p.armed)
        qtbot.mouseClick(p.reject, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: asking.error is not None, timeout=5_000)
        assert isinstance(asking.error, RunAborted) and "stopped by you" in str(asking.error)
    finally:
        asking.finish()


def test_a_click_on_approve_counts_only_once_the_step_has_been_shown_a_moment(qtbot: Any, panel: Any) -> None:
    approver, p = panel
    p.arm_ms = 4000  # long enough to click before it arms, on a slow machine too
    asking = Asking(approver, proposal(risk="sending or submitting something", label="Send"))
    try:
        qtbot.waitUntil(p.isVisible)
        qtbot.wait(100)
        click_widget(qtbot, p.approve)  # a click meant for what was there a moment ago
        qtbot.wait(200)
        assert asking.decisions == [] and not p.approve.isEnabled()
        qtbot.waitUntil(lambda: p.armed, timeout=8_000)
        click_widget(qtbot, p.approve)
        qtbot.waitUntil(lambda: bool(asking.decisions), timeout=5_000)
        assert asking.decisions == [Decision.APPROVE]
    finally:
        asking.finish()


# -- 2. screen, model, task and run text is plain text --------------------------------------------------
def test_html_from_the_screen_or_the_model_shows_literally_everywhere(qtbot: Any, panel: Any, home: Path) -> None:
    from desktop_agent.app.controller import FallbackWindow
    from desktop_agent.app.qt_command_bar import CommandBar
    from desktop_agent.app.qt_settings import SettingsDialog
    from desktop_agent.app.qt_timeline import TimelineWindow
    from desktop_agent.app.settings import AppSettings

    _, p = panel
    # The approval panel: a label read from the screen, the model's reason, a planner-marked risk.
    p.ask_step(proposal(risk=HTML, label=HTML, reason=HTML))
    for label in (p.title, p.reason, p.risk):
        assert label.textFormat() == Qt.TextFormat.PlainText
        assert HTML in label.text() and HTML in shown_text(label)
    assert_plain_everywhere(p)
    p.ask_question(HTML)
    assert HTML in shown_text(p.title)
    assert_plain_everywhere(p)

    # The timeline: the task, the step's words and reason, its error and outcome, the run's message.
    store = RunStore(home)
    run = store.start_run(HTML, "openai:gpt-4o-mini", "ask", [])
    store.add_step(run, 0, {"action": "click"}, f'Click "{HTML}"', HTML)
    store.update_step(run, 0, status="failed", error=HTML, usage={"confidence": 0.9})
    store.add_step(run, 1, {"action": "click"}, "Click", HTML)
    store.update_step(run, 1, status="verified", verify={"changed": True, "detail": HTML})
    store.finish_run(run, "failed", HTML)
    store.close()
    win = TimelineWindow(home)
    qtbot.addWidget(win)
    win.show_run(run)
    win.set_status(HTML)
    cards = win.step_cards()
    assert len(cards) == 2
    assert cards[0].why is not None and cards[0].outcome is not None and cards[1].outcome is not None
    for label in (cards[0].why, cards[0].outcome, cards[1].why, cards[1].outcome, win.status):
        assert label is not None and label.textFormat() == Qt.TextFormat.PlainText and HTML in label.text()
    # Our own formatting (bold task, status badges) escapes what it shows: the tags read literally.
    assert HTML in shown_text(win.header) and HTML in shown_text(cards[0].title)
    assert_plain_everywhere(win, rich=(win.header, *(c.title for c in cards)))
    win.store.close()

    # The command bar (the model's name), the no-tray window (the run's status), the settings dialog.
    bar = CommandBar([HTML])
    qtbot.addWidget(bar)
    bar.set_planner(HTML)
    bar.set_busy(HTML)
    assert HTML in bar.planner.text()
    assert_plain_everywhere(bar)
    from PySide6.QtGui import QAction

    fallback = FallbackWindow({"quit": QAction("Quit", fallback_parent := QWidget())})
    qtbot.addWidget(fallback)
    qtbot.addWidget(fallback_parent)
    fallback.status.setText(HTML)
    assert_plain_everywhere(fallback)
    dlg = SettingsDialog(AppSettings())
    qtbot.addWidget(dlg)
    dlg.key_state.setText(HTML)
    assert_plain_everywhere(dlg)


# -- 3. Quit and SIGTERM exit cleanly --------------------------------------------------------------------
def _x_windows(pid: int) -> dict[str, tuple[int, int, int, int, int]]:
    """The mapped top-level windows of process `pid`: title -> (id, x, y, width, height)."""
    from Xlib import X, display
    from Xlib import error as xerror

    d = display.Display()
    try:
        root = d.screen().root
        pid_atom, name_atom = d.intern_atom("_NET_WM_PID"), d.intern_atom("_NET_WM_NAME")
        out = {}
        for w in root.query_tree().children:
            try:
                prop = w.get_full_property(pid_atom, X.AnyPropertyType)
                if not prop or int(prop.value[0]) != pid or w.get_attributes().map_state != X.IsViewable:
                    continue
                name = w.get_full_property(name_atom, X.AnyPropertyType)
                title = name.value.decode() if name and isinstance(name.value, bytes) else str(w.get_wm_name())
                g = w.get_geometry()
                pos = w.translate_coords(root, 0, 0)
                out[title] = (int(w.id), -pos.x, -pos.y, g.width, g.height)
            except xerror.XError:
                continue
        return out
    finally:
        d.close()


@pytest.fixture
def app_process(xvfb: VirtualDisplay, tmp_path: Path, home: Path) -> Iterator[Any]:
    """Starts `desktop-agent app --no-tray` as its own process on the test display; always stopped after."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(*extra: str) -> subprocess.Popen[bytes]:
        from desktop_agent.app.settings import AppSettings, save_settings

        ini = tmp_path / "app.ini"
        save_settings(AppSettings(auto_approve=[], data_folder=str(home)), str(ini))
        env = dict(os.environ, QT_QPA_PLATFORM="xcb", DESKTOP_AGENT_HOME=str(home), PYTHONUNBUFFERED="1")
        proc = subprocess.Popen([sys.executable, "-m", "desktop_agent", "app", "--no-tray", "--no-hotkeys",
                                 "--settings", str(ini), *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            stop_process(proc)


def wait_for_window(proc: subprocess.Popen[bytes], title: str, timeout: float = 60) -> tuple[int, int, int, int, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wins = _x_windows(proc.pid)
        if title in wins:
            time.sleep(0.5)  # painted and taking input
            return _x_windows(proc.pid)[title]
        if proc.poll() is not None:
            raise AssertionError(f"the app exited early: {proc.communicate()[1].decode()}")
        time.sleep(0.2)
    raise AssertionError(f"no window {title!r}; windows: {_x_windows(proc.pid)}")


def assert_clean_exit(proc: subprocess.Popen[bytes]) -> None:
    _, err = proc.communicate(timeout=30)
    stderr = err.decode(errors="replace")
    assert proc.returncode == 0, stderr
    for bad in ("Traceback", "already deleted", "RuntimeError", "Segmentation"):
        assert bad not in stderr, stderr


def test_sigterm_ends_the_app_cleanly(app_process: Any) -> None:
    proc = app_process()
    wait_for_window(proc, "desktop-agent")
    proc.send_signal(signal.SIGTERM)
    assert_clean_exit(proc)


def test_quit_in_the_window_ends_the_app_cleanly(app_process: Any) -> None:
    import pyautogui

    proc = app_process()
    _, x, y, w, h = wait_for_window(proc, "desktop-agent")
    # The no-tray window: a status line over a row of buttons; Quit is the last, at the bottom right.
    pyautogui.click(x + w - 30, y + h - 20)
    assert_clean_exit(proc)


def test_closing_the_window_ends_the_app_cleanly(app_process: Any) -> None:
    from Xlib import X, display, protocol

    proc = app_process()
    wid = wait_for_window(proc, "desktop-agent")[0]
    d = display.Display()
    try:  # what a window manager sends when the person closes the window
        win = d.create_resource_object("window", wid)
        protocols, delete = d.intern_atom("WM_PROTOCOLS"), d.intern_atom("WM_DELETE_WINDOW")
        win.send_event(protocol.event.ClientMessage(window=win, client_type=protocols,
                                                    data=(32, [delete, X.CurrentTime, 0, 0, 0])),
                       event_mask=X.NoEventMask)
        d.flush()
    finally:
        d.close()
    assert_clean_exit(proc)


def test_sigterm_while_a_step_waits_for_approval_stops_the_run_and_exits_cleanly(app_process: Any,
                                                                                 home: Path) -> None:
    proc = app_process("--task", "wait 30")
    wait_for_window(proc, "desktop-agent: approve this step?", timeout=120)
    proc.send_signal(signal.SIGTERM)
    assert_clean_exit(proc)
    run = RunStore(home).list_runs()[0]
    assert run.status == "aborted" and "the app was closed" in run.message, (run.status, run.message)


# -- 4. a run the person stopped shows as stopped --------------------------------------------------------
def test_a_run_you_stop_shows_as_stopped_by_you_not_as_failed(qtbot: Any, controller: Any, home: Path) -> None:
    with qtbot.waitSignal(controller.run_finished, timeout=90_000) as done:
        type_task(qtbot, controller, "wait 30")
        qtbot.waitUntil(lambda: controller.panel.isVisible() and controller.panel.proposal is not None,
                        timeout=60_000)
        qtbot.mouseClick(controller.timeline.stop_button, Qt.MouseButton.LeftButton)  # the person's Stop
    outcome = done.args[0]
    assert isinstance(outcome, RunOutcome) and outcome.status == "aborted", outcome
    tl = controller.timeline
    header = shown_text(tl.header)
    assert "Stopped by you" in header and "stopped" in header, header
    assert "failed" not in header and RED not in tl.header.text()
    assert "stopped" in tl.runs.currentText() and "failed" not in tl.runs.currentText()
    cards = tl.step_cards()
    assert len(cards) == 1 and "stopped" in shown_text(cards[0].title) and RED not in cards[0].title.text()
    assert cards[0].outcome is None  # no "Error:" line for a step the person stopped
    assert tl.status.text() == "Stopped by you"
    assert not controller.panel.isVisible()


def test_the_timeline_shows_a_stopped_run_in_neutral_words(qtbot: Any, home: Path) -> None:
    from desktop_agent.app.qt_timeline import NEUTRAL, TimelineWindow

    store = RunStore(home)
    run = store.start_run("wait 30", "direct", "ask", [])
    store.add_step(run, 0, {"action": "wait"}, "Wait 30 s", "")
    store.finish_run(run, "aborted", "run stopped on request")
    store.close()
    win = TimelineWindow(home)
    qtbot.addWidget(win)
    win.show_run(run)
    line = " ".join(shown_text(win.header).splitlines()[1].split())  # badge, then the words
    assert line.startswith("stopped Stopped by you ·"), line
    assert NEUTRAL in win.header.text() and RED not in win.header.text()
    assert "stopped" in shown_text(win.step_cards()[0].title)
    win.store.close()


# -- 5. a task entered while a run is in progress is kept, visibly ---------------------------------------
def test_a_task_entered_during_a_run_is_kept_in_the_bar_and_starts_after(qtbot: Any, controller: Any) -> None:
    bar = controller.command_bar
    with qtbot.waitSignal(controller.run_finished, timeout=90_000):
        type_task(qtbot, controller, "wait 30")
        qtbot.waitUntil(lambda: controller.panel.proposal is not None, timeout=60_000)
        first_run = controller.runner.agent._run_id
        type_task(qtbot, controller, "wait 1")
        qtbot.wait(200)
        # Not started, not dropped: still in the bar, which says why.
        assert bar.isVisible() and bar.edit.text() == "wait 1"
        assert bar.notice.isVisible() and "waiting for your approval" in bar.notice.text()
        assert controller.runner.agent._run_id == first_run
        assert "wait 1" not in controller.settings.history
        qtbot.mouseClick(controller.panel.reject, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not controller.runner.running)
    assert bar.edit.text() == "wait 1" and "run is over" in bar.notice.text()
    with qtbot.waitSignal(controller.run_finished, timeout=90_000) as done:
        qtbot.keyClick(bar.edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: controller.panel.proposal is not None, timeout=60_000)
        assert not bar.isVisible() and controller.settings.history[-1] == "wait 1"
        qtbot.mouseClick(controller.panel.reject, Qt.MouseButton.LeftButton)
    assert done.args[0].run_id != first_run


# -- 6. the task history never holds a secret ------------------------------------------------------------
def test_a_typed_password_never_reaches_the_history_or_the_settings_file(qtbot: Any, controller: Any,
                                                                          tmp_path: Path) -> None:
    from desktop_agent.app.settings import load_settings, save_settings

    task = 'click "Password"; type "hunter2" into "Password"'
    ini = tmp_path / "settings.ini"
    with qtbot.waitSignal(controller.run_finished, timeout=90_000):
        type_task(qtbot, controller, task)
        assert ini.exists() and b"hunter2" not in ini.read_bytes()  # written as the task starts
        assert "hunter2" not in controller.timeline.status.text()
    assert b"hunter2" not in ini.read_bytes()
    assert controller.settings.history[-1] == 'click "Password"; type "••••••••" into "Password"'
    assert not any("hunter2" in t for t in controller.command_bar.history + controller.settings.history)
    qtbot.keyClick(controller.command_bar.edit, Qt.Key.Key_Up)  # walking the history shows no secret either
    controller.command_bar.summon()
    qtbot.keyClick(controller.command_bar.edit, Qt.Key.Key_Up)
    assert "hunter2" not in controller.command_bar.edit.text() and "••••" in controller.command_bar.edit.text()

    # A settings file written before this (a secret in its history) is cleaned when read and saved again.
    from PySide6.QtCore import QSettings

    old = tmp_path / "old.ini"
    qs = QSettings(str(old), QSettings.Format.IniFormat)
    qs.setValue("history", ['type "hunter2" into "Password"', 'click "Save"'])
    qs.sync()
    assert b"hunter2" in old.read_bytes()
    loaded = load_settings(str(old))
    assert loaded.history == ['type "••••••••" into "Password"', 'click "Save"']
    save_settings(loaded, str(old))
    assert b"hunter2" not in old.read_bytes()
