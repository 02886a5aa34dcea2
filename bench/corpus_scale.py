"""Corpora of millions on this machine: shards in one process vs on 2 local Ray workers at several corpus
sizes, a worker killed mid-run, and an index built from the shards vs from the text.

Every run is the real command in a fresh process (`simsent encode ... --shard-rows`, `simsent index
build`), its peak RSS sampled from /proc: the command's own process, each Ray worker (``ray::ShardWorker``,
the largest one), and the sum over it and every process it started (Ray's own daemons and workers
included: an upper bound, shared pages counted twice). Checks: the Ray shards equal the single-process
ones (max abs difference); with one Ray worker killed after the first shard is written, every row is
still there exactly once and equal.

``--layers N`` measures with the start model cut to its first N transformer layers (saved in the work
folder): the pipeline, not the vectors' quality, is under test, and a full 6-layer MiniLM would need an
hour per million sentences on 2 cores.

    python bench/corpus_scale.py --data-dir ../shared/data/senteval_cn --rows 100000,1000000 --layers 1
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

WORKER = "ShardWorker"  # Ray's process title of an encoding actor


def _shards(folder: str) -> np.ndarray:
    from simsent.scale.shards import iter_shards

    return np.concatenate([v for _, v in iter_shards(folder)])


def _kill_a_worker_when_a_shard_is_written(folder: str, done: threading.Event, killed: list[int]) -> None:
    """Once shard 0 exists, SIGKILL one Ray worker process (``ray::ShardWorker``)."""
    while not done.is_set() and not os.path.isfile(os.path.join(folder, "shard-00000.npy")):
        time.sleep(0.2)
    while not done.is_set() and not killed:
        out = subprocess.run(["pgrep", "-f", WORKER], capture_output=True, text=True).stdout.split()
        if out:
            os.kill(int(out[0]), signal.SIGKILL)
            killed.append(int(out[0]))
        time.sleep(0.2)


def cut_model(model: str, layers: int, work: str) -> str:
    """A copy of ``model`` keeping its first ``layers`` transformer layers (0: the model itself)."""
    if not layers:
        return model
    from simsent.modeling.sentence_encoder import SentenceEncoder

    enc = SentenceEncoder.from_pretrained(model)
    hf = enc.encoder.model
    hf.encoder.layer = hf.encoder.layer[:layers]
    hf.config.num_hidden_layers = layers
    path = os.path.join(work, f"model-{layers}-layers")
    enc.save(path)
    return path


def encode_runs(model: str, corpus: str, n: int, a: argparse.Namespace, env: dict) -> tuple[dict, dict]:
    """One process and 2 Ray workers on ``corpus``; (rows of the table, max abs difference)."""
    encode = [sys.executable, "-m", "simsent.cli.main", "encode", model, "--input", corpus,
              "--shard-rows", str(a.shard_rows), "--device", "cpu"]
    one, ray = (os.path.join(a.work, f"{d}-{n}") for d in ("one", "ray"))
    rows = {f"{n:,}: one process": run_measured([*encode, "--output", one], env),
            f"{n:,}: 2 Ray workers": run_measured([*encode, "--output", ray, "--workers", "2"], env, WORKER)}
    diff = float(np.abs(_shards(ray) - _shards(one)).max())
    return rows, {f"{n:,}: ray vs one process, max abs diff": diff}


def kill_run(model: str, corpus: str, n: int, a: argparse.Namespace, env: dict) -> tuple[dict, dict]:
    """2 Ray workers, one SIGKILLed once the first shard is written; its rows checked against one process."""
    folder = os.path.join(a.work, f"kill-{n}")
    done, killed = threading.Event(), []
    watcher = threading.Thread(target=_kill_a_worker_when_a_shard_is_written, args=(folder, done, killed))
    watcher.start()
    argv = [sys.executable, "-m", "simsent.cli.main", "encode", model, "--input", corpus, "--shard-rows",
            str(a.shard_rows), "--device", "cpu", "--output", folder, "--workers", "2"]
    try:
        row = run_measured(argv, env, WORKER)
    finally:
        done.set()
        watcher.join()
    cut, one = _shards(folder), _shards(os.path.join(a.work, f"one-{n}"))
    return {f"{n:,}: 2 Ray workers, one killed": row}, {
        f"{n:,} killed run: rows": len(cut),
        f"{n:,} killed run vs one process, max abs diff": float(np.abs(cut - one).max()),
        "worker processes killed": len(killed),
    }


def index_runs(model: str, corpus: str, n: int, a: argparse.Namespace, env: dict) -> dict:
    """``index build`` from the one-process shards, from the text, and encode + build on Ray in one go."""
    build = [sys.executable, "-m", "simsent.cli.main", "index", "build", model, "--device", "cpu"]
    out = os.path.join(a.work, f"ix-{n}")
    rows = {f"{n:,}: index build --from-vectors": run_measured(
        [*build, "--from-vectors", os.path.join(a.work, f"one-{n}"), "--output", out], env)}
    rows[f"{n:,}: index build --from-vectors"]["index_mib"] = os.path.getsize(
        os.path.join(out, "vectors.faiss")) / 2**20
    if n <= a.text_build_rows:
        rows[f"{n:,}: index build --corpus (encodes here)"] = run_measured(
            [*build, "--corpus", corpus, "--output", os.path.join(a.work, f"ixt-{n}")], env)
        rows[f"{n:,}: index build --corpus --workers 2"] = run_measured(
            [*build, "--corpus", corpus, "--output", os.path.join(a.work, f"ixr-{n}"), "--workers", "2",
             "--shard-rows", str(a.shard_rows)], env, WORKER)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--model", default=None, help="default: the bundled all-MiniLM-L6-v2")
    ap.add_argument("--layers", type=int, default=0, help="cut the model to its first N layers (0: keep all)")
    ap.add_argument("--rows", default="50000", help="corpus sizes, comma-separated")
    ap.add_argument("--shard-rows", type=int, default=50000)
    ap.add_argument("--text-build-rows", type=int, default=100000,
                    help="build from the text (encoding again) only up to this size")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "simsent-corpus-bench"))
    ap.add_argument("--output", default="results/corpus_scale.md")
    ap.add_argument("--company", default="none")
    a = ap.parse_args()
    import shutil

    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    model = cut_model(start_model(a.model), a.layers, a.work)
    texts, files = shared_texts(a.data_dir)
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    sizes = [int(x) for x in a.rows.split(",")]
    rows, checks = {}, {}
    for n in sizes:
        corpus = os.path.join(a.work, f"corpus-{n}.txt")
        numbered_corpus(corpus, texts, n)
        r, c = encode_runs(model, corpus, n, a, env)
        rows.update(r)
        checks.update(c)
        if n == sizes[0]:
            r, c = kill_run(model, corpus, n, a, env)
            rows.update(r)
            checks.update(c)
        rows.update(index_runs(model, corpus, n, a, env))
    write(a, sizes, rows, checks, files)


def write(a: argparse.Namespace, sizes: list[int], rows: dict, checks: dict, files: list[str]) -> None:
    import torch

    label = model_label(a.model) + (f", cut to {a.layers} layer(s)" if a.layers else "")
    lines = [
        f"# Corpus scale: {', '.join(f'{n:,}' for n in sizes)} sentences, shards of {a.shard_rows:,} "
        f"({label})",
        "",
        "| run | wall s | sentences/s | peak RSS, the command (MiB) | largest Ray worker (MiB) | "
        "with every process it started (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        n = int(name.split(":")[0].replace(",", ""))
        rate = f"{n / r['seconds']:.0f}" if "index" not in name else "-"
        worker = f"{r['watch_mib']:.0f}" if r["watch_mib"] else "-"
        lines.append(f"| {name} | {r['seconds']:.0f} | {rate} | {r['main_mib']:.0f} | {worker} | "
                     f"{r['tree_mib']:.0f} |")
    lines += ["", "| check | value |", "|---|---|"]
    lines += [f"| {k} | {v:.2e} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in checks.items()]
    lines += ["", *readings(a, sizes, rows), f"- Command: `python {shlex.join(sys.argv)}`",
              f"- Start model: {label}; machine {platform.machine()}, {os.cpu_count()} cores; python "
              f"{platform.python_version()}, torch {torch.__version__}; other jobs: {a.company}.",
              "- Corpus: the shared tasks' distinct sentences, numbered from their second round on.",
              data_hashes_line(files, a.data_dir)]
    write_report(a.output, lines)


def readings(a: argparse.Namespace, sizes: list[int], rows: dict) -> list[str]:
    """The lines that compare the runs: Ray against one process, RSS across sizes, the index's bound."""
    small, big = sizes[0], sizes[-1]
    out = []
    for n in sizes:
        one, ray = rows[f"{n:,}: one process"], rows[f"{n:,}: 2 Ray workers"]
        out.append(f"- {n:,} rows: 2 Ray workers took {ray['seconds'] / one['seconds']:.2f}x the single "
                   "process's time (each worker one core; Ray's daemons start first).")
    if big != small:
        w0, w1 = rows[f"{small:,}: 2 Ray workers"]["watch_mib"], rows[f"{big:,}: 2 Ray workers"]["watch_mib"]
        m0, m1 = rows[f"{small:,}: one process"]["main_mib"], rows[f"{big:,}: one process"]["main_mib"]
        out.append(f"- Peak RSS from {small:,} to {big:,} rows: largest Ray worker {w1 / w0:.2f}x, driver of "
                   f"the one-process run {m1 / m0:.2f}x.")
    ix = rows[f"{big:,}: index build --from-vectors"]
    base = rows[f"{small:,}: index build --from-vectors"] if big != small else None
    if base is not None:
        from simsent.scale.shards import read_manifest

        dim = read_manifest(os.path.join(a.work, f"one-{big}"))["model"]["dim"]
        shard = a.shard_rows * dim * 4 / 2**20
        grew, index_grew = ix["main_mib"] - base["main_mib"], ix["index_mib"] - base["index_mib"]
        out.append(f"- index build --from-vectors: peak RSS grew {grew:.0f} MiB from {small:,} to {big:,} "
                   f"rows while the saved index grew {index_grew:.0f} MiB (one shard: {shard:.0f} MiB of "
                   f"float32 x {dim}); the rest is the records (ids, texts) held with the index.")
    out.append("- The killed worker's shard was retried by Ray (actor restart + task retry); the driver "
               "writes each shard once, by index.")
    return out


if __name__ == "__main__":
    main()
