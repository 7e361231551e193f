"""The Anthropic backend against a FAKE Messages API server on 127.0.0.1 (cloud APIs cannot be reached
here): the real `anthropic` SDK sends its real HTTP request, the fake answers like the API does. It
checks what we send (screenshot blocks, the forced tool, the schema) and how the answer is read."""

from __future__ import annotations

import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import pytest

from desktop_agent.planning.backends.anthropic_api import AnthropicBackend
from desktop_agent.planning.backends.base import BackendError, ModelImage, ModelRequest
from desktop_agent.planning.decision import decision_schema, parse_decision


class FakeMessagesApi(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []
    status = 200

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        key = self.headers.get("x-api-key") or self.headers.get("authorization")
        FakeMessagesApi.requests.append({"path": self.path, "key": key, "body": body})
        if FakeMessagesApi.status != 200:
            payload: dict[str, Any] = {"type": "error", "error": {"type": "authentication_error",
                                                                   "message": "invalid x-api-key"}}
        else:
            payload = {"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
                       "stop_reason": "tool_use", "stop_sequence": None,
                       "content": [{"type": "tool_use", "id": "tu_1", "name": "next_action",
                                    "input": {"reason": "Save is the goal", "confidence": 0.9, "risky": False,
                                              "action": {"action": "click", "element": 2}}}],
                       "usage": {"input_tokens": 1834, "output_tokens": 41}}
        data = json.dumps(payload).encode()
        self.send_response(FakeMessagesApi.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_api(serve_http: Callable[[type[BaseHTTPRequestHandler]], str]) -> str:
    FakeMessagesApi.requests = []
    FakeMessagesApi.status = 200
    return serve_http(FakeMessagesApi)


def _request() -> ModelRequest:
    image = ModelImage(b"\x89PNG fake bytes", 1280, 720, "screenshot of monitor 1 now")
    return ModelRequest("system words", "GOAL: save", decision_schema([1, 2, 3], [1]), [image])


def test_anthropic_request_and_answer(fake_api: str) -> None:
    backend = AnthropicBackend("claude-sonnet-4-6", "sk-test", base_url=fake_api)
    reply = backend.complete(_request())
    sent = FakeMessagesApi.requests[0]
    assert sent["path"] == "/v1/messages" and "sk-test" in sent["key"]
    body = sent["body"]
    assert body["system"] == "system words" and body["tool_choice"] == {"type": "tool", "name": "next_action"}
    assert body["tools"][0]["input_schema"]["properties"]["action"]["anyOf"]
    blocks = body["messages"][0]["content"]
    assert blocks[0]["type"] == "image" and blocks[0]["source"]["media_type"] == "image/png"
    assert blocks[-1] == {"type": "text", "text": "GOAL: save"}
    assert parse_decision(reply.text).action.element == 2  # type: ignore[union-attr]
    assert (reply.prompt_tokens, reply.completion_tokens) == (1834, 41)
    assert reply.cost_usd == pytest.approx((1834 * 3 + 41 * 15) / 1e6)  # Sonnet 4 series list price


def test_anthropic_errors_are_one_line(fake_api: str) -> None:
    FakeMessagesApi.status = 401
    with pytest.raises(BackendError, match="refused the API key"):
        AnthropicBackend("claude-sonnet-4-6", "sk-bad", base_url=fake_api).complete(_request())
    with pytest.raises(BackendError, match="no Anthropic API key"):
        AnthropicBackend("claude-sonnet-4-6", None)
