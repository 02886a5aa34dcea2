"""The seed table: raw / BERT-whitening / unsupervised SimCSE Spearman per (pooling, task, seed).

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

import logging
from collections.abc import Callable, Sequence
from typing import Any

from simsent.errors import ConfigError
from simsent.experiments.config import PROTOCOLS
from simsent.experiments.protocol import TaskData, task_data
from simsent.experiments.runner import STATE_FILE, PlannedCell, measure_costs, run_cells
from simsent.experiments.study import StudyPlan, run_study
from simsent.experiments.table.cells import run_cell, run_tfidf_cell
from simsent.experiments.table.config import TableConfig

logger = logging.getLogger(__name__)


def estimate_seconds(
    cfg: TableConfig, todo: Sequence[tuple[str, TaskData]], probe_pooling: str
) -> dict[str, float]:
    """The seed table's estimate: :func:`measure_costs`, then one load, the encodings and the SimCSE
    steps of each ``todo`` cell."""
    texts = [s for _, d in todo[:1] for s in d.train_texts]
    costs = measure_costs(
        cfg.model,
        texts,
        cfg.batch_size,
        cfg.lr,
        cfg.encode_batch_size,
        pooling=probe_pooling,
        max_len=cfg.max_len,
        dropout=cfg.dropout,
    )
    per_cell = []
    for _, d in todo:
        n_eval = len({s for r in d.eval_rows for s in (r["sentence1"], r["sentence2"])})
        steps = cfg.epochs * max(1, len(d.train_texts) // cfg.batch_size)
        per_cell.append(costs.seconds(encoded=2 * n_eval + len(d.whiten_texts), steps=steps))
    return {
        "seconds": sum(per_cell),
        "cells": per_cell,
        "encode_sentences_per_second": costs.encode_sentences_per_second,
        "seconds_per_step": costs.seconds_per_step,
        "load_seconds": costs.load_seconds,
    }


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


def _describe_table_cell(cell: dict[str, Any]) -> str:
    return (
        f"{cell['pooling']} {cell['task']} seed {cell['seed']}: raw {cell['raw']['spearman']:.2f} whitening "
        f"{cell['whitening']['spearman']:.2f} SimCSE {cell['simcse']['spearman']:.2f}"
    )


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
    data = {(t, s): task_data(cfg, t, s, data_dir) for t in tasks for s in cfg.seed_list}
    grid = [(p, t, s) for p in poolings for t in tasks for s in cfg.seed_list]
    resumed: list[int] = []

    def plan(done: set[tuple]) -> StudyPlan:
        todo = [c for c in grid if c not in done]
        resumed.append(len(grid) - len(todo))
        summary = (
            f"{cfg.protocol} protocol: {len(grid)} cells ({len(poolings)} poolings x {len(tasks)} tasks x "
            f"{len(cfg.seed_list)} seeds); {len(grid) - len(todo)} already done in {cfg.output}/{STATE_FILE}"
        )
        if not todo:
            return StudyPlan(_cell_plan(cfg, grid, data, {}), summary)
        est = estimate_seconds(cfg, [(c[0], data[c[1:]]) for c in todo], todo[0][0])
        estimate = (
            f"estimated run time: {est['seconds'] / 60:.1f} min for {len(todo)} cells "
            f"(encode {est['encode_sentences_per_second']:.0f} sentences/s, {est['seconds_per_step']:.2f} s "
            f"per SimCSE step of batch {cfg.batch_size}, model load {est['load_seconds']:.1f} s)"
        )
        estimates = dict(zip(todo, est["cells"], strict=True))
        return StudyPlan(_cell_plan(cfg, grid, data, estimates), summary, estimate)

    ids = ("pooling", "task", "seed")
    tfidf_plan = [
        PlannedCell(("tfidf", t, s), f"TF-IDF {t} {s}", lambda t=t, s=s: run_tfidf_cell(cfg, data[(t, s)], s))
        for t in tasks
        for s in cfg.seed_list
    ]
    outcome = run_study(
        plan,
        cfg.output,
        key,
        ids,
        echo=echo,
        max_minutes=cfg.max_minutes,
        describe=_describe_table_cell,
        estimate_only=estimate_only,
    )
    if outcome is None:
        return None
    tfidf = run_cells(tfidf_plan, cfg.output, key, ids, echo=lambda _m: None)
    cells = tfidf.cells + outcome.cells
    return _write_table(cfg, cells, outcome, data, poolings, skipped, resumed[0], argv, title)


def _cell_plan(cfg: TableConfig, grid: list[tuple], data: dict, estimates: dict[tuple, float]) -> list:
    """A planned cell per (pooling, task, seed), with its estimated seconds."""
    return [
        PlannedCell(
            c,
            f"{c[0]} {c[1]} seed {c[2]}",
            lambda c=c: run_cell(cfg, c[0], data[c[1:]], c[2]),
            estimates.get(c, 0.0),
        )
        for c in grid
    ]


def _write_table(
    cfg: TableConfig,
    cells: list,
    outcome: Any,
    data: dict,
    poolings: list[str],
    skipped: dict[str, str],
    resumed: int,
    argv: str | None,
    title: str,
) -> dict[str, Any]:
    """table.md/.csv/.json with provenance; returns the result."""
    from simsent.experiments.provenance import provenance
    from simsent.experiments.table.report import summarize_cells, write_reports

    config = cfg.to_dict()
    config["skipped_poolings"] = skipped
    config["eval_split_used"] = sorted({d.eval_split for d in data.values()})
    files = sorted({f for d in data.values() for f in d.files})
    prov = provenance(cfg.command_line(), config, files, argv=argv)
    prov.update(
        {
            "run_seconds": outcome.seconds,
            "cells_run": outcome.ran,
            "cells_resumed": resumed,
            "cell_seconds_total": sum(c.get("seconds", 0.0) for c in cells),
            "cells_not_run": [list(p.id) for p in outcome.skipped],
        }
    )
    rows = summarize_cells(cells, poolings, cfg.task_list)
    written = write_reports(cfg.output, rows, cells, prov, title=title)
    with open(written[0], encoding="utf-8") as f:
        markdown = f.read()
    return {"markdown": markdown, "files": written, "rows": rows, "cells": cells, "provenance": prov}
