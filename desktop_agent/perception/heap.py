"""Giving freed memory back to the system, during and after a parse.

A parse allocates and frees a few hundred megabytes in many blocks (model inputs and outputs, crops); glibc's
allocator keeps much of what was freed in its heaps, so a long-lived process (the tray app) would sit on its
largest parse's memory. `release_freed_memory` asks glibc to return it (malloc_trim).

The models' buffers (tens of MB each on a large screen) fragment those heaps while they run: glibc serves a
block from its heaps below a size limit that it raises, after the first large free, to up to 32 MB. Within
`large_blocks_mapped` a block above a set size gets a mapping of its own, returned when freed: the element
detector's from 4 MB, the text recognizer's outputs from 16 MB. A 2560x1440 parse peaked about 100 MB
lower, a 1920x1080 one 80 MB (bench/memory.py, medians). Lower limits cost time: a mapping is faulted in
afresh each time, and with 1 MB for every model a parse took 20% more CPU time.
Where the C library is not glibc these do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# mallopt's parameters (glibc's malloc.h) and the values its own adjustment ends at (mmap: DEFAULT_MMAP_THRESHOLD_MAX
# on 64-bit systems; trim: twice that, as glibc sets it when it raises the mmap limit).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
HEAP_MMAP_THRESHOLD, HEAP_TRIM_THRESHOLD = 32 << 20, 64 << 20


@functools.cache
def _glibc_function(name: str) -> Callable[..., int] | None:
    lib = ctypes.util.find_library("c")
    if not lib:
        return None
    try:
        function: Callable[..., int] = getattr(ctypes.CDLL(lib), name)
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return None
    return function


@contextmanager
def large_blocks_mapped(threshold: int) -> Iterator[None]:
    """Within: every block of `threshold` bytes or more is a mapping of its own, unmapped when freed. After:
    glibc's limits are fixed where its adjustment ends (HEAP_MMAP_THRESHOLD, HEAP_TRIM_THRESHOLD), so the rest
    of the process reuses its heaps as it did (setting a limit stops glibc adjusting it, and a trim limit left
    at its 128 KB default would give pages back and fault them in again on every free)."""
    mallopt = _glibc_function("mallopt")
    if mallopt is None:
        yield
        return
    mallopt(M_MMAP_THRESHOLD, threshold)
    try:
        yield
    finally:
        mallopt(M_MMAP_THRESHOLD, HEAP_MMAP_THRESHOLD)
        mallopt(M_TRIM_THRESHOLD, HEAP_TRIM_THRESHOLD)


def release_freed_memory() -> None:
    """Return the allocator's free pages to the system, where the C library can (glibc)."""
    trim = _glibc_function("malloc_trim")
    if trim is not None:
        trim(0)
