"""Training files larger than memory: peak RSS of ``simsent train --streaming`` vs the in-memory path.

Generated files of distinct sentences (the shared tasks' text, numbered once it repeats) of 100k, 1M and
5M lines; each run is ``simsent train`` in a fresh process for ``--steps`` SimCSE steps (``--max-steps``),
with and without ``--streaming``. The resident memory of the training process and of its DataLoader
worker is sampled from ``/proc`` every 50 ms; reported: the training process's peak, the peak of the
process tree's sum (shared pages of the forked worker are counted twice: an upper bound) and the wall
time (the in-memory path reads and tokenises the whole file first; the streaming path scans it once).

Target (issue "training past one device"): streaming peak RSS for 5M lines within 1.3x of that for 100k
lines; the in-memory path grows.

    python bench/train_stream.py --data-dir ../shared/data/senteval_cn --output results/train_stream.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import tempfile

from _common import (
    data_hashes_line,
    model_label,
    numbered_corpus,
    run_measured,
    shared_texts,
    start_model,
    write_report,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--model", default=None, help="default: the bundled all-MiniLM-L6-v2")
    ap.add_argument("--sizes", default="100000,1000000,5000000")
    ap.add_argument("--memory-up-to", type=int, default=5000000, help="largest file also run in memory")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "simsent-stream-bench"))
    ap.add_argument("--output", default="results/train_stream.md")
    ap.add_argument("--company", default="none", help="other jobs on the machine during the run")
    args = ap.parse_args()
    model = start_model(args.model)
    texts, files = shared_texts(args.data_dir)
    os.makedirs(args.work, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "TOKENIZERS_PARALLELISM": "true"}
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        path = os.path.join(args.work, f"lines-{n}.txt")
        if not os.path.isfile(path):
            numbered_corpus(path, texts, n)
        for mode in ("--streaming", "--no-streaming"):
            if mode == "--no-streaming" and n > args.memory_up_to:
                continue
            argv = [sys.executable, "-m", "simsent.cli.main", "train", "--model", model, "--train-file", path,
                    "--output", os.path.join(args.work, "out"), "--no-resume", "--max-steps", str(args.steps),
                    "--batch-size", str(args.batch_size), "--eval-steps", "0", "--checkpoint-steps", "0",
                    "--max-len", "32", "--device", "cpu", mode]
            figures = run_measured(argv, env)
            rows.append({"lines": n, "mode": mode.strip("-"), "bytes": os.path.getsize(path), **figures})
            print(rows[-1], flush=True)
    write(args, model, rows, files, argv)


def write(args: argparse.Namespace, model: str, rows: list[dict], files: list[str], argv: list[str]) -> None:
    import torch

    import simsent

    def peak(mode: str, n: int) -> float:
        return next((r["main_mib"] for r in rows if r["mode"] == mode and r["lines"] == n), float("nan"))

    sizes = sorted({r["lines"] for r in rows})
    lines = [
        f"# Streaming training data: peak memory vs file size ({model_label(args.model)})",
        "",
        "| lines | file MiB | mode | peak RSS, training process (MiB) | peak RSS sum with worker (MiB) | "
        "wall s |",
        "|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['lines']:,} | {r['bytes'] / 2**20:.0f} | {r['mode']} | {r['main_mib']:.0f} | "
                     f"{r['tree_mib']:.0f} | {r['seconds']:.0f} |")
    ratio = peak("streaming", sizes[-1]) / peak("streaming", sizes[0])
    in_memory = sorted(r["lines"] for r in rows if r["mode"] == "no-streaming")
    grown = peak("no-streaming", in_memory[-1]) / peak("no-streaming", in_memory[0])
    lines += [
        "",
        f"- Streaming peak RSS, {sizes[-1]:,} vs {sizes[0]:,} lines: **{ratio:.2f}x** (target <= 1.3x); "
        f"in memory, {in_memory[-1]:,} vs {in_memory[0]:,} lines: {grown:.2f}x.",
        f"- Each run: `simsent train` SimCSE, {args.steps} steps (`--max-steps`) of batch {args.batch_size}, "
        "max_len 32, 1 DataLoader worker when streaming (default), shuffle buffer 10,000 (default); "
        "fresh process each.",
        "- Peak RSS sampled from /proc every 50 ms (the training process; and the sum over it and its "
        "forked worker, which counts shared pages twice).",
        f"- Command: `python {shlex.join(sys.argv)}`; one run: `{shlex.join(argv[1:])}`",
        f"- Start model: {model_label(args.model)}; threads {args.threads}; machine {platform.machine()}, "
        f"{os.cpu_count()} cores; python {platform.python_version()}, torch {torch.__version__}, "
        f"simsent {simsent.__version__}; other jobs during the run: {args.company}.",
        "- Files: generated from the distinct sentences of the five tasks' train and valid splits, line i = "
        "sentence i mod n, numbered from the second round on.",
        data_hashes_line(files, args.data_dir),
    ]
    write_report(args.output, lines)


if __name__ == "__main__":
    main()
