"""Keeping a long encode's memory that of one shard: glibc's allocator told not to hoard freed memory.

glibc serves large blocks with ``mmap`` (returned to the OS on free) and small ones from its heap, and
raises the boundary each time a large block is freed, up to 32 MiB: after a few batches, a model's
activation tensors come from the heap, whose freed pages stay resident. An encode of shard after shard
then grows although it holds nothing (measurements: results/defaults.md). :func:`bound_heap` fixes the
boundary; :func:`trim_heap` returns the heap's free pages
after a shard. Both are no-ops where glibc is absent.

Example:
    >>> bound_heap()  # once, before encoding shards    # doctest: +SKIP
    >>> trim_heap()   # after each shard               # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any

#: mallopt's parameter number for the mmap threshold (glibc malloc.h)
M_MMAP_THRESHOLD = -3
#: blocks from this size up are mmapped, whatever was freed before
MMAP_THRESHOLD_BYTES = 1 << 20


@functools.cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        lib = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return lib if lib is not None and hasattr(lib, "malloc_trim") and hasattr(lib, "mallopt") else None


def bound_heap(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Serve blocks of ``threshold`` bytes and more with mmap from now on (glibc ``mallopt``); False where
    it is not available. Process-wide: call it in processes that encode shards."""
    lib = _libc()
    return bool(lib is not None and lib.mallopt(M_MMAP_THRESHOLD, threshold))


def trim_heap() -> bool:
    """Return freed heap pages to the OS (glibc ``malloc_trim(0)``); False where it is not available."""
    lib = _libc()
    return bool(lib is not None and lib.malloc_trim(0))
