"""Font files the tests draw text in: unpacked by `scripts/setup.sh --test` (packaging/test-fonts.txt), never
installed, else the system's own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

UNPACKED = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "desktop-agent" / "test-fonts"


def font(relative: str) -> str | None:
    """The font at `relative` under usr/share/fonts (e.g. "truetype/wqy/wqy-microhei.ttc"), or None."""
    for root in (UNPACKED / "usr/share/fonts", Path("/usr/share/fonts")):
        if (root / relative).exists():
            return str(root / relative)
    return None


def required_font(relative: str) -> str:
    """The font, else a skip here and a failure in CI (where setup.sh --test unpacks it: a missing font is a
    broken set-up there, not a reason to test nothing)."""
    path = font(relative)
    if path is None:
        message = f"no font {relative} (./scripts/setup.sh --test unpacks packaging/test-fonts.txt)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
