"""What every model backend takes and gives: one request (system text, user text, marked screenshots,
the answer's JSON schema) and one reply (the raw text, tokens, latency, cost)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from desktop_agent.errors import BackendError as BackendError  # raised by every backend; defined there


@dataclass(frozen=True)
class ModelImage:
    """A screenshot sent to the model, with how the prompt refers to it."""

    png: bytes
    width: int
    height: int
    caption: str  # how the prompt text refers to it ("screenshot of monitor 1, now")


@dataclass(frozen=True)
class ModelRequest:
    """One request to a model: system and user text, images, and the answer's JSON schema."""

    system: str
    text: str
    schema: dict[str, Any]
    images: list[ModelImage] = field(default_factory=list)
    schema_name: str = "next_action"
    max_tokens: int = 400
    cancelled: Callable[[], bool] = lambda: False  # backends that can stop mid-answer check it
    # Told each piece of the answer as it is generated (for a live view; the reply's text is the whole
    # answer either way). Backends that stream call it; None: nobody is watching, nothing is streamed.
    on_token: Callable[[str], None] | None = None


@dataclass(frozen=True)
class ModelReply:
    """A model's answer: the raw text, tokens, latency and cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    cost_usd: float | None = None  # None where the provider's price is not known

    def usage(self) -> dict[str, float]:
        """Tokens, milliseconds and cost as the run record stores them."""
        out = {"prompt_tokens": float(self.prompt_tokens), "completion_tokens": float(self.completion_tokens),
               "model_ms": round(self.latency_ms, 1)}
        if self.cost_usd is not None:
            out["cost_usd"] = round(self.cost_usd, 6)
        return out


def tell_token(request: ModelRequest, piece: str) -> None:
    """Hand one streamed piece of the answer to the request's watcher; a failing watcher never fails the answer."""
    if request.on_token is None or not piece:
        return
    with contextlib.suppress(Exception):  # the watcher is a display: the answer goes on without it
        request.on_token(piece)


class ModelBackend(Protocol):
    """A model that answers requests: local (llama.cpp) or remote (OpenAI-compatible, Anthropic)."""

    name: str  # "llama", "openai", "anthropic", "scripted"
    model: str
    vision: bool  # whether it accepts images; text-only models get the element list alone

    def complete(self, request: ModelRequest) -> ModelReply:
        """One answer to `request`; BackendError when the model cannot be reached."""
