import sys

import pytest

from simsent.scale.memory import trim_heap


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


_BOUNDED = """
from simsent.scale.memory import bound_heap

def anon():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("RssAnon"))

assert bound_heap()
for _ in range(3):  # without the bound, freeing these raises glibc's threshold above their size
    before = anon()
    block = b"\\x01" * (8 << 20)  # written, so resident
    grew = anon() - before
    del block
    print(grew, anon() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_bound_heap_serves_large_blocks_with_mmap_so_freeing_them_returns_the_memory():
    import subprocess

    out = subprocess.run([sys.executable, "-c", _BOUNDED], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():  # a fresh process: no other test's heap in the way
        grew, kept = map(int, line.split())
        assert grew > 7_000 and kept < 1_000  # mmapped: unmapped on free, not kept in the heap
