"""A local GGUF model run in process by llama-cpp-python (an optional extra: `pip install
desktop-agent[llama]`). The answer is constrained by a grammar built from the action schema, so even a
tiny model always returns an action that parses. Vision models (Qwen2.5-VL, UI-TARS, Gemma 3, ...) need
their mmproj file too."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import Any

from desktop_agent.errors import RunAborted
from desktop_agent.planning.backends.base import BackendError, ModelReply, ModelRequest, tell_token

# mmproj chat handlers by name; "mtmd" uses the model's own chat template and suits most recent models.
CHAT_HANDLERS = {"mtmd": "MTMDChatHandler", "qwen25vl": "Qwen25VLChatHandler", "llava15": "Llava15ChatHandler",
                 "llava16": "Llava16ChatHandler", "minicpmv26": "MiniCPMv26ChatHandler",
                 "moondream": "MoondreamChatHandler"}


def llama_available() -> bool:
    """Whether llama-cpp-python is installed."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


class LlamaCppBackend:
    """A local GGUF model in this process (llama-cpp-python), with a vision projector when given."""

    name = "llama"

    def __init__(self, model_path: str | Path, mmproj: str | Path | None = None, chat_handler: str = "mtmd",
                 n_ctx: int = 8192, n_threads: int | None = None, seed: int = 0, temperature: float = 0.0) -> None:
        try:
            import llama_cpp
        except ImportError:
            raise BackendError("the llama planner needs llama-cpp-python: install it with "
                               "`pip install 'desktop-agent[llama]'` (it compiles for a few minutes)") from None
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise BackendError(f"no GGUF model at {path}: pass --model PATH to a .gguf file")
        with path.open("rb") as fh:
            if fh.read(4) != b"GGUF":
                raise BackendError(f"{path} is not a GGUF model file")
        handler = None
        if mmproj:
            mm = Path(mmproj).expanduser()
            if not mm.is_file():
                raise BackendError(f"no mmproj file at {mm}")
            if chat_handler not in CHAT_HANDLERS:
                raise BackendError(f"unknown chat handler {chat_handler!r}: one of {', '.join(CHAT_HANDLERS)}")
            from llama_cpp import llama_chat_format

            handler = getattr(llama_chat_format, CHAT_HANDLERS[chat_handler])(clip_model_path=str(mm), verbose=False)
        self.model = path.name
        self.vision = handler is not None
        self.temperature = temperature
        try:
            self._llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads or os.cpu_count(),
                                        seed=seed, chat_handler=handler, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise BackendError(f"llama.cpp could not load {path.name}: {exc}") from None
        meta = self._llm.metadata
        # Gemma has no system role (its own template folds the system text into the first user turn).
        self._fold_system = meta.get("general.architecture", "").startswith("gemma")
        if handler is None and "tokenizer.chat_template" not in meta:
            # No template in the file: use the family's known format rather than llama.cpp's llama-2 guess.
            arch = meta.get("general.architecture", "")
            family = next((f for f in ("gemma", "qwen", "llama-3", "mistral", "phi") if arch.startswith(f)), None)
            fmt = {"qwen": "chatml", "phi": "chatml", "mistral": "mistral-instruct"}.get(family or "", family)
            if fmt:
                self._llm.chat_format = fmt

    def count_tokens(self, text: str) -> int:
        """The number of tokens `text` takes in this model."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def complete(self, request: ModelRequest) -> ModelReply:
        """One answer to `request`, with its tokens and latency."""
        content: Any = request.text
        if self.vision and request.images:
            content = [{"type": "image_url",
                        "image_url": {"url": "data:image/png;base64," + base64.b64encode(im.png).decode("ascii")}}
                       for im in request.images] + [{"type": "text", "text": request.text}]
        if self._fold_system:
            if isinstance(content, str):
                content = f"{request.system}\n\n{content}"
            else:
                content = [{"type": "text", "text": request.system}, *content]
            messages = [{"role": "user", "content": content}]
        else:
            messages = [{"role": "system", "content": request.system}, {"role": "user", "content": content}]
        t0 = time.perf_counter()
        parts: list[str] = []
        generated = 0
        try:
            # Streamed token by token, so that stopping the run stops the answer mid-way.
            stream: Any = self._llm.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                response_format={"type": "json_object", "schema": request.schema},
                max_tokens=request.max_tokens, temperature=self.temperature, stream=True)
            for chunk in stream:
                if request.cancelled():
                    stream.close()
                    raise RunAborted("run stopped on request (while the local model was answering)")
                delta = chunk["choices"][0].get("delta", {}).get("content")
                if delta:
                    parts.append(delta)
                    generated += 1
                    tell_token(request, delta)
        except ValueError as exc:  # e.g. the prompt does not fit the context
            raise BackendError(f"llama.cpp: {exc}") from None
        latency = (time.perf_counter() - t0) * 1000
        # The context now holds the prompt and the answer: what is not the answer was the prompt.
        prompt_tokens = max(int(self._llm.n_tokens) - generated, 0)
        return ModelReply("".join(parts), prompt_tokens, generated, latency, 0.0)
