"""A fake backend that answers from a script instead of a model (for tests, demos and benchmarks of the
planner's logic; it is not a model and says so in its name)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from desktop_agent.planning.backends.base import ModelReply, ModelRequest, tell_token

Answer = str | dict[str, Any] | Callable[[ModelRequest], str | dict[str, Any]]


class ScriptedBackend:
    """Replies with the given answers in order (a string is sent as is, a dict as JSON, a callable is
    asked with the request). Token counts are estimates (4 characters a token), labelled as such."""

    name = "scripted"

    def __init__(self, answers: Sequence[Answer], vision: bool = True, model: str = "fake") -> None:
        self.answers = list(answers)
        self.vision = vision
        self.model = model
        self.requests: list[ModelRequest] = []

    def complete(self, request: ModelRequest) -> ModelReply:
        """The next scripted answer (a fake model for tests and demos)."""
        t0 = time.perf_counter()
        self.requests.append(request)
        if len(self.requests) > len(self.answers):
            answer: Answer = {"reason": "the script has no more answers", "action": {"action": "done", "summary": ""}}
        else:
            answer = self.answers[len(self.requests) - 1]
        if callable(answer):
            answer = answer(request)
        text = answer if isinstance(answer, str) else json.dumps(answer)
        for i in range(0, len(text), 4):  # streamed to a watcher in pieces, as a model would
            tell_token(request, text[i:i + 4])
        prompt_tokens = (len(request.system) + len(request.text)) // 4 + 258 * len(request.images)
        return ModelReply(text, prompt_tokens, max(1, len(text) // 4), (time.perf_counter() - t0) * 1000)
