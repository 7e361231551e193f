"""A task's reference run, recorded once: the input events each step of a verified run of the reference
script sent (desktop points, buttons, keys, text) and where its targets were (the element boxes the
agent's grounding found). Replaying the events of steps 1..k-1 brings a fresh desktop to the state before
step k without asking the agent again, so a step the agent misses does not make every later one a miss;
the boxes say whether another run's input point fell on the reference's element.

`python -m desktop_agent.evaluation.reference FILE STEPS` replays the first STEPS steps of a recording on
the display in $DISPLAY (the evaluation runs it in the task's environment)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from desktop_agent.errors import AgentError
from desktop_agent.evaluation.task_suite import TaskSpec
from desktop_agent.execution.input_driver import InputDriver
from desktop_agent.geometry import DesktopPoint
from desktop_agent.runs.store import StepRow
from desktop_agent.secret_fields import MASK

# Steps whose status says their input reached the desktop and did what was meant.
_GOOD = ("verified", "unverified")


@dataclass(frozen=True)
class InputEvent:
    """One input event as the agent's input driver sent it. `kind`: move, click, type, press, scroll,
    drag, wait; points are desktop (input) coordinates."""

    kind: str
    point: tuple[float, float] | None = None
    to: tuple[float, float] | None = None  # drag: where the button is released
    button: str = "left"
    count: int = 1
    text: str = ""
    keys: tuple[str, ...] = ()
    clicks: int = 0  # scroll: positive up, negative down
    seconds: float = 0.0


@dataclass(frozen=True)
class TargetBox:
    """Where a reference step's target was: its monitor and element box, in that monitor's screenshot pixels."""

    monitor: int
    box: tuple[float, float, float, float]
    instruction: str = ""

    def holds(self, monitor: int, point: tuple[float, float] | list[float], margin: float = 4.0) -> bool:
        """Whether a point on `monitor` lies in the box (with `margin` pixels around it)."""
        x1, y1, x2, y2 = self.box
        return (monitor == self.monitor and x1 - margin <= point[0] <= x2 + margin
                and y1 - margin <= point[1] <= y2 + margin)


@dataclass(frozen=True)
class ReferenceStep:
    """One step of a verified reference run: its input events and the boxes it acted on."""

    description: str
    action: str
    events: tuple[InputEvent, ...]
    targets: tuple[TargetBox, ...] = ()
    changed: bool = True  # the reference saw a visible change after the step (replay waits for one)


@dataclass
class ReferenceRecording:
    """The reference run of one task: a verified whole run of its reference script, step by step."""

    task: str
    fingerprint: str  # of the task file's set-up and script: a recording is only reused for the same task
    run_id: str
    steps: list[ReferenceStep] = field(default_factory=list)

    def to_json(self) -> str:
        """The recording as JSON text."""
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @staticmethod
    def from_json(text: str) -> ReferenceRecording:
        """A recording read from JSON text."""
        data = json.loads(text)
        steps = [ReferenceStep(s["description"], s["action"],
                               tuple(_event(e) for e in s["events"]),
                               tuple(TargetBox(t["monitor"], tuple(t["box"]), t.get("instruction", ""))
                                     for t in s.get("targets", [])),
                               bool(s.get("changed", True)))
                 for s in data["steps"]]
        return ReferenceRecording(data["task"], data["fingerprint"], data["run_id"], steps)

    def save(self, path: Path) -> None:
        """Write the recording to `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)


def _event(d: dict[str, Any]) -> InputEvent:
    return InputEvent(d["kind"], tuple(d["point"]) if d.get("point") else None,
                      tuple(d["to"]) if d.get("to") else None, d.get("button", "left"),
                      int(d.get("count", 1)), d.get("text", ""), tuple(d.get("keys", ())), int(d.get("clicks", 0)),
                      float(d.get("seconds", 0.0)))


def task_fingerprint(task: TaskSpec) -> str:
    """What a recording depends on: the task's set-up and script (not its checks, goal or limits)."""
    keep = task.model_dump(mode="json", include={"script", "apps", "files", "screen", "monitors", "scale"})
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


def reference_path(data_home: Path, task: TaskSpec) -> Path:
    """Where the task's reference recording is kept in the data folder."""
    return data_home / "evals" / "references" / f"{task.name}.json"


def load_reference(data_home: Path, task: TaskSpec) -> ReferenceRecording | None:
    """The stored recording of this task, if one was made for the task as it is now."""
    path = reference_path(data_home, task)
    try:
        rec = ReferenceRecording.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return rec if rec.fingerprint == task_fingerprint(task) else None


def _desktop(target: dict[str, Any]) -> tuple[float, float]:
    x, y = target["desktop"]
    return float(x), float(y)


def step_events(row: StepRow) -> tuple[InputEvent, ...]:
    """The input events the agent's loop sent for a recorded step (the same order as its executor)."""
    a = row.action
    kind = a.get("action")
    t = row.target or {}
    more = t.get("more", [])
    if kind == "wait":
        return (InputEvent("wait", seconds=float(a.get("seconds", 0))),)
    if kind == "wait_for":
        return ()
    if kind in ("click", "double_click", "right_click"):
        p = _desktop(t)
        return (InputEvent("move", p),
                InputEvent("click", p, button="right" if kind == "right_click" else "left",
                           count=2 if kind == "double_click" else 1))
    if kind == "type":
        pre = (InputEvent("click", _desktop(t)),) if t else ()
        return (*pre, InputEvent("type", text=str(a.get("text", ""))))
    if kind == "press":
        return (InputEvent("press", keys=tuple(a.get("keys", ()))),)
    if kind == "scroll":
        amount = int(a.get("amount", 3))
        at = _desktop(t) if t else None
        pre = (InputEvent("move", at),) if at else ()
        return (*pre, InputEvent("scroll", at, clicks=amount if a.get("direction") == "up" else -amount))
    if kind == "drag":
        return (InputEvent("drag", _desktop(t), to=_desktop(more[0])),)
    raise AgentError(f"a reference step cannot be replayed: {row.description!r}")


def step_targets(row: StepRow) -> tuple[TargetBox, ...]:
    """The boxes a recorded step acted on, one per target."""
    t = row.target
    if not t:
        return ()
    return tuple(TargetBox(int(x["monitor"]), tuple(x["element_bbox"]), str(x.get("instruction", "")))
                 for x in [t, *t.get("more", [])])


def recording_from_run(task: TaskSpec, run_id: str, rows: list[StepRow]) -> ReferenceRecording:
    """The recording of a run's steps, up to (not including) the first one that did not go right."""
    steps = []
    for row in rows:
        if row.status not in _GOOD:
            break
        changed = bool((row.verify or {}).get("changed", row.status == "verified"))
        steps.append(ReferenceStep(row.description, str(row.action.get("action")), step_events(row), step_targets(row),
                                   changed))
    return ReferenceRecording(task.name, task_fingerprint(task), run_id, steps)


def with_typed_text(recording: ReferenceRecording, typed: list[str | None]) -> ReferenceRecording:
    """The recording with each masked typing event (a secret is never recorded) given the text the task's
    own script types at that step (`typed[i]`: step i's text, None for a step that types nothing)."""
    steps = []
    for i, step in enumerate(recording.steps):
        text = typed[i] if i < len(typed) else None
        events = tuple(replace(e, text=text) if e.kind == "type" and e.text == MASK and text else e
                       for e in step.events)
        steps.append(replace(step, events=events))
    return replace(recording, steps=steps)


def replay(recording: ReferenceRecording, steps: int, env: dict[str, str], cwd: Path, timeout: float = 120.0,
           typed: list[str | None] | None = None) -> None:
    """Send the recorded input of the first `steps` steps on the display in `env`, each once the screen has
    settled after the one before; a masked typing event types `typed`'s text for its step (the task script's).
    The recording goes to the replaying process on its stdin: nothing it types is written to a file.
    AgentError if they cannot all be sent."""
    if steps > len(recording.steps):
        raise AgentError(f"the reference of {recording.task} has {len(recording.steps)} steps, not {steps}")
    if typed:
        recording = with_typed_text(recording, typed)
    try:
        r = subprocess.run([sys.executable, "-m", "desktop_agent.evaluation.reference", "-", str(steps)],
                           input=recording.to_json(), env=env, cwd=cwd, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AgentError(f"replaying {steps} reference steps of {recording.task} took over {timeout:g} s") from None
    if r.returncode != 0:
        raise AgentError(f"replaying the reference of {recording.task}: {(r.stderr or r.stdout).strip()[-300:]}")


def _at(p: tuple[float, float] | None) -> DesktopPoint:
    assert p is not None
    return DesktopPoint(round(p[0]), round(p[1]))


def _send_event(driver: InputDriver, e: InputEvent) -> DesktopPoint | None:
    """Send one recorded event; where it left the pointer (None: it did not move the pointer)."""
    if e.kind == "move":
        driver.move(_at(e.point))
    elif e.kind == "click":
        driver.click(_at(e.point), button=e.button, count=e.count)
    elif e.kind == "type":
        driver.type_text(e.text)
    elif e.kind == "press":
        driver.press(list(e.keys))
    elif e.kind == "scroll":
        driver.scroll(_at(e.point) if e.point else None, e.clicks)
    elif e.kind == "drag":
        driver.drag(_at(e.point), _at(e.to))
    elif e.kind == "wait":
        time.sleep(e.seconds)
    if e.point is None or e.kind not in ("move", "click", "scroll", "drag"):
        return None
    return _at(e.to if e.kind == "drag" else e.point)


def _send(steps: list[ReferenceStep]) -> None:
    """Send the steps' events with the agent's own input driver (in this process's $DISPLAY)."""
    import mss
    import numpy as np

    from desktop_agent.execution.input_driver import PyAutoGuiDriver
    from desktop_agent.execution.tooltips import TOOLTIP_DELAY, TooltipClearer
    from desktop_agent.execution.verify import visible_change, wait_until_settled

    driver = PyAutoGuiDriver()
    tooltips = TooltipClearer(driver)
    last: DesktopPoint | None = None  # where the replayed input left the pointer
    sct = mss.MSS() if hasattr(mss, "MSS") else mss.mss()

    def grab() -> np.ndarray:
        shot = sct.grab(sct.monitors[0])
        return np.frombuffer(shot.bgra, np.uint8).reshape(shot.height, shot.width, 4)[:, :, :3].copy()

    try:
        for step in steps:
            before, _ = wait_until_settled(grab, timeout=3.0)
            for e in step.events:
                last = _send_event(driver, e) or last
            if step.changed:  # as the agent does: wait for the effect, then for the screen to settle
                deadline = time.monotonic() + 5.0
                while time.monotonic() < deadline and not visible_change(before, grab()).changed:
                    time.sleep(0.05)
            wait_until_settled(grab, timeout=3.0)
        if last is not None:  # as the agent's next step does: the pointer off a tooltip it raised
            time.sleep(TOOLTIP_DELAY)
            tooltips(last)
    finally:
        tooltips.close()
        driver.close()
        sct.close()


def main(argv: list[str]) -> int:
    """Replay the first N steps of a recording (argv: the file, or - for stdin; N) on this display."""
    text = sys.stdin.read() if argv[0] == "-" else Path(argv[0]).read_text(encoding="utf-8")
    recording = ReferenceRecording.from_json(text)
    _send(recording.steps[:int(argv[1])])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
