"""Any OpenAI-compatible chat server (OpenAI, vLLM, Ollama, LM Studio, llama.cpp's server, OpenRouter),
through the official `openai` SDK. Structured output by JSON schema where the server supports it."""

from __future__ import annotations

import base64
import time
from typing import Any

from desktop_agent.errors import RunAborted
from desktop_agent.planning.backends.base import BackendError, ModelReply, ModelRequest, tell_token
from desktop_agent.planning.backends.pricing import cost_usd, price_for

# How to ask for JSON, most precise first. "json_schema" is OpenAI's structured output; "json_object"
# with a "schema" is llama.cpp's and vLLM's way; plain "json_object" only promises JSON.
RESPONSE_FORMATS = ("json_schema", "json_object_schema", "json_object", "none")


def _response_format(mode: str, request: ModelRequest) -> dict[str, Any] | None:
    if mode == "json_schema":
        return {"type": "json_schema",
                "json_schema": {"name": request.schema_name, "schema": request.schema, "strict": True}}
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": request.schema}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


class OpenAICompatBackend:
    """Any OpenAI-compatible chat server (OpenAI, Ollama, LM Studio, vLLM, llama.cpp)."""

    name = "openai"

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None, vision: bool = True,
                 response_format: str = "auto", price: tuple[float, float] | None = None, timeout: float = 120.0,
                 http_client: Any = None, system_role: bool = True) -> None:
        import openai

        if response_format != "auto" and response_format not in RESPONSE_FORMATS:
            raise BackendError(f"unknown response format {response_format!r}: "
                               f"one of auto, {', '.join(RESPONSE_FORMATS)}")
        self.model = model
        self.base_url = base_url or "https://api.openai.com/v1"
        self.vision = vision
        self.system_role = system_role  # False: the server's chat template drops system messages (Gemma)
        self.price = price if price is not None else price_for(model)
        self._formats = list(RESPONSE_FORMATS) if response_format == "auto" else [response_format]
        # Local servers take any key; the SDK insists on one being set.
        self._client = openai.OpenAI(base_url=self.base_url, api_key=api_key or "not-needed", timeout=timeout,
                                     max_retries=1, http_client=http_client)
        self._openai = openai
        # Answers stream to a watcher (ModelRequest.on_token) while this holds; off for a server whose
        # streams carry no token counts, so that every later answer is counted exactly.
        self.stream = True

    def _messages(self, request: ModelRequest) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = [{"type": "text", "text": request.text}]
        for im in request.images:
            url = "data:image/png;base64," + base64.b64encode(im.png).decode("ascii")
            content.append({"type": "image_url", "image_url": {"url": url}})
        if not self.system_role:
            content[0]["text"] = f"{request.system}\n\n{request.text}"
            return [{"role": "user", "content": content if request.images else content[0]["text"]}]
        user: dict[str, Any] = {"role": "user", "content": content if request.images else request.text}
        return [{"role": "system", "content": request.system}, user]

    def complete(self, request: ModelRequest) -> ModelReply:
        """One answer to `request`, asking for JSON in the most precise form the server takes."""
        messages = self._messages(request)
        last_error: Exception | None = None
        for mode in list(self._formats):
            args = self._args(mode, request, messages)
            t0 = time.perf_counter()
            try:
                answer = self._ask_or_ask_whole(args, request)
            except self._openai.APIError as exc:
                if not self._format_refused(exc):
                    raise self._backend_error(exc) from None
                # The server does not take this way of asking for JSON (servers answer 400, 422 or even
                # 500): use the next way, from now on.
                last_error = exc
                self._formats.remove(mode)
                continue
            latency = (time.perf_counter() - t0) * 1000
            text, pt, ct = answer
            self._formats = [mode] + [m for m in self._formats if m != mode]
            return ModelReply(text, pt, ct, latency, cost_usd(self.price, pt, ct))
        raise BackendError(f"{self.base_url} accepts none of the ways to ask for JSON: {_short(last_error)}")

    def _args(self, mode: str, request: ModelRequest, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The chat completion's arguments, asking for JSON the way `mode` names."""
        fmt = _response_format(mode, request)
        args: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": request.max_tokens,
                                "temperature": 0.0}
        if fmt:
            args["response_format"] = fmt
        return args

    def _ask_or_ask_whole(self, args: dict[str, Any], request: ModelRequest) -> tuple[str, int, int]:
        """`_ask`, and again for the whole answer when the server refuses to stream (or to stream with usage):
        whole answers from then on."""
        try:
            return self._ask(args, request)
        except self._openai.APIStatusError as exc:
            if not (self._stream_ok(request) and "stream" in str(exc).lower()):
                raise
            self.stream = False
            return self._ask(args, request)

    def _format_refused(self, exc: Exception) -> bool:
        """Whether `exc` is the server refusing the way JSON was asked for while another way is left to try."""
        o = self._openai
        if not isinstance(exc, o.APIStatusError) or isinstance(exc, (o.AuthenticationError, o.NotFoundError)):
            return False
        msg = str(exc).lower()
        return len(self._formats) > 1 and ("response_format" in msg or "json_schema" in msg or "schema" in msg)

    def _backend_error(self, exc: Exception) -> BackendError:
        """The one-line BackendError for an error of the `openai` SDK."""
        o = self._openai
        if isinstance(exc, o.AuthenticationError):
            return BackendError(f"{self.base_url} refused the API key: set OPENAI_API_KEY or "
                                "`desktop-agent keys set openai`")
        if isinstance(exc, o.NotFoundError):
            return BackendError(f"{self.base_url} has no model {self.model!r}: {_short(exc)}")
        if isinstance(exc, o.APIConnectionError):
            return BackendError(f"cannot reach the model server at {self.base_url} (is it running?)")
        if isinstance(exc, o.APIStatusError):
            return BackendError(f"{self.base_url} refused the request: {_short(exc)}")
        return BackendError(f"{self.base_url}: {_short(exc)}")

    def _stream_ok(self, request: ModelRequest) -> bool:
        return self.stream and request.on_token is not None

    def _ask(self, args: dict[str, Any], request: ModelRequest) -> tuple[str, int, int]:
        """One answer: (text, prompt tokens, completion tokens); streamed piece by piece to the request's
        watcher when it has one and the server streams with usage."""
        if not self._stream_ok(request):
            resp = self._client.chat.completions.create(**args)
            if not resp.choices:
                raise BackendError(f"{self.base_url} returned no answer")
            pt = resp.usage.prompt_tokens if resp.usage else 0
            ct = resp.usage.completion_tokens if resp.usage else 0
            return resp.choices[0].message.content or "", pt, ct
        stream = self._client.chat.completions.create(**args, stream=True, stream_options={"include_usage": True})
        parts: list[str] = []
        pieces, answered = 0, False
        usage: Any = None
        with stream:
            for chunk in stream:
                if request.cancelled():
                    raise RunAborted("run stopped on request (while the model was answering)")
                if chunk.usage is not None:
                    usage = chunk.usage
                if not chunk.choices:
                    continue
                answered = True
                delta = chunk.choices[0].delta.content if chunk.choices[0].delta is not None else None
                if delta:
                    parts.append(delta)
                    pieces += 1
                    tell_token(request, delta)
        if not answered:
            raise BackendError(f"{self.base_url} returned no answer")
        if usage is None:
            # This server's streams carry no token counts (llama-cpp-python's server): the pieces counted
            # stand for the answer's tokens, and later answers come whole, with the server's exact counts.
            self.stream = False
            return "".join(parts), 0, pieces
        return "".join(parts), usage.prompt_tokens, usage.completion_tokens


def _short(exc: Exception | None) -> str:
    return str(exc).replace("\n", " ")[:200]
