"""What a step's outcome says, on the real target app: a click on what is already selected did its job,
a click with no effect on anything else still fails, and `wait` steps finish (on X11 and on Wayland)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_agent.runs.store import RunStore
from tests.display import TargetApp
from tests.e2e_helpers import cli

pytestmark = pytest.mark.display


def test_clicking_the_selected_item_again_is_not_a_failure(session_app: TargetApp, home: Path) -> None:
    r = cli("run", 'click "Item 03"; wait 0.5; click "Item 03"', "--approve", "auto", home=home)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [e["item"] for e in session_app.events("list_clicked")] == ["Item 03", "Item 03"]
    store = RunStore(home)
    steps = store.steps(store.list_runs()[0].id)
    assert [s.status for s in steps] == ["verified", "verified", "unverified"]
    assert "already selected" in (steps[2].verify or {})["detail"]


def test_a_click_with_no_effect_on_plain_text_still_fails(session_app: TargetApp, home: Path) -> None:
    r = cli("run", 'click "Ready"', "--approve", "auto", home=home)
    assert r.returncode == 5, r.stdout + r.stderr
    store = RunStore(home)
    (step,) = store.steps(store.list_runs()[0].id)
    assert step.status == "failed" and step.error == "no visible effect"
