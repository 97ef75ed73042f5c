"""Resident memory of a long-running process: hand the C heap's free pages back to the OS.

A process that receives frames of varying sizes and frees them in other threads (the recorder's
and the state store's workers) leaves free holes in glibc's heaps; the allocator keeps them
mapped, so the resident size creeps up although the live data does not grow (``hadron soak``
measured it). ``malloc_trim(0)`` releases those pages (``madvise``) without moving anything.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    return trim


def trim_memory() -> bool:
    """Release the C heap's free pages to the OS (glibc ``malloc_trim(0)``); return whether any
    memory was released. A no-op returning False where glibc is not the allocator."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
