"""The model planner: for a goal in plain words, ask a model (local or remote) for the next action.

Each step it numbers the parsed elements (set-of-marks), sends a bounded prompt, and turns the validated
answer into an action on those elements. Anything the answer gets wrong raises `PlanRejected`, which
the agent records and feeds back; nothing the model says becomes input without passing through here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from desktop_agent.errors import ScriptError
from desktop_agent.planning.actions import (
    Action,
    AskUser,
    Click,
    Done,
    Drag,
    Press,
    Scroll,
    Target,
    TypeText,
    Wait,
)
from desktop_agent.planning.backends.base import ModelBackend, ModelImage, ModelRequest
from desktop_agent.planning.decision import (
    Ask,
    ClickMark,
    ClickPoint,
    DragMarks,
    Finish,
    ModelDecision,
    PlanRejected,
    PressKeys,
    ScrollOn,
    TypeInto,
    WaitSeconds,
    parse_decision,
)
from desktop_agent.planning.marks import Mark, assign_marks, draw_marks, encode_png
from desktop_agent.planning.planner import PlanContext, PlannedStep, ScreenView
from desktop_agent.planning.prompt import PromptSettings, build_request
from desktop_agent.planning.script import parse_keys

_KEY_NAMES = {"control": "ctrl", "return": "enter", "escape": "esc", "del": "delete", "cmd": "command"}


@dataclass
class _Shot:
    image: ModelImage
    step: int


class ModelPlanner:
    """Plans with a model behind the `ModelBackend` protocol (llama.cpp in process, any OpenAI-compatible
    server, Anthropic, or the scripted fake)."""

    needs_screen = True
    recovers = True

    def __init__(self, backend: ModelBackend, settings: PromptSettings | None = None,
                 on_token: Callable[[str], None] | None = None) -> None:
        self.backend = backend
        self.settings = settings or PromptSettings()
        self.name = f"{backend.name}:{backend.model}"
        self._earlier: deque[_Shot] = deque(maxlen=max(self.settings.recent_images - 1, 0) or None)
        self.last_request: ModelRequest | None = None  # for benchmarks and the timeline's "show prompt"
        # Told the answer's pieces as the model writes them (a live view; may echo screen text: never logged).
        # The decision is parsed from the whole answer, streamed or not.
        self.on_token = on_token

    def prepare(self, context: PlanContext) -> tuple[ModelRequest, list[Mark], dict[int, float]]:
        """The request for this step, without sending it."""
        views = list(context.views)
        if not views:
            raise PlanRejected("the model planner needs the screen, and no monitor was captured")
        marks = assign_marks(views, self.settings.max_marks)
        scales: dict[int, float] = {}
        current: list[ModelImage] = []
        for v in views:
            marked, scale = draw_marks(v, marks, self.settings.image_max_side)
            scales[v.monitor_index] = scale
            if self.backend.vision and self.settings.recent_images > 0:
                current.append(ModelImage(encode_png(marked), marked.shape[1], marked.shape[0],
                                          f"screenshot of monitor {v.monitor_index} now, with element numbers"))
        if not self.backend.vision and scales:
            scales = {k: 1.0 for k in scales}  # a text-only model reads coordinates in frame pixels
        # K images in all: every monitor now, then the most recent earlier ones that still fit.
        room = max(self.settings.recent_images - len(current), 0)
        earlier = [s.image for s in list(self._earlier)[-room:]] if room else []
        request = build_request(context.goal, context.history, views, marks, earlier + current, scales, self.settings)
        if self.backend.vision and current:
            self._earlier.extend(_Shot(
                ModelImage(im.png, im.width, im.height, im.caption.replace("now", f"at step {context.step_index + 1}")
                           .replace(", with element numbers", " (old numbers)")),
                context.step_index) for im in current)
        return request, marks, scales

    def next_step(self, context: PlanContext) -> PlannedStep | None:
        """The model's next step for this screen, or None when it says the task is done."""
        request, marks, scales = self.prepare(context)
        request = replace(request, cancelled=context.cancelled, on_token=self.on_token)
        self.last_request = request
        reply = self.backend.complete(request)
        usage = reply.usage()
        decision = parse_decision(reply.text, usage)
        action = to_action(decision, marks, list(context.views), scales, usage, reply.text)
        if isinstance(action, Done):
            return PlannedStep(action, decision.reason, decision.confidence, usage)
        return PlannedStep(action, decision.reason, decision.confidence, usage, risky=decision.risky)


