"""Driving the app under test (the `controller` fixture) as a person does: typing a task into the command bar,
waiting for a step to ask for approval."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt


def type_task(qtbot: Any, controller: Any, task: str) -> None:
    """Summon the command bar, type `task` and press Enter."""
    controller.command_bar.summon()
    qtbot.waitExposed(controller.command_bar)
    qtbot.keyClicks(controller.command_bar.edit, task)
    qtbot.keyClick(controller.command_bar.edit, Qt.Key.Key_Return)


def wait_for_step(qtbot: Any, controller: Any, index: int) -> Any:
    """Wait until the approval panel shows step `index` with its approve buttons armed; return its proposal."""
    qtbot.waitUntil(lambda: controller.panel.isVisible() and controller.panel.proposal is not None
                    and controller.panel.proposal.index == index, timeout=60_000)
    qtbot.waitUntil(lambda: controller.panel.armed)  # the approve buttons arm a moment after a step shows
    return controller.panel.proposal
