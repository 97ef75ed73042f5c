"""The runtime's periodic hand-back of free C-heap pages (``hadron/app/memory.py``)."""

from __future__ import annotations

import platform

import pytest

from hadron.app.memory import trim_memory
from hadron.config import RuntimeConfig


def test_trim_memory_can_be_called_any_number_of_times() -> None:
    assert all(isinstance(trim_memory(), bool) for _ in range(3))


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_holes_in_the_heap_are_handed_back_on_glibc() -> None:
    trim_memory()
    blocks = [bytearray(64 * 1024) for _ in range(200)]  # 12.5 MiB in heap chunks
    del blocks[::2]  # 6.25 MiB of holes between live chunks
    assert trim_memory() is True
    assert len(blocks) == 100


def test_the_runtime_trims_every_minute_by_default() -> None:
    assert RuntimeConfig().trim_memory_s == 60
