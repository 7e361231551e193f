"""The action schema: one pydantic union that every planner returns and the executor accepts."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MAX_SCROLL = 100  # notches of the wheel one scroll step may turn
MAX_WAIT_SECONDS = 3600  # a `wait` step, and a `wait for` step's timeout


class Target(BaseModel):
    """What to act on: a description (visible text or an icon's meaning) that grounding locates, or an
    element a model planner picked from the screen it saw (`element_id` on `monitor`). Pixels come from
    grounding, never from the planner, except `x`/`y` (image pixels of `monitor`) as a model's last resort."""

    model_config = ConfigDict(frozen=True)
    text: str | None = None
    element_id: int | None = None
    monitor: int | None = None
    x: int | None = None
    y: int | None = None
    label: str | None = None  # what the element shows, for people reading the timeline

    def describe(self) -> str:
        """The target in words, as a step shows it."""
        if self.text:
            return self.text if self.text[:1] in "\"'“" else f'"{self.text}"'
        if self.element_id is not None:
            return f'"{self.label}"' if self.label else f"element #{self.element_id}"
        return f"point ({self.x}, {self.y})"


class _Action(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Click(_Action):
    """Click, double-click or right-click a target."""

    action: Literal["click", "double_click", "right_click"] = "click"
    target: Target

    def describe(self) -> str:
        """The step in words."""
        return f"{self.action.replace('_', '-').capitalize()} {self.target.describe()}"


class TypeText(_Action):
    """Type text, into a target when one is named."""

    action: Literal["type"] = "type"
    text: str
    into: Target | None = None

    def describe(self) -> str:
        """The step in words (a secret's text as dots)."""
        into = f" into {self.into.describe()}" if self.into else ""
        return f"Type {self.text!r}{into}"


class Press(_Action):
    """Press keys together (a shortcut), or one key."""

    action: Literal["press"] = "press"
    keys: list[str] = Field(min_length=1)

    def describe(self) -> str:
        """The step in words."""
        return f"Press {'+'.join(self.keys)}"


class Scroll(_Action):
    """Scroll up or down, on a target when one is named."""

    action: Literal["scroll"] = "scroll"
    direction: Literal["up", "down"]
    amount: int = Field(default=3, ge=1, le=MAX_SCROLL)
    on: Target | None = None

    def describe(self) -> str:
        """The step in words."""
        on = f" on {self.on.describe()}" if self.on else ""
        return f"Scroll {self.direction} {self.amount}{on}"


class Wait(_Action):
    """Wait a number of seconds."""

    action: Literal["wait"] = "wait"
    seconds: float = Field(ge=0, le=MAX_WAIT_SECONDS)

    def describe(self) -> str:
        """The step in words."""
        return f"Wait {self.seconds:g} s"


class WaitFor(_Action):
    """Wait until a target is on screen."""

    action: Literal["wait_for"] = "wait_for"
    target: Target
    timeout: float = Field(default=10.0, gt=0, le=MAX_WAIT_SECONDS)

    def describe(self) -> str:
        """The step in words."""
        return f"Wait for {self.target.describe()}"


class Drag(_Action):
    """Drag one target onto another."""

    action: Literal["drag"] = "drag"
    source: Target
    dest: Target

    def describe(self) -> str:
        """The step in words."""
        return f"Drag {self.source.describe()} to {self.dest.describe()}"


class Done(_Action):
    """The planner says the task is done."""

    action: Literal["done"] = "done"
    summary: str = ""

    def describe(self) -> str:
        """The step in words."""
        return f"Done: {self.summary}" if self.summary else "Done"


class AskUser(_Action):
    """The planner asks the person a question."""

    action: Literal["ask_user"] = "ask_user"
    question: str

    def describe(self) -> str:
        """The step in words."""
        return f"Ask: {self.question}"


Action = Annotated[Click | TypeText | Press | Scroll | Wait | WaitFor | Drag | Done | AskUser,
                   Field(discriminator="action")]
ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)


def action_targets(action: Action) -> list[Target]:
    """The targets an action needs located on screen, in order."""
    if isinstance(action, Click | WaitFor):
        return [action.target]
    if isinstance(action, TypeText):
        return [action.into] if action.into else []
    if isinstance(action, Scroll):
        return [action.on] if action.on else []
    if isinstance(action, Drag):
        return [action.source, action.dest]
    return []
