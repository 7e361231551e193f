"""The Qt app under test runs in the test process (pytest-qt's qapp) on the session's real Xvfb display."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_agent.capture.virtual_display import VirtualDisplay


@pytest.fixture(autouse=True)
def _display_first(xvfb: VirtualDisplay) -> None:
    """The QApplication must be created after DISPLAY points at the test display."""


@pytest.fixture
def controller(qapp: Any, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The whole app, without a tray (Xvfb has none) and without hotkeys unless a test grabs them."""
    from desktop_agent.app.controller import AppController, follow_system_scheme
    from desktop_agent.app.settings import AppSettings

    follow_system_scheme(qapp)
    qapp.setQuitOnLastWindowClosed(False)
    settings = AppSettings(data_folder=str(home), auto_approve=[])
    c = AppController(settings, settings_path=str(tmp_path / "settings.ini"), use_tray=False, hotkeys=False)
    c._timeline_placed = True
    c.timeline.setGeometry(10, 40, 560, 700)  # over the left monitor: clear of the target app on the right
    yield c
    c.shutdown()
