"""The seed-table runner: raw / BERT-whitening / unsupervised SimCSE Spearman per (pooling, task, seed).

For every ``(pooling, task, seed)`` cell a fresh model is loaded with that pooling and dropout,
its raw vectors are scored, whitening is fitted on the train text and scored, then SimCSE is
trained (:class:`simsent.training.trainer.Trainer`, objective ``simcse``) and the trained model is scored.
A TF-IDF character n-gram cosine row (fitted on the same train text) calibrates the numbers.

Protocols (named in every results file):

* ``inductive`` (default): training and whitening text never contains an evaluated pair. When
  the task has a ``train`` split, its sentences are the train text and the evaluation split is
  scored. When it has only the evaluation split, its pairs are split by seed into a train half
  (text only; sentences that also occur in the eval half are removed) and an eval half.
* ``transductive`` (the published setting): the train text is every sentence of every available
  split of the task (text only, labels never used); the evaluation split is scored.

Finished cells are appended to ``<output>/state.jsonl`` and skipped on a rerun with the same
settings, so an interrupted run resumes where it stopped.

Example:
    >>> cfg = TableConfig(model="bert-base-chinese", poolings=["cls"], tasks="STS-B", seeds=1,
    ...                   data_dir="data/senteval_cn", output="results/x")
    >>> run_table(cfg)                                                   # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from simsent.errors import ConfigError
from simsent.experiments.cells import run_cell, run_tfidf_cell
from simsent.experiments.config import PROTOCOLS, TableConfig
from simsent.experiments.protocol import TaskData, task_data

logger = logging.getLogger(__name__)

STATE_FILE = "state.jsonl"


# ---------------------------------------------------------------------------------------------- state
def load_state(output: str, key: str) -> list[dict[str, Any]]:
    """Finished cells of ``<output>/state.jsonl`` that were computed with settings ``key``."""
    path = os.path.join(output, STATE_FILE)
    cells = []
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    cell = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by an interruption
                if cell.get("key") == key:
                    cells.append(cell)
    return cells


def append_state(output: str, cell: dict[str, Any]) -> None:
    os.makedirs(output, exist_ok=True)
    with open(os.path.join(output, STATE_FILE), "a", encoding="utf-8") as f:
        f.write(json.dumps(cell, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


# ---------------------------------------------------------------------------------------------- estimate
def seconds_per_training_step(model: Any, cfg: TableConfig, texts: Sequence[str]) -> float:
    """Seconds per SimCSE step of ``cfg.batch_size``, measured with the real :class:`Trainer` on two batches.

    The first step carries the warm-up (optimiser state, first autograd call), so this errs long.
    """
    import tempfile

    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    rows = list(dict.fromkeys(texts))[: 2 * cfg.batch_size]
    if len(rows) < 2:
        return 0.0
    with tempfile.TemporaryDirectory(prefix="simsent-estimate-") as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            batch_size=min(cfg.batch_size, len(rows)),
            lr=cfg.lr,
            temperature=cfg.temperature,
            simcse_variant=cfg.simcse_variant,
            eval_steps=0,
            checkpoint_steps=0,
            resume=False,
            show_progress_bar=False,
        )
        result = Trainer(model, args, rows).train()
    scale = cfg.batch_size / args.batch_size
    return result["train_seconds"] / max(1, result["global_step"]) * scale


def estimate_seconds(
    cfg: TableConfig, todo: Sequence[tuple[str, TaskData]], probe_pooling: str
) -> dict[str, float]:
    """Time a model load, one encoding batch and SimCSE steps, then extrapolate to ``todo`` cells."""
    from simsent.modeling.sentence_encoder import SentenceEncoder

    t0 = time.perf_counter()
    model = SentenceEncoder.from_pretrained(
        cfg.model, pooling=probe_pooling, max_len=cfg.max_len, dropout=cfg.dropout
    )
    load_s = time.perf_counter() - t0
    sample = [s for _, d in todo[:1] for s in d.train_texts][: max(2, cfg.encode_batch_size)]
    model.encode(sample[:4])
    t0 = time.perf_counter()
    model.encode(sample, batch_size=cfg.encode_batch_size)
    enc_rate = len(sample) / max(time.perf_counter() - t0, 1e-6)
    step_s = seconds_per_training_step(model, cfg, [s for _, d in todo[:1] for s in d.train_texts])
    total = 0.0
    for _, d in todo:
        n_eval = len({s for r in d.eval_rows for s in (r["sentence1"], r["sentence2"])})
        steps = cfg.epochs * max(1, len(d.train_texts) // cfg.batch_size)
        total += load_s + (2 * n_eval + len(d.whiten_texts)) / enc_rate + steps * step_s + 2.0
    return {
        "seconds": total,
        "encode_sentences_per_second": enc_rate,
        "seconds_per_step": step_s,
        "load_seconds": load_s,
    }


# ---------------------------------------------------------------------------------------------- runner
def _check_poolings(cfg: TableConfig) -> tuple[list[str], dict[str, str]]:
    from simsent.modeling.pooling import check_pooling
    from simsent.modeling.sentence_encoder import SentenceEncoder

    for p in cfg.poolings:
        check_pooling(p)
    usable, skipped = [], {}
    if "pooler" in cfg.poolings:
        enc = SentenceEncoder.from_pretrained(cfg.model, pooling="cls").encoder
        if not enc.has_pooler():
            skipped["pooler"] = "the model has no dense+tanh pooler"
    usable = [p for p in cfg.poolings if p not in skipped]
    if not usable:
        raise ConfigError("no usable pooling: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    return usable, skipped


def run_table(
    cfg: TableConfig,
    argv: str | None = None,
    estimate_only: bool = False,
    echo: Callable[[str], None] = print,
    title: str = "Seed table",
) -> dict[str, Any] | None:
    """Run (or resume) every missing cell, then write ``table.md``, ``table.csv`` and ``table.json``.

    Returns ``{"markdown", "files", "rows", "cells", "provenance"}`` (``None`` with ``estimate_only``).
    """
    from simsent.data.tasks import resolve_data_dir
    from simsent.experiments.provenance import provenance
    from simsent.experiments.report import summarize_cells, write_reports

    if cfg.protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {cfg.protocol!r}; choose {' or '.join(PROTOCOLS)}")
    from simsent.losses.simcse import check_variant

    check_variant(cfg.simcse_variant)  # fail before the first cell, not at its SimCSE stage
    data_dir = resolve_data_dir(cfg.data_dir)
    tasks = cfg.task_list
    if not tasks:
        raise ConfigError("no tasks given (--tasks ATEC,BQ,...)")
    poolings, skipped = _check_poolings(cfg)
    for p, why in skipped.items():
        echo(f"skipping pooling {p}: {why}")
    key = cfg.cell_key()
    done = load_state(cfg.output, key)
    done_ids = {(c["pooling"], c["task"], c["seed"]) for c in done}
    data = {(t, s): task_data(cfg, t, s, data_dir) for t in tasks for s in cfg.seed_list}
    todo = [
        ((p, t, s), data[(t, s)])
        for p in poolings
        for t in tasks
        for s in cfg.seed_list
        if (p, t, s) not in done_ids
    ]
    tfidf_todo = [(t, s) for t in tasks for s in cfg.seed_list if ("tfidf", t, s) not in done_ids]
    n_total = len(poolings) * len(tasks) * len(cfg.seed_list)
    echo(
        f"{cfg.protocol} protocol: {n_total} cells ({len(poolings)} poolings x {len(tasks)} tasks x "
        f"{len(cfg.seed_list)} seeds); {n_total - len(todo)} already done in {cfg.output}/{STATE_FILE}"
    )
    if todo:
        est = estimate_seconds(cfg, [(c[0], d) for c, d in todo], todo[0][0][0])
        echo(
            f"estimated run time: {est['seconds'] / 60:.1f} min for {len(todo)} cells "
            f"(encode {est['encode_sentences_per_second']:.0f} sentences/s, "
            f"{est['seconds_per_step']:.2f} s per "
            f"SimCSE step of batch {cfg.batch_size}, model load {est['load_seconds']:.1f} s)"
        )
    if estimate_only:
        return None
    start = time.perf_counter()
    cells_run = 0
    for t, s in tfidf_todo:
        cell = {**run_tfidf_cell(cfg, data[(t, s)], s), "key": key}
        append_state(cfg.output, cell)
        done.append(cell)
    for i, ((p, t, s), d) in enumerate(todo, 1):
        cell = {**run_cell(cfg, p, d, s), "key": key}
        append_state(cfg.output, cell)
        done.append(cell)
        cells_run += 1
        elapsed = time.perf_counter() - start
        echo(
            f"[{i}/{len(todo)}] {p} {t} seed {s}: raw {cell['raw']['spearman']:.2f} whitening "
            f"{cell['whitening']['spearman']:.2f} SimCSE {cell['simcse']['spearman']:.2f} "
            f"({cell['seconds']:.0f} s; about {elapsed / i * (len(todo) - i) / 60:.1f} min left)"
        )
    run_seconds = time.perf_counter() - start
    wanted = {(p, t, s) for p in [*poolings, "tfidf"] for t in tasks for s in cfg.seed_list}
    cells = [c for c in done if (c["pooling"], c["task"], c["seed"]) in wanted]
    config = cfg.to_dict()
    config["skipped_poolings"] = skipped
    config["eval_split_used"] = sorted({d.eval_split for d in data.values()})
    files = sorted({f for d in data.values() for f in d.files})
    prov = provenance(cfg.command_line(), config, files, argv=argv)
    prov.update(
        {
            "run_seconds": run_seconds,
            "cells_run": cells_run,
            "cells_resumed": n_total - len(todo),
            "cell_seconds_total": sum(c.get("seconds", 0.0) for c in cells),
        }
    )
    rows = summarize_cells(cells, poolings, tasks)
    written = write_reports(cfg.output, rows, cells, prov, title=title)
    with open(written[0], encoding="utf-8") as f:
        markdown = f.read()
    return {"markdown": markdown, "files": written, "rows": rows, "cells": cells, "provenance": prov}
