"""One process vs two (torchrun, gloo on the CPU): the same SimCSE training, its time and whether the
weights agree. A correctness run on a 2-core machine, not a speed-up claim: two processes of one thread
share the cores that one process of two threads uses.

    python bench/train_processes.py --data-dir ../shared/data/senteval_cn --output results/train_processes.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time

from _common import data_hashes_line, shared_texts, start_model


def run(cmd: list[str], threads: int) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--model", default=None, help="default: the bundled all-MiniLM-L6-v2")
    ap.add_argument("--sentences", type=int, default=1024)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--output", default="results/train_processes.md")
    args = ap.parse_args()
    args.model = start_model(args.model)
    texts, files = shared_texts(args.data_dir, ("train",))
    work = tempfile.mkdtemp(prefix="simsent-processes-")
    corpus = os.path.join(work, "sents.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write("\n".join(texts[: args.sentences]) + "\n")
    train = [
        "train",
        "--model",
        args.model,
        "--train-file",
        corpus,
        "--batch-size",
        str(args.batch_size),
        "--epochs",
        "1",
        "--dropout",
        "0",
        "--eval-steps",
        "0",
        "--checkpoint-steps",
        "0",
        "--device",
        "cpu",
        "--seed",
        str(args.seed),
        "--no-resume",
    ]
    one = run([sys.executable, "-m", "simsent.cli.main", *train, "--output", f"{work}/one"], threads=2)
    two = run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "simsent.cli.main",
            *train,
            "--output",
            f"{work}/two",
        ],
        threads=1,
    )
    from safetensors.torch import load_file

    a, b = load_file(f"{work}/one/model.safetensors"), load_file(f"{work}/two/model.safetensors")
    diff = max((a[k] - b[k]).abs().max().item() for k in a)
    start = load_file(os.path.join(args.model, "model.safetensors"))
    moved = max((a[k] - start[k]).abs().max().item() for k in a if k in start)
    write(args, files, one, two, diff, moved)


def write(
    args: argparse.Namespace, files: list[str], one: float, two: float, diff: float, moved: float
) -> None:
    import torch

    from simsent import __version__

    n = args.sentences
    lines = [
        "# One process vs two: the same SimCSE training (CPU, gloo)",
        "",
        f"- command: `python bench/train_processes.py {shlex.join(sys.argv[1:])}`",
        f"- model: all-MiniLM-L6-v2 (`{args.model}`), unsupervised SimCSE, {n} STS-B train sentences, "
        f"global batch {args.batch_size}, 1 epoch, dropout 0 (so the two runs can agree), seed {args.seed}; "
        "run alone",
        f"- simsent {__version__}, torch {torch.__version__}, Python {platform.python_version()}, "
        f"{platform.platform()}",
        data_hashes_line(files, args.data_dir),
        "",
        "| run | wall seconds (load and save included) | sentences/s |",
        "|---|---:|---:|",
        f"| 1 process, 2 threads | {one:.1f} | {n / one:.1f} |",
        f"| 2 processes (torchrun, gloo), 1 thread each | {two:.1f} | {n / two:.1f} |",
        "",
        f"Largest weight difference between the two trained models: {diff:.2e} (training moved the weights "
        f"by up to {moved:.2e}). This is a correctness run on a 2-core machine, not a speed-up claim: the "
        "two processes share the two cores one process uses, and pay for the gather and the gradient "
        "all-reduce; more processes pay on more devices.",
    ]
    with open(args.output, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.splitext(args.output)[0] + ".json", "w", encoding="utf-8") as f:
        json.dump({"argv": sys.argv, "one_s": one, "two_s": two, "max_weight_diff": diff, "moved": moved}, f)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
