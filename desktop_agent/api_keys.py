"""API keys for remote models: from an environment variable, else the OS keyring; never a plain file."""

from __future__ import annotations

import os

from desktop_agent.errors import AgentError

SERVICE = "desktop-agent"
ENV_VARS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


class KeyringError(AgentError):
    pass


def get_api_key(provider: str, env_var: str | None = None) -> str | None:
    """The key for `provider` ("openai", "anthropic" or a name of the user's): `env_var` (or the
    provider's usual variable) wins, then the OS keyring."""
    var = env_var or ENV_VARS.get(provider)
    if var and os.environ.get(var):
        return os.environ[var]
    try:
        import keyring

        return keyring.get_password(SERVICE, provider)
    except Exception:  # no keyring backend on this machine (headless, no Secret Service): no key stored
        return None


def set_api_key(provider: str, key: str) -> str:
    """Store a key in the OS keyring; returns the keyring backend's name."""
    import keyring
    from keyring.errors import KeyringError as _Err

    if not key.strip():
        raise KeyringError("empty key: nothing stored")
    try:
        keyring.set_password(SERVICE, provider, key.strip())
    except (_Err, RuntimeError) as exc:
        raise KeyringError(f"could not store the key in the OS keyring ({exc}); use the environment variable "
                           f"{ENV_VARS.get(provider, 'named by --api-key-env')} instead") from None
    return type(keyring.get_keyring()).__name__


def delete_api_key(provider: str) -> bool:
    import keyring
    from keyring.errors import KeyringError as _Err
    from keyring.errors import PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, provider)
    except PasswordDeleteError:
        return False
    except (_Err, RuntimeError) as exc:
        raise KeyringError(f"could not reach the OS keyring: {exc}") from None
    return True