def _mark(number: int, marks: list[Mark], usage: dict[str, float], raw: str) -> Target:
    for m in marks:
        if m.number == number:
            return Target(element_id=m.element.id, monitor=m.view.monitor_index, label=m.label())
    raise PlanRejected(f"model named element {number}, which is not on the screen (elements are 1-{len(marks)})",
                       raw, usage)


def _click_point(c: ClickPoint, views: list[ScreenView], scales: dict[int, float], usage: dict[str, float],
                 raw: str) -> Action:
    """A click at a point of a monitor's screenshot (as the model saw it, scaled), checked to be on it."""
    view = next((v for v in views if v.monitor_index == c.monitor), None)
    if view is None:
        raise PlanRejected(f"model clicked on monitor {c.monitor}, which does not exist", raw, usage)
    s = scales.get(c.monitor, 1.0)
    x, y = c.x / s, c.y / s
    if not (0 <= x < view.frame.width and 0 <= y < view.frame.height):
        raise PlanRejected(f"model clicked at ({c.x}, {c.y}), off the screenshot of monitor {c.monitor} "
                           f"({round(view.frame.width * s)}x{round(view.frame.height * s)})", raw, usage)
    return Click(target=Target(x=int(x), y=int(y), monitor=c.monitor))


def _press(c: PressKeys, usage: dict[str, float], raw: str) -> Action:
    """Keys the model pressed, by their common names, as a script's `press` takes them."""
    keys = [_KEY_NAMES.get(k.strip().lower(), k.strip().lower()) for k in c.keys]
    try:
        return Press(keys=parse_keys("+".join(keys)))
    except ScriptError as exc:
        raise PlanRejected(f"model pressed keys {c.keys!r}: {str(exc).split(': ', 1)[-1]}", raw, usage) from None


def to_action(decision: ModelDecision, marks: list[Mark], views: list[ScreenView], scales: dict[int, float],
              usage: dict[str, float], raw: str = "") -> Action:
    """The model's choice as one of our actions, with element numbers resolved to the elements seen."""
    c = decision.action
    if isinstance(c, ClickMark):
        return Click(action=c.action, target=_mark(c.element, marks, usage, raw))
    if isinstance(c, ClickPoint):
        return _click_point(c, views, scales, usage, raw)
    if isinstance(c, TypeInto):
        if not c.text:
            raise PlanRejected("model asked to type an empty text", raw, usage)
        into = _mark(c.element, marks, usage, raw) if c.element is not None else None
        return TypeText(text=c.text, into=into)
    if isinstance(c, PressKeys):
        return _press(c, usage, raw)
    if isinstance(c, ScrollOn):
        on = _mark(c.element, marks, usage, raw) if c.element is not None else None
        return Scroll(direction=c.direction, amount=c.amount, on=on)
    if isinstance(c, DragMarks):
        return Drag(source=_mark(c.from_element, marks, usage, raw), dest=_mark(c.to_element, marks, usage, raw))
    if isinstance(c, WaitSeconds):
        return Wait(seconds=c.seconds)
    if isinstance(c, Finish):
        return Done(summary=c.summary)
    if isinstance(c, Ask):
        return AskUser(question=c.question)
    raise PlanRejected(f"model chose an action this agent cannot run: {c!r}", raw, usage)
