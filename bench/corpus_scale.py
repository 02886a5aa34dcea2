"""Corpora of millions on this machine: shards in one process vs on 2 local Ray workers, a worker killed
mid-run, and an index built from the shards vs from the text.

Every run is the real command in a fresh process (`simsent encode ... --shard-rows`, `simsent index
build`), its peak RSS sampled from /proc: the command's own process, and the sum over it and every
process it started (Ray's own daemons and workers included: an upper bound, shared pages counted twice).
Checks: the Ray shards equal the single-process ones (max abs difference); with one Ray worker killed
after the first shard is written, every row is still there exactly once and equal.

    python bench/corpus_scale.py --data-dir ../shared/data/senteval_cn
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from _common import (
    data_hashes_line,
    model_label,
    numbered_corpus,
    run_measured,
    shared_texts,
    start_model,
    write_report,
)


def _shards(folder: str) -> np.ndarray:
    from simsent.scale.shards import iter_shards

    return np.concatenate([v for _, v in iter_shards(folder)])


def _kill_a_worker_when_a_shard_is_written(folder: str, done: threading.Event, killed: list[int]) -> None:
    """Once shard 0 exists, SIGKILL one Ray worker process (``ray::ShardWorker``)."""
    while not done.is_set() and not os.path.isfile(os.path.join(folder, "shard-00000.npy")):
        time.sleep(0.2)
    while not done.is_set() and not killed:
        out = subprocess.run(["pgrep", "-f", "ShardWorker"], capture_output=True, text=True).stdout.split()
        if out:
            os.kill(int(out[0]), signal.SIGKILL)
            killed.append(int(out[0]))
        time.sleep(0.2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--model", default=None, help="default: the bundled all-MiniLM-L6-v2")
    ap.add_argument("--rows", type=int, default=50000)
    ap.add_argument("--shard-rows", type=int, default=5000)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "simsent-corpus-bench"))
    ap.add_argument("--output", default="results/corpus_scale.md")
    ap.add_argument("--company", default="none")
    a = ap.parse_args()
    model = start_model(a.model)
    import shutil

    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    texts, files = shared_texts(a.data_dir)
    corpus = os.path.join(a.work, "corpus.txt")
    numbered_corpus(corpus, texts, a.rows)
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    base = [sys.executable, "-m", "simsent.cli.main"]
    encode = [*base, "encode", model, "--input", corpus, "--shard-rows", str(a.shard_rows), "--device", "cpu"]
    rows = {}
    rows["one process"] = run_measured([*encode, "--output", os.path.join(a.work, "one")], env)
    ray_out = os.path.join(a.work, "ray")
    rows["2 Ray workers"] = run_measured([*encode, "--output", ray_out, "--workers", "2"], env)
    done, killed = threading.Event(), []
    watcher = threading.Thread(target=_kill_a_worker_when_a_shard_is_written,
                               args=(os.path.join(a.work, "kill"), done, killed))
    watcher.start()
    rows["2 Ray workers, one killed"] = run_measured(
        [*encode, "--output", os.path.join(a.work, "kill"), "--workers", "2"], env
    )
    done.set()
    watcher.join()
    one, spread, cut = (_shards(os.path.join(a.work, d)) for d in ("one", "ray", "kill"))
    checks = {
        "ray vs one process, max abs diff": float(np.abs(spread - one).max()),
        "killed run: rows": len(cut),
        "killed run vs one process, max abs diff": float(np.abs(cut - one).max()),
        "worker processes killed": len(killed),
    }
    build = [*base, "index", "build", model, "--device", "cpu"]
    rows["index build --from-vectors"] = run_measured(
        [*build, "--from-vectors", os.path.join(a.work, "one"), "--output", os.path.join(a.work, "ix1")], env
    )
    rows["index build --corpus (encodes)"] = run_measured(
        [*build, "--corpus", corpus, "--output", os.path.join(a.work, "ix2")], env
    )
    write(a, model, rows, checks, files)


def write(a: argparse.Namespace, model: str, rows: dict, checks: dict, files: list[str]) -> None:
    import torch

    one = rows["one process"]["seconds"]
    lines = [
        f"# Corpus scale: {a.rows:,} sentences, shards of {a.shard_rows:,} ({model_label(a.model)})",
        "",
        "| run | wall s | sentences/s | peak RSS, the command (MiB) | with every process it started (MiB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        rate = f"{a.rows / r['seconds']:.0f}" if name.startswith(("one", "2 Ray")) else "-"
        lines.append(f"| {name} | {r['seconds']:.0f} | {rate} | {r['main_mib']:.0f} | {r['tree_mib']:.0f} |")
    lines += ["", "| check | value |", "|---|---|"]
    lines += [f"| {k} | {v:.2e} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in checks.items()]
    lines += [
        "",
        f"- Ray on this 2-core machine is overhead, not speed: 2 workers took "
        f"{rows['2 Ray workers']['seconds'] / one:.2f}x the single process's time (each worker one core; "
        "Ray's daemons start first).",
        "- The killed worker's shard was retried by Ray (actor restart + task retry); the driver writes each "
        "shard once, by index.",
        f"- Command: `python {shlex.join(sys.argv)}`",
        f"- Start model: {model_label(a.model)}; machine {platform.machine()}, {os.cpu_count()} cores; "
        f"python {platform.python_version()}, torch {torch.__version__}; other jobs: {a.company}.",
        "- Corpus: the shared tasks' distinct sentences, numbered from their second round on.",
        data_hashes_line(files, a.data_dir),
    ]
    write_report(a.output, lines)


if __name__ == "__main__":
    main()
