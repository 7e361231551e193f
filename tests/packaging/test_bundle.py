"""The native bundle, built from a clean checkout with the documented command, then run without the
source tree or its virtual environment: --version, doctor, parse with the bundled models, the app
starting to its window; and the .deb unpacked into a scratch root."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import mss
import numpy as np
import pytest

from desktop_agent.capture.virtual_display import stop_process
from desktop_agent.evaluation.task_env import mapped_windows
from tests.display import TargetApp
from tests.e2e_helpers import ROOT

pytestmark = [pytest.mark.display, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """`make bundle` in a fresh clone; then the tar.gz is unpacked elsewhere and the clone deleted."""
    base = tmp_path_factory.mktemp("bundle")
    checkout = base / "checkout"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(checkout)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    r = subprocess.run(["make", "bundle"], cwd=checkout, env=env, capture_output=True, text=True, timeout=1400)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    dist = checkout / "dist"
    tarball = next(dist.glob("desktop-agent-*-linux-*.tar.gz"))
    deb = next(dist.glob("desktop-agent_*.deb"))
    out = {"tarball": base / tarball.name, "deb": base / deb.name}
    shutil.move(tarball, out["tarball"])
    shutil.move(deb, out["deb"])
    shutil.rmtree(checkout)  # no source tree, no venv left to lean on
    with tarfile.open(out["tarball"]) as tf:
        tf.extractall(base / "portable", filter="data")
    out["binary"] = base / "portable" / "desktop-agent" / "desktop-agent"
    out["base"] = base
    yield out


def _env(home: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "DISPLAY": os.environ["DISPLAY"],
            "DESKTOP_AGENT_HOME": str(home / "data"), "DESKTOP_AGENT_MONITORS": os.environ["DESKTOP_AGENT_MONITORS"],
            "XDG_CONFIG_HOME": str(home / "config"), "LANG": "C.UTF-8"}


def _run(artifacts: dict[str, Path], *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(artifacts["binary"]), *args], cwd=home, env=_env(home), capture_output=True,
                          text=True, timeout=180)


def _window_titled(title: str) -> bool:
    return any(name == title for _, name in mapped_windows(os.environ["DISPLAY"]))


def test_the_bundle_runs_without_the_source_tree(artifacts: dict[str, Path], target_app: TargetApp,
                                                 tmp_path: Path) -> None:
    home = tmp_path / "user"
    home.mkdir()
    r = _run(artifacts, "--version", home=home)
    assert r.returncode == 0 and r.stdout.startswith("desktop-agent "), r.stderr
    r = _run(artifacts, "doctor", "--json", home=home)
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["icon_model"]["found"] and "_internal" in report["icon_model"]["path"]
    assert report["detector_model"]["found"] and "_internal" in report["detector_model"]["path"]
    assert report["ocr_models"] and all("_internal" in m["path"] for m in report["ocr_models"])
    assert report["display"]["ok"]
    # parse a real screenshot of the target app with the bundled models
    with mss.MSS() as sct:
        shot = np.array(sct.grab(sct.monitors[0]))[:, :, :3]
    png = tmp_path / "screen.png"
    cv2.imwrite(str(png), shot)
    r = _run(artifacts, "parse", str(png), "--json", home=home)
    assert r.returncode == 0, r.stderr
    texts = {e["text"] for e in json.loads(r.stdout)["elements"]}
    assert {"Save", "Open Report", "Remember me"} <= texts
    assert any(e.get("icon") for e in json.loads(r.stdout)["elements"])  # the icon recognizer ran
    # and a run: real input from the bundled pyautogui, recorded in the run database
    r = _run(artifacts, "run", 'click "Save"', "--approve", "auto", home=home)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [e["widget"] for e in target_app.events("clicked")] == ["Save"]
    assert (home / "data" / "runs.sqlite3").exists()


def test_the_bundled_app_starts_to_its_window(artifacts: dict[str, Path], xvfb: Any, tmp_path: Path) -> None:
    home = tmp_path / "user"
    home.mkdir()
    started = time.monotonic()
    proc = subprocess.Popen([str(artifacts["binary"]), "app", "--no-hotkeys"], cwd=home, env=_env(home),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        while not _window_titled("desktop-agent"):  # the no-tray window (this display has no tray)
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() - started < 60, "the app's window did not appear"
            time.sleep(0.1)
    finally:
        stop_process(proc)


def test_every_bundled_library_finds_the_libraries_it_links_to(artifacts: dict[str, Path]) -> None:
    """The bundle leaves out parts of Qt and the libraries only those needed: nothing kept may need them."""
    bundle = artifacts["binary"].parent
    internal = bundle / "_internal"
    elves = [artifacts["binary"], *(f for f in internal.rglob("*.so*") if f.is_file() and not f.is_symlink())]
    missing = {}
    for f in elves:
        r = subprocess.run(["ldd", str(f)], env={"LD_LIBRARY_PATH": str(internal), "PATH": "/usr/bin:/bin"},
                           capture_output=True, text=True)
        lost = [ln.split()[0] for ln in r.stdout.splitlines() if "not found" in ln]
        if lost:
            missing[str(f.relative_to(bundle))] = lost
    assert len(elves) > 50 and not missing, missing


def test_the_deb_installs_under_opt_with_a_launcher(artifacts: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(artifacts["deb"]), str(root)], check=True)
    desktop = (root / "usr/share/applications/desktop-agent.desktop").read_text()
    exec_line = next(ln for ln in desktop.splitlines() if ln.startswith("Exec="))
    assert exec_line == "Exec=/opt/desktop-agent/desktop-agent app"
    assert "Icon=desktop-agent" in desktop
    assert (root / "usr/share/icons/hicolor/scalable/apps/desktop-agent.svg").exists()
    assert os.readlink(root / "usr/bin/desktop-agent") == "/opt/desktop-agent/desktop-agent"
    assert (root / "usr/share/desktop-agent/desktop-agent-autostart.desktop").exists()
    binary = root / "opt/desktop-agent/desktop-agent"
    r = subprocess.run([str(binary), "--version"], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "desktop-agent" in r.stdout
    control = subprocess.run(["dpkg-deb", "-f", str(artifacts["deb"]), "Depends", "Installed-Size"],
                             capture_output=True, text=True, check=True).stdout
    assert "libxcb-cursor0" in control and "libxkbcommon-x11-0" in control and "Installed-Size:" in control
