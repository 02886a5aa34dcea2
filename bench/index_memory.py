"""Resident memory of an index's records: a faiss flat index of N random 384-d vectors alone, the same
vectors added to a VectorIndex with a record a row (id, a 20-character Chinese text, a small payload),
and that index loaded from disk answering 1,000 queries (beside the faiss index loaded alone answering
them); each in a fresh process, its peak RSS the kernel's high-water mark (VmHWM). Records' bytes a row: the
VectorIndex's peak minus faiss alone's, as a slope between two sizes. Vectors are added in
chunks of 100,000 as `index build --from-vectors` adds shards. With ``--old SRC`` (a checkout's src/,
e.g. from ``git worktree add``), the VectorIndex runs are repeated with that code, side by side.

    python bench/index_memory.py --rows 250000,1000000 --old /tmp/old/src
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile

import numpy as np

DIM, CHUNK = 384, 100_000


def _chunks(n: int):
    rng = np.random.default_rng(0)
    for start in range(0, n, CHUNK):
        rows = min(CHUNK, n - start)
        yield start, rng.standard_normal((rows, DIM), dtype=np.float32)


def _records(start: int, rows: int) -> list[dict]:
    return [{"id": f"faq-{start + i:08d}", "text": f"请问花呗账单第{start + i}期为什么还没有到账呢",
             "payload": {"tag": "bill"}} for i in range(rows)]


def child(mode: str, n: int, folder: str) -> None:
    """One measured run (in its own process); prints its peak RSS in MiB (``ru_maxrss``)."""
    import faiss

    queries = np.random.default_rng(1).standard_normal((1000, DIM), dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    if mode == "faiss-build":  # the vectors' own structure, filled as VectorIndex fills it
        flat = faiss.IndexFlatIP(DIM)
        for _, vecs in _chunks(n):
            flat.add(vecs / np.linalg.norm(vecs, axis=1, keepdims=True))
    elif mode == "faiss-load":
        flat = faiss.read_index(os.path.join(folder, "vectors.faiss"))
        for i in range(0, 1000, 100):
            flat.search(queries[i : i + 100], 10)
    elif mode == "build":
        from simsent.search import VectorIndex

        index = VectorIndex(DIM)
        for start, vecs in _chunks(n):
            index.add_records(vecs, _records(start, len(vecs)))
        index.save(folder)
    else:
        from simsent.search import VectorIndex

        index = VectorIndex.load(folder)
        for i in range(0, 1000, 100):
            assert len(index.search(queries[i : i + 100], k=10).ids[0]) == 10
        assert index.get(f"faq-{n - 1:08d}")["id"] == f"faq-{n - 1:08d}"
    with open("/proc/self/status") as f:  # VmHWM: this process image's peak (ru_maxrss survives exec)
        status = {line.split(":")[0]: int(line.split()[1])
                  for line in f if line.startswith(("VmHWM", "RssAnon"))}
    print(f"anon_mib={status['RssAnon'] / 1024:.1f} maxrss_mib={status['VmHWM'] / 1024:.1f}")


def measure(n: int, src: str | None, work: str) -> dict[str, float]:
    """Peak RSS (MiB) of each mode at ``n`` rows, with ``src`` on the path (None: this tree)."""
    import subprocess

    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    if src:
        env["PYTHONPATH"] = src
    folder = os.path.join(work, f"ix-{n}-{'old' if src else 'new'}")
    out = {}
    for mode in ("faiss-build", "build", "faiss-load", "query"):
        run = subprocess.run([sys.executable, __file__, "--child", mode, str(n), folder], env=env,
                             capture_output=True, text=True, check=True)
        out[mode] = float(run.stdout.strip().rsplit("maxrss_mib=", 1)[1])
        out[f"{mode} anon"] = float(run.stdout.strip().rsplit("anon_mib=", 1)[1].split()[0])
    return out


def _per_row(runs: dict[int, dict[str, float]]) -> tuple[float, float, float]:
    """Bytes a row the records add while building (peak), once loaded (peak, file pages the queries
    touched included) and once loaded in anonymous memory (the heap, at the end): VectorIndex minus faiss
    alone, as a slope over the runs' sizes (fixed costs such as imports cancel)."""
    lo, hi = min(runs), max(runs)

    def slope(mode: str, base: str) -> float:
        extra = (runs[hi][mode] - runs[hi][base]) - (runs[lo][mode] - runs[lo][base])
        return extra * 2**20 / max(1, hi - lo)

    return slope("build", "faiss-build"), slope("query", "faiss-load"), slope("query anon", "faiss-load anon")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="250000,1000000")
    ap.add_argument("--old", default=None, help="src/ folder of the code to compare with")
    ap.add_argument("--child", nargs=3, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default="results/index_memory.md")
    args = ap.parse_args()
    if args.child:
        return child(args.child[0], int(args.child[1]), args.child[2])
    from _common import write_report

    rows = [int(r) for r in args.rows.split(",")]
    lines = ["# Resident memory of an index's records", "", f"Command: `python {' '.join(sys.argv)}`", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             "random 384-d float32 vectors (seed 0), exact backend (faiss IndexFlatIP); run alone.", "",
             "Peak RSS (MiB, the kernel's VmHWM of each run):", "",
             "| code | rows | vectors (MiB) | faiss flat, filled | VectorIndex build + save | "
             "faiss flat, loaded + 1,000 queries | VectorIndex loaded + 1,000 queries |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    slopes = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as work:
        for label, src in (("this tree", None), ("before (--old)", args.old)):
            if label != "this tree" and not src:
                continue
            runs = {n: measure(n, src, work) for n in rows}
            for n, m in runs.items():
                lines.append(f"| {label} | {n:,} | {n * DIM * 4 / 2**20:.0f} | {m['faiss-build']:.0f} | "
                             f"{m['build']:.0f} | {m['faiss-load']:.0f} | {m['query']:.0f} |")
                print(lines[-1], flush=True)
            slopes.append((label, _per_row(runs)))
    lines += ["", "Records' resident bytes a row, from the slope between the smallest and the largest run "
              "(VectorIndex minus faiss alone, large minus small), and what 10M rows' records would hold:",
              "", "| code | build peak, bytes a row | loaded peak, bytes a row | loaded, heap (anonymous) "
              "bytes a row | 10M rows' records: build peak (GB) | loaded heap (GB) |",
              "|---|---:|---:|---:|---:|---:|"]
    for label, (build, loaded, heap) in slopes:
        lines.append(f"| {label} | {round(build)} | {round(loaded)} | {round(heap)} | "
                     f"{max(0.0, build) * 1e7 / 1e9:.2f} | {max(0.0, heap) * 1e7 / 1e9:.2f} |")
    lines += ["", "The loaded peak counts the pages of records.jsonl that the 10,000 hits read through mmap "
              "(file cache the kernel can drop); the heap column is the Python objects and arrays alone."]
    write_report(args.out, lines)


if __name__ == "__main__":
    main()
