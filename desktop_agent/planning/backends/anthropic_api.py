"""Anthropic's Messages API through the official `anthropic` SDK. The answer is forced through one tool
whose input schema is the action schema, so it arrives as structured JSON."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from desktop_agent.errors import RunAborted
from desktop_agent.planning.backends.base import BackendError, ModelReply, ModelRequest, tell_token
from desktop_agent.planning.backends.pricing import cost_usd, price_for


class AnthropicBackend:
    """Claude through the Anthropic Messages API."""

    name = "anthropic"
    vision = True

    def __init__(self, model: str, api_key: str | None, base_url: str | None = None,
                 price: tuple[float, float] | None = None, timeout: float = 120.0, http_client: Any = None) -> None:
        import anthropic

        if not api_key:
            raise BackendError("no Anthropic API key: set ANTHROPIC_API_KEY or store one with "
                               "`desktop-agent keys set anthropic`")
        self.model = model
        self.price = price if price is not None else price_for(model)
        self._client = anthropic.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=1,
                                           http_client=http_client)
        self._anthropic = anthropic

    def complete(self, request: ModelRequest) -> ModelReply:
        """One answer to `request`, with its tokens, latency and cost."""
        content: list[dict[str, Any]] = [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": base64.b64encode(im.png).decode("ascii")}}
            for im in request.images]
        content.append({"type": "text", "text": request.text})
        tool = {"name": request.schema_name, "description": "The next action on the screen.",
                "input_schema": request.schema}
        a = self._anthropic
        t0 = time.perf_counter()
        try:
            args: dict[str, Any] = {"model": self.model, "max_tokens": request.max_tokens, "system": request.system,
                                    "messages": [{"role": "user", "content": content}], "tools": [tool],
                                    "tool_choice": {"type": "tool", "name": request.schema_name}}
            if request.on_token is not None:
                msg = self._streamed(args, request)
            else:
                msg = self._client.messages.create(**args)
        except a.AuthenticationError:
            raise BackendError("Anthropic refused the API key: check ANTHROPIC_API_KEY or "
                               "`desktop-agent keys set anthropic`") from None
        except a.NotFoundError:
            raise BackendError(f"Anthropic has no model {self.model!r}") from None
        except a.APIConnectionError:
            raise BackendError("cannot reach the Anthropic API (network down?)") from None
        except a.APIError as exc:
            raise BackendError(f"Anthropic: {str(exc).splitlines()[0][:200]}") from None
        latency = (time.perf_counter() - t0) * 1000
        text = ""
        for block in msg.content:
            if block.type == "tool_use":
                text = json.dumps(block.input)
                break
            if block.type == "text":
                text = text or block.text
        pt, ct = msg.usage.input_tokens, msg.usage.output_tokens
        return ModelReply(text, pt, ct, latency, cost_usd(self.price, pt, ct))

    def _streamed(self, args: dict[str, Any], request: ModelRequest) -> Any:
        """The same message, streamed: each piece of the tool's JSON (or text) goes to the request's watcher
        as it comes; the final message, usage included, is read exactly as an unstreamed one."""
        with self._client.messages.stream(**args) as stream:
            for event in stream:
                if request.cancelled():
                    raise RunAborted("run stopped on request (while the model was answering)")
                if event.type != "content_block_delta":
                    continue
                if event.delta.type == "input_json_delta":
                    tell_token(request, event.delta.partial_json)
                elif event.delta.type == "text_delta":
                    tell_token(request, event.delta.text)
            return stream.get_final_message()
