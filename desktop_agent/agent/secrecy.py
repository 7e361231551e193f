"""Keeping secrets out of the record: the task written with typed text masked, text typed into password fields
remembered only to mask it, where typing with no target goes, and the accessibility tree's word on a field."""

from __future__ import annotations

from collections.abc import Callable

from desktop_agent.agent.proposal import Located
from desktop_agent.agent.recorder import StepRecorder
from desktop_agent.agent.risk import is_secret_field, tree_secret_at
from desktop_agent.geometry import ScreenLayout
from desktop_agent.perception.accessibility.source import AccessibilityError, AccessibilitySource
from desktop_agent.perception.elements import Element
from desktop_agent.planning.actions import Action, Click, Drag, Press, TypeText
from desktop_agent.secret_fields import MASK, is_secret_role, redact_task

# Budgets of the accessibility read that asks whether a typing target is a password field: the usual one,
# then a longer one when the first was cut short.
SECRET_READ_BUDGETS_S = (0.15, 1.0)


def tree_element_at(loc: Located) -> Element | None:
    """The element the accessibility tree named where a target is clicked: the smallest fused element
    with a role around the point (a phrase pieced from several elements carries its first piece's)."""
    elements = loc.parsed.elements if loc.parsed is not None else [loc.result.element]
    hits = [e for e in elements if e.role and e.bbox.contains(loc.result.point)]
    return min(hits, key=lambda e: e.bbox.area) if hits else None


def shown(action: Action) -> Action:
    """The action as it may be written and shown before its field is known: typed text hidden."""
    if isinstance(action, TypeText):
        return action.model_copy(update={"text": MASK})
    return action


class SecretGuard:
    """One run's secrets: the recorded task, the secrets typed so far, and whether focus is in a secret field."""

    def __init__(self, accessibility: AccessibilitySource | None) -> None:
        self.accessibility = accessibility
        self.task = ""  # as recorded: secrets masked
        self.texts: set[str] = set()  # text typed into secret fields this run, never written
        self.focus = False  # the last click went into a secret field

    def begin(self, task: str) -> str:
        """A new run: the task as it may be written, every typed text masked (a field may turn out secret
        only once it is on screen; each step's record shows its text once its field is known not to be)."""
        self.texts, self.focus = set(), False
        self.task = redact_task(task, all_typed=True)
        return self.task

    def keep(self, text: str, recorder: StepRecorder) -> None:
        """Remember a secret typed this run; mask it in the recorded task if it is there."""
        if not text:
            return
        self.texts.add(text)
        if text in self.task:
            self.task = redact_task(self.task, tuple(self.texts))
            recorder.set_task(self.task)

    def track_focus(self, action: Action, targets: list[Located], secret: bool) -> None:
        """Where typing with no target goes next: into a secret field after a click on one."""
        if isinstance(action, Click) and targets:
            self.focus = secret or is_secret_field(targets[0])
        elif isinstance(action, TypeText):
            self.focus = secret if action.into is not None else self.focus
        elif isinstance(action, Drag) or (
                isinstance(action, Press) and {k.lower() for k in action.keys} & {"tab", "enter", "esc"}):
            self.focus = False

    def platform_secret(self, loc: Located | None, layout: Callable[[], ScreenLayout]) -> bool:
        """Whether the accessibility tree says the control at a target (or, with none, the focused control)
        is a password field, by its role or its secret state. Bounded by the read's budget; a source that
        fails is not asked again this run."""
        el = tree_element_at(loc) if loc is not None else None
        if el is not None and ("secret" in el.states or is_secret_role(el.role)):
            return True  # the fused element carries the tree's word already: no second read
        if self.accessibility is None:
            return False
        try:
            # Safety is not traded for speed: a read cut short by its budget (a busy machine, a large app)
            # is done again with a second's budget before the field is taken for an ordinary one.
            for budget in SECRET_READ_BUDGETS_S:
                snap = self.accessibility.read(budget_s=budget, within=layout())
                if snap.complete:
                    break
        except AccessibilityError:
            self.accessibility = None
            return False
        if loc is None:
            return any(n.states.focused and (n.states.secret or is_secret_role(n.role)) for n in snap.nodes)
        return tree_secret_at(snap.nodes, loc.desktop)
