"""The Qt app driven like a person would: tasks typed in the command bar, steps approved, edited, skipped
or rejected in the approval panel, runs stopped. The agent acts for real on the real target app."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import mss
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication

from desktop_agent.agent import RunOutcome
from desktop_agent.app.qt_approval import OVERLAY_COLOUR, PickPointDialog
from desktop_agent.runs.store import RunStore
from tests.app.driving import type_task, wait_for_step
from tests.display import TargetApp

pytestmark = pytest.mark.display

OVERLAY_BGR = (OVERLAY_COLOUR.blue(), OVERLAY_COLOUR.green(), OVERLAY_COLOUR.red())


def overlay_pixels(bgr: np.ndarray) -> int:
    return int(np.all(bgr[:, :, :3] == np.array(OVERLAY_BGR, np.uint8), axis=2).sum())


def screen_now() -> np.ndarray:
    with mss.MSS() as sct:
        return np.array(sct.grab(sct.monitors[0]))[:, :, :3]


def inside(point: list[int], rect: list[int]) -> bool:
    return rect[0] <= point[0] < rect[2] and rect[1] <= point[1] < rect[3]


def test_a_task_from_the_command_bar_is_approved_and_clicks_the_real_app(qtbot: Any, controller: Any,
                                                                         target_app: TargetApp, home: Path) -> None:
    with qtbot.waitSignal(controller.run_finished, timeout=90_000) as done:
        type_task(qtbot, controller, 'click "Save"')
        proposal = wait_for_step(qtbot, controller, 0)
        # The step waits: nothing was clicked yet, and the overlay marks the target on the real screen.
        assert target_app.events("clicked") == []
        qtbot.waitUntil(lambda: controller.overlay.visible)
        time.sleep(0.3)
        shot = screen_now()
        x, y = proposal.targets[0].desktop.x, proposal.targets[0].desktop.y
        assert overlay_pixels(shot[max(0, y - 40):y + 40, max(0, x - 80):x + 80]) > 40
        assert "Save" in controller.panel.title.text()
        qtbot.mouseClick(controller.panel.approve, Qt.MouseButton.LeftButton)
    outcome = done.args[0]
    assert isinstance(outcome, RunOutcome) and outcome.status == "succeeded", outcome
    assert [e["widget"] for e in target_app.events("clicked")] == ["Save"]
    assert not controller.overlay.visible and not controller.panel.isVisible()
    store = RunStore(home)
    step = store.steps(outcome.run_id)[0]
    # The click landed on the target app's Save button, not on the timeline's 'Click "Save"' text
    # (the app's own windows are blanked in the agent's captures).
    assert inside(step.target["desktop"], target_app.widgets["Save"])  # type: ignore[index]
    for path in (step.before_path, step.after_path):
        img = cv2.imread(str(home / str(path)))
        assert img is not None and overlay_pixels(img) == 0  # the overlay never reaches a capture
    # The timeline shows the run as it happened.
    cards = controller.timeline.step_cards()
    assert len(cards) == 1 and "Save" in cards[0].title.text() and "verified" in cards[0].title.text()
    assert controller.command_bar.history[-1] == 'click "Save"'


def test_edit_skip_and_reject_at_the_approval_panel(qtbot: Any, controller: Any, target_app: TargetApp,
                                                    home: Path) -> None:
    save = target_app.widgets["Save"]

    def pick_save_in_dialog() -> None:
        dlg = next(w for w in QApplication.topLevelWidgets() if isinstance(w, PickPointDialog) and w.isVisible())
        proposal = controller.panel.proposal
        frame = proposal.targets[0].frame
        from desktop_agent.geometry import DesktopPoint

        p = frame.geometry.to_image(DesktopPoint((save[0] + save[2]) // 2, (save[1] + save[3]) // 2))
        qtbot.mouseClick(dlg.label, Qt.MouseButton.LeftButton, pos=QPoint(int(p.x * dlg.scale), int(p.y * dlg.scale)))

    with qtbot.waitSignal(controller.run_finished, timeout=120_000) as done:
        type_task(qtbot, controller, 'click "Open Report"; click "Delete"; click "Save"')
        wait_for_step(qtbot, controller, 0)
        QTimer.singleShot(500, pick_save_in_dialog)
        qtbot.mouseClick(controller.panel.edit, Qt.MouseButton.LeftButton)  # modal: returns once picked
        assert controller.panel.proposal.edited_point is not None
        qtbot.mouseClick(controller.panel.approve, Qt.MouseButton.LeftButton)
        proposal = wait_for_step(qtbot, controller, 1)
        assert proposal.risk  # deleting: on the approval floor
        assert "explicit approval" in controller.panel.risk.text()
        qtbot.mouseClick(controller.panel.skip, Qt.MouseButton.LeftButton)
        wait_for_step(qtbot, controller, 2)
        qtbot.keyClick(controller.panel, Qt.Key.Key_Escape)  # Esc rejects and stops
    outcome = done.args[0]
    assert outcome.status == "aborted", outcome
    # The edited step clicked Save instead of Open Report; Delete was skipped; the last step never ran.
    assert [e["widget"] for e in target_app.events("clicked")] == ["Save"]
    steps = RunStore(home).steps(outcome.run_id)
    assert [s.status for s in steps] == ["verified", "skipped", "aborted"]
    assert inside(steps[0].target["desktop"], save)  # type: ignore[index]


def test_stop_during_a_step_from_the_menu_and_the_hotkey(qtbot: Any, controller: Any, target_app: TargetApp,
                                                         home: Path) -> None:
    controller.settings.auto_approve = ["click", "wait"]
    with qtbot.waitSignal(controller.run_finished, timeout=90_000) as done:
        type_task(qtbot, controller, 'click "Save"; wait 30; click "Delete"')
        qtbot.waitUntil(lambda: len(target_app.events("clicked")) == 1, timeout=60_000)
        time.sleep(1.0)  # inside the 30 s wait
        started = time.monotonic()
        controller.actions["stop"].trigger()  # the tray menu's (and fallback window's) Stop
    assert time.monotonic() - started < 5
    assert done.args[0].status == "aborted"
    assert [e["widget"] for e in target_app.events("clicked")] == ["Save"]

    # The global hotkey does the same, whatever window has the focus.
    import pyautogui

    controller.settings.stop_hotkey = "ctrl+alt+escape"
    controller.register_hotkeys()
    assert controller.hotkey_error == "", controller.hotkey_error
    with qtbot.waitSignal(controller.run_finished, timeout=90_000) as done:
        controller.start_task('wait 30; click "Delete"')
        qtbot.waitUntil(lambda: controller.runner.agent is not None and controller.runner.running, timeout=30_000)
        time.sleep(1.5)
        started = time.monotonic()
        pyautogui.hotkey("ctrl", "alt", "escape")
    assert time.monotonic() - started < 5
    assert done.args[0].status == "aborted"
    assert {"event": "clicked", "widget": "Delete"} not in target_app.events("clicked")


def test_policy_approves_routine_steps_but_never_the_floor(qtbot: Any, controller: Any, target_app: TargetApp,
                                                           home: Path) -> None:
    """Auto-approving clicks inside the target app keeps a task to one decision: the risky one."""
    from desktop_agent.execution.windows import window_at
    from desktop_agent.geometry import DesktopPoint

    save = target_app.widgets["Save"]
    info = window_at(DesktopPoint(save[0] + 5, save[1] + 5))
    assert info is not None and info.app, info
    controller.settings.auto_approve = ["click", "scroll"]
    controller.settings.auto_approve_app = info.app
    asked: list[int] = []
    with qtbot.waitSignal(controller.run_finished, timeout=120_000) as done:
        type_task(qtbot, controller, 'click "Save"; click "Remember me"; click "Open Report"; click "Delete"')
        proposal = wait_for_step(qtbot, controller, 3)
        asked.append(proposal.index)
        qtbot.mouseClick(controller.panel.approve, Qt.MouseButton.LeftButton)
    assert done.args[0].status == "succeeded", done.args[0]
    assert asked == [3]  # only the delete step asked
    assert [e["widget"] for e in target_app.events("clicked")] == ["Save", "Open Report", "Delete"]


def test_closing_the_panel_while_a_step_waits_sends_nothing(qtbot: Any, controller: Any, target_app: TargetApp,
                                                            home: Path) -> None:
    with qtbot.waitSignal(controller.run_finished, timeout=90_000) as done:
        type_task(qtbot, controller, 'click "Save"')
        wait_for_step(qtbot, controller, 0)
        controller.panel.close()
    assert done.args[0].status in ("aborted", "failed")
    assert target_app.events("clicked") == []
