"""API keys for remote models: from an environment variable, else the OS keyring; never a plain file."""

from __future__ import annotations

import os
import re
import sys
from typing import TextIO

from desktop_agent.errors import KeyringError, UsageError, quote

SERVICE = "desktop-agent"
ENV_VARS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
MAX_KEY_CHARS = 4096  # API keys are a few hundred characters at most
_PROVIDER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def check_provider(provider: str) -> None:
    """UsageError unless `provider` is a name a key can be stored under (letters, digits, `_.-`)."""
    if not _PROVIDER.fullmatch(provider):
        raise UsageError(f"bad provider name {quote(provider, 40)}: openai, anthropic, or a name of letters, digits "
                         "and _.- (at most 64)")


def read_key(provider: str, stdin: TextIO | None = None, prompt: bool | None = None) -> str:
    """The key the person gives: typed without echo on a terminal, else the first line of stdin.
    UsageError (one line) when there is none: stdin closed, empty, not UTF-8, or absurdly long."""
    stream = sys.stdin if stdin is None else stdin
    how = "pipe the key in (`printf '%s' \"$KEY\" | desktop-agent keys set PROVIDER`) or run it in a terminal"
    if stream is None or stream.closed:
        raise UsageError(f"no key to store: stdin is closed; {how}")
    try:
        if prompt if prompt is not None else stream.isatty():
            import getpass

            line = getpass.getpass(f"{provider} API key: ")
        else:
            line = stream.readline(MAX_KEY_CHARS + 2)
    except UnicodeDecodeError:
        raise UsageError("the key on stdin is not UTF-8 text: nothing stored") from None
    except (OSError, ValueError) as exc:  # a closed or unreadable descriptor
        raise UsageError(f"no key to store: cannot read stdin ({exc}); {how}") from None
    except EOFError:
        line = ""
    key = line.strip()
    if len(key) > MAX_KEY_CHARS:
        raise UsageError(f"the key is longer than {MAX_KEY_CHARS} characters: not an API key; nothing stored")
    if not key:
        raise UsageError(f"empty key: nothing stored; {how}")
    if any("\ud800" <= ch <= "\udfff" for ch in key):  # stdin decodes with surrogateescape in some locales
        raise UsageError("the key on stdin is not UTF-8 text: nothing stored")
    if not key.isprintable():
        raise UsageError("the key holds control characters: nothing stored")
    return key


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
        raise UsageError("empty key: nothing stored")
    try:
        keyring.set_password(SERVICE, provider, key.strip())
    except (_Err, RuntimeError) as exc:
        raise KeyringError(f"could not store the key in the OS keyring ({exc}); use the environment variable "
                           f"{ENV_VARS.get(provider, 'named by --api-key-env')} instead") from None
    return type(keyring.get_keyring()).__name__


def delete_api_key(provider: str) -> bool:
    """Delete a provider's key from the OS keyring; False if it was not there."""
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
