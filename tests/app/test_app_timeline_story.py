"""The timeline tells a run as a story, on a real display with the real target app: the result of each step in
words read from the screen, before and after pictures side by side at a readable size, the run's totals,
stage figures in a person's words with the developer's behind Details, a width that stays on the screen, and
the timeline back on top after each step. The exported report tells the same story."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer

from desktop_agent.runs.store import RunStore
from tests.app.driving import type_task, wait_for_step
from tests.display import TargetApp

pytestmark = pytest.mark.display


def _approve(qtbot: Any, controller: Any, index: int, ready: list[int]) -> None:
    qtbot.waitUntil(lambda: index in ready, timeout=60_000)
    wait_for_step(qtbot, controller, index)
    qtbot.mouseClick(controller.panel.approve, Qt.MouseButton.LeftButton)


class Stacking:
    """The X stacking order of top-level windows, asked on the test display (no window manager there)."""

    def __init__(self) -> None:
        from Xlib import display

        self.d = display.Display()
        self.root = self.d.screen().root

    def order(self) -> list[int]:
        return [w.id for w in self.root.query_tree().children]  # bottom to top

    def window_of(self, pid: int) -> int:
        atom = self.d.intern_atom("_NET_WM_PID")
        for w in reversed(self.root.query_tree().children):
            prop = w.get_full_property(atom, 0)
            if prop is not None and len(prop.value) and int(prop.value[0]) == pid and w.get_attributes().map_state:
                return int(w.id)
        raise AssertionError(f"no mapped window of process {pid}")

    def raise_window(self, wid: int) -> None:
        from Xlib import X

        self.d.create_resource_object("window", wid).configure(stack_mode=X.Above)
        self.d.sync()

    def close(self) -> None:
        self.d.close()


def test_a_run_reads_as_a_story_in_the_timeline_and_the_report(qtbot: Any, controller: Any, target_app: TargetApp,
                                                               home: Path, tmp_path: Path) -> None:
    tl = controller.timeline
    tl.show()
    qtbot.waitExposed(tl)
    stacking = Stacking()
    target_win = stacking.window_of(target_app.proc.pid)
    above_after_step: list[bool] = []
    raised: list[int] = []

    def check_and_raise(step: int) -> None:
        if step:  # the step before is over: is the timeline back on top of the app it drove?
            order = stacking.order()
            above_after_step.append(order.index(int(tl.winId())) > order.index(target_win))
        stacking.raise_window(target_win)  # the driven app comes up over the timeline, as a click may raise it
        order = stacking.order()
        assert order.index(target_win) > order.index(int(tl.winId()))
        raised.append(step)

    said_after_step: list[str] = []

    def on_event(event: Any) -> None:  # after the controller's own slot (connected first)
        if event.kind == "step_planned":  # looked at once the app has handled what came before
            QTimer.singleShot(100, lambda s=event.step: check_and_raise(s))
        elif event.kind == "step_done":
            said_after_step.append(tl.status.text())

    controller.runner.agent_event.connect(on_event)
    try:
        with qtbot.waitSignal(controller.run_finished, timeout=120_000) as done:
            type_task(qtbot, controller, 'click "Save"; type "report" into "Name"; wait 0.5')
            _approve(qtbot, controller, 0, raised)
            _approve(qtbot, controller, 1, raised)
            _approve(qtbot, controller, 2, raised)
    finally:
        controller.runner.agent_event.disconnect(on_event)
        stacking.close()
    outcome = done.args[0]
    assert outcome.status == "succeeded", outcome
    assert above_after_step == [True, True]  # back on top after each step, the result in view
    # The status line says the result in words too.
    assert said_after_step[0].startswith("step 1: 'Ready' now reads '"), said_after_step
    assert said_after_step[1] == "step 2: the field now reads 'report'", said_after_step

    cards = tl.step_cards()[:2]
    qtbot.waitUntil(lambda: all(c.isVisible() and c.after.isVisible() for c in cards))
    # The outcome in words, read from the screen: no pixel counts.
    first, second = (c.outcome.text() if c.outcome else "" for c in cards)
    assert first.startswith("Result: 'Ready' now reads '") and "Save" in first, first
    assert second == "Result: the field now reads 'report'", second
    for card in cards:
        assert "px changed" not in card.outcome.text()  # type: ignore[union-attr]
        # Before and after side by side, each at a readable scale (not a thumbnail of the whole screen).
        assert card.side_by_side
        pair = [(p, lb) for p, lb in zip(card.pictures, card.picture_labels, strict=True)
                if p.caption in ("Before", "After")]
        assert [p.caption for p, _ in pair] == ["Before", "After"]
        for p, label in pair:
            assert label.pixmap().width() >= 0.66 * p.image.shape[1]
            assert label.isVisible() and label.width() >= label.pixmap().width()
        # A person's figures; the developer's behind Details.
        assert "took" in card.summary.text() and "_" not in card.summary.text()
        assert not card.details.isVisible()
        qtbot.mouseClick(card.details_button, Qt.MouseButton.LeftButton)
        assert card.details.isVisible() and "(pre_act_settle)" in card.details.text()
    # The clicked target is whole in the first picture of step 1.
    save = target_app.widgets["Save"]
    step0 = RunStore(home).steps(outcome.run_id)[0]
    assert step0.outcome is not None and step0.outcome in first
    target_pic = cards[0].pictures[0]
    assert target_pic.image.shape[1] >= save[2] - save[0] + 2 * 24 and target_pic.image.shape[0] >= save[3] - save[1]
    # The run's totals: steps (with the right plural) and time.
    header = tl.header.text()
    assert "3 steps · " in header and " s · planner" in header and "1 steps" not in header

    page = tl.export(str(tmp_path / "run.html")).read_text(encoding="utf-8")  # type: ignore[union-attr]
    for card in cards:
        assert html.escape(card.outcome.text()) in page  # type: ignore[union-attr]
    assert "3 steps · " in page and page.count("<figcaption>After</figcaption>") == 2
    assert "<details><summary>Details</summary>" in page


def test_the_timeline_never_grows_past_its_screen(qtbot: Any, controller: Any, home: Path) -> None:
    tl = controller.timeline
    controller._timeline_placed = False
    controller.show_timeline()  # docked at the right edge of the screen, as the app places it
    qtbot.waitExposed(tl)
    area = tl.screen().availableGeometry()
    width = tl.frameGeometry().width()
    long_path = "report_" + "0123456789abcdef" * 30 + ".html"  # one word: no place to wrap it
    store = RunStore(home)
    run = store.start_run("export " + long_path, "direct", "ask", [])
    store.add_step(run, 0, {"action": "click"}, f'Click "{long_path}"', "because " + long_path)
    store.update_step(run, 0, status="failed", error="could not open " + long_path, outcome="the screen did not change")
    store.finish_run(run, "failed", "could not open " + long_path)
    store.close()
    tl.refresh_runs()
    tl.show_run(run)
    tl.set_status(f"exported to {long_path}")
    qtbot.wait(300)
    frame = tl.frameGeometry()
    assert frame.width() <= max(width, 700) and frame.width() <= area.width()
    assert area.contains(frame.topLeft()) and frame.right() <= area.right()
    for button in (tl.export_button, tl.stop_button, tl.pause_button):
        corner = button.mapToGlobal(QPoint(button.width() - 1, button.height() - 1))
        assert area.contains(corner), (button.text(), corner, area)
    assert long_path[:40] in tl.status.text().replace("\u200b", "")  # the words are all there, wrapped
    # Asked to be wider than the screen, it stays inside it.
    tl.resize(area.width() + 900, tl.height())
    qtbot.wait(300)
    assert tl.frameGeometry().width() <= area.width() and tl.frameGeometry().right() <= area.right()
