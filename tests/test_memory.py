import sys

import pytest

from simsent._memory import trim_heap


def _anon_kib() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("RssAnon"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_trim_heap_returns_freed_small_blocks_to_the_os():
    blocks = [bytearray(32_000) for _ in range(4000)]  # 128 MB under the mmap threshold: glibc's heap
    blocks = blocks[::2]  # every other block freed: holes the allocator keeps
    before = _anon_kib()
    assert trim_heap()
    assert _anon_kib() < before - 20_000  # at least 20 MiB of the 64 MB of holes went back
    del blocks


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_bound_heap_serves_large_blocks_with_mmap_so_freeing_them_returns_the_memory():
    from simsent._memory import bound_heap

    assert bound_heap()
    for _ in range(3):  # without the bound, freeing these would raise the threshold above their size
        before = _anon_kib()
        block = bytearray(8 << 20)
        assert _anon_kib() > before + 7_000
        del block
        assert _anon_kib() < before + 1_000  # mmapped: unmapped on free, not kept in the heap
