"""Published prices in US dollars per million tokens (input, output), for the cost column of a run.

Prices change; a user can give their own with `--price IN,OUT`. Local models cost nothing."""

from __future__ import annotations

# Providers' published list prices as of 2025 (the newest we could cite). Longest prefix of the model name wins.
_PRICES: dict[str, tuple[float, float]] = {
    "claude-opus-4": (15.0, 75.0),
    "claude-opus-4-5": (5.0, 25.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-haiku-4": (1.0, 5.0),
    "claude-3-5-haiku": (0.8, 4.0),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-4o": (2.5, 10.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4.1-nano": (0.1, 0.4),
    "gpt-4.1": (2.0, 8.0),
}


def price_for(model: str) -> tuple[float, float] | None:
    """The known price of a model (dollars per million input, output tokens), by its longest matching prefix."""
    best = max((p for p in _PRICES if model.startswith(p)), key=len, default=None)
    return _PRICES[best] if best else None


def cost_usd(price: tuple[float, float] | None, prompt_tokens: int, completion_tokens: int) -> float | None:
    """The cost of one answer in dollars, or None without a price."""
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000


def parse_price(text: str) -> tuple[float, float]:
    """`--price 3,15` as (input, output) dollars per million tokens; UsageError otherwise."""
    from desktop_agent.errors import AgentError

    try:
        a, b = (float(x) for x in text.split(","))
    except ValueError:
        raise AgentError(f"bad --price {text!r}: give dollars per million input and output tokens, e.g. 3,15") from None
    return a, b
