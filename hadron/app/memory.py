"""Resident memory of a long-running process: hand the C heap's free pages back to the OS.

A process that receives frames of varying sizes and frees them in other threads (the recorder's
and the state store's workers) leaves free holes in glibc's heaps; the allocator keeps them
mapped, so the resident size creeps up although the live data does not grow (``hadron soak``
measured it). ``malloc_trim(0)`` releases those pages (``madvise``) without moving anything.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

_trim: Callable[[int], int] | None = None
_loaded = False


def _load() -> Callable[[int], int] | None:
    global _trim, _loaded
    if not _loaded:
        _loaded = True
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                _trim = libc.malloc_trim
            except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
                _trim = None
    return _trim


def trim_memory() -> bool:
    """Release the C heap's free pages to the OS (glibc ``malloc_trim(0)``); return whether any
    memory was released. A no-op returning False where glibc is not the allocator."""
    trim = _load()
    return bool(trim(0)) if trim is not None else False
