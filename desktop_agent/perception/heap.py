"""Giving freed memory back to the system after a parse.

A parse allocates and frees a few hundred megabytes in many blocks (model inputs and outputs, crops); glibc's
allocator keeps much of what was freed in its heaps, so a long-lived process (the tray app) would sit on its
largest parse's memory. `release_freed_memory` asks glibc to return it (malloc_trim); elsewhere it does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return None
    return trim


def release_freed_memory() -> None:
    """Return the allocator's free pages to the system, where the C library can (glibc)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
