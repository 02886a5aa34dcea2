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
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
def seconds_per_training_step(
    model: Any, texts: Sequence[str], batch_size: int, lr: float, **train_kwargs: Any
) -> float:
    """Seconds per SimCSE step of ``batch_size``, measured with the real :class:`Trainer` on two batches.

    The first step carries the warm-up (optimiser state, first autograd call), so this errs long.
    """
    from simsent.experiments.cells import train_in_place

    rows = list(dict.fromkeys(texts))[: 2 * batch_size]
    if len(rows) < 2:
        return 0.0
    n = min(batch_size, len(rows))
    result = train_in_place(model, rows, batch_size=n, lr=lr, **train_kwargs)
    scale = batch_size / n
    return result["train_seconds"] / max(1, result["global_step"]) * scale


@dataclass
class CostModel:
    """Measured costs that turn a cell's work (loads, encoded sentences, training steps) into seconds.

    Example:
        >>> CostModel(load_seconds=2.0, encode_sentences_per_second=100.0, seconds_per_step=0.5).seconds(
        ...     loads=1, encoded=200, steps=10)
        11.0
    """

    load_seconds: float
    encode_sentences_per_second: float
    seconds_per_step: float
    overhead_seconds: float = 2.0

    def seconds(self, loads: int = 1, encoded: int = 0, steps: int = 0) -> float:
        return (
            loads * self.load_seconds
            + encoded / max(self.encode_sentences_per_second, 1e-6)
            + steps * self.seconds_per_step
            + self.overhead_seconds
        )

    def describe(self, batch_size: int) -> str:
        return (
            f"encode {self.encode_sentences_per_second:.0f} sentences/s, {self.seconds_per_step:.2f} s per "
            f"SimCSE step of batch {batch_size}, model load {self.load_seconds:.1f} s"
        )


def measure_costs(
    model_name: str,
    texts: Sequence[str],
    batch_size: int,
    lr: float,
    encode_batch_size: int = 64,
    **model_kwargs: Any,
) -> CostModel:
    """Time a model load, one encoding batch and two SimCSE steps of the real Trainer on ``texts``."""
    from simsent.modeling.sentence_encoder import SentenceEncoder

    t0 = time.perf_counter()
    model = SentenceEncoder.from_pretrained(model_name, **model_kwargs)
    load_s = time.perf_counter() - t0
    sample = list(texts)[: max(2, encode_batch_size)]
    model.encode(sample[:4])
    t0 = time.perf_counter()
    model.encode(sample, batch_size=encode_batch_size)
    enc_rate = len(sample) / max(time.perf_counter() - t0, 1e-6)
    step_s = seconds_per_training_step(model, texts, batch_size, lr)
    return CostModel(load_s, enc_rate, step_s)


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
    total = 0.0
    for _, d in todo:
        n_eval = len({s for r in d.eval_rows for s in (r["sentence1"], r["sentence2"])})
        steps = cfg.epochs * max(1, len(d.train_texts) // cfg.batch_size)
        total += costs.seconds(encoded=2 * n_eval + len(d.whiten_texts), steps=steps)
    return {
        "seconds": total,
        "encode_sentences_per_second": costs.encode_sentences_per_second,
        "seconds_per_step": costs.seconds_per_step,
        "load_seconds": costs.load_seconds,
    }


# ---------------------------------------------------------------------------------------------- cells
@dataclass
class PlannedCell:
    """One unit of work: ``id`` names it in the state file, ``run()`` returns its result dict."""

    id: tuple
    label: str
    run: Callable[[], dict[str, Any]]
    seconds: float = 0.0


@dataclass
class CellsOutcome:
    """What :func:`run_cells` did: every finished cell of the plan, and the ones the budget left out."""

    cells: list[dict[str, Any]]
    ran: int
    resumed: int
    skipped: list[PlannedCell]
    seconds: float


def cell_id(cell: dict[str, Any], id_fields: Sequence[str]) -> tuple:
    return tuple(cell.get(f) for f in id_fields)


def run_cells(
    plan: Sequence[PlannedCell],
    output: str,
    key: str,
    id_fields: Sequence[str],
    echo: Callable[[str], None] = print,
    max_minutes: float | None = None,
    describe: Callable[[dict[str, Any]], str] | None = None,
) -> CellsOutcome:
    """Run the cells of ``plan`` that ``<output>/state.jsonl`` does not already hold for settings ``key``.

    The one runner of the seed table, the sweep and fit. Each finished cell is appended to the state
    file at once (an interrupted run resumes after its last finished cell). With ``max_minutes`` the
    run stops cleanly *between* cells: a cell whose estimated ``seconds`` would overrun the budget is
    not started, and it and the cells after it are returned in ``skipped``.

    Example:
        >>> plan = [PlannedCell(("a",), "cell a", lambda: {"name": "a", "score": 1.0})]
        >>> run_cells(plan, "runs/x", key="k", id_fields=("name",)).ran    # doctest: +SKIP
        1
    """
    done = {cell_id(c, id_fields): c for c in load_state(output, key)}
    todo = [p for p in plan if p.id not in done]
    budget = None if max_minutes is None else max_minutes * 60.0
    start = time.perf_counter()
    ran, skipped = 0, []
    for i, p in enumerate(todo):
        elapsed = time.perf_counter() - start
        if budget is not None and elapsed + p.seconds > budget:
            skipped = list(todo[i:])
            echo(
                f"time budget: stopping before {p.label} (estimated {p.seconds / 60:.1f} min, "
                f"{max(0.0, budget - elapsed) / 60:.1f} min left); {len(skipped)} cells not run"
            )
            break
        cell = {**p.run(), "key": key}
        append_state(output, cell)
        done[p.id] = cell
        ran += 1
        elapsed = time.perf_counter() - start
        rest = todo[i + 1 :]
        left = sum(q.seconds for q in rest) or elapsed / ran * len(rest)
        what = describe(cell) if describe else p.label
        took = cell.get("seconds", 0.0)
        echo(f"[{i + 1}/{len(todo)}] {what} ({took:.0f} s; about {left / 60:.1f} min left)")
    cells = [done[p.id] for p in plan if p.id in done]
    return CellsOutcome(cells, ran, len(plan) - len(todo), skipped, time.perf_counter() - start)


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
    ids = ("pooling", "task", "seed")
    done_ids = {cell_id(c, ids) for c in load_state(cfg.output, key)}
    data = {(t, s): task_data(cfg, t, s, data_dir) for t in tasks for s in cfg.seed_list}
    grid = [(p, t, s) for p in poolings for t in tasks for s in cfg.seed_list]
    todo = [c for c in grid if c not in done_ids]
    n_total = len(grid)
    echo(
        f"{cfg.protocol} protocol: {n_total} cells ({len(poolings)} poolings x {len(tasks)} tasks x "
        f"{len(cfg.seed_list)} seeds); {n_total - len(todo)} already done in {cfg.output}/{STATE_FILE}"
    )
    if todo:
        est = estimate_seconds(cfg, [(c[0], data[c[1:]]) for c in todo], todo[0][0])
        echo(
            f"estimated run time: {est['seconds'] / 60:.1f} min for {len(todo)} cells "
            f"(encode {est['encode_sentences_per_second']:.0f} sentences/s, "
            f"{est['seconds_per_step']:.2f} s per "
            f"SimCSE step of batch {cfg.batch_size}, model load {est['load_seconds']:.1f} s)"
        )
    if estimate_only:
        return None
    tfidf_plan = [
        PlannedCell(("tfidf", t, s), f"TF-IDF {t} {s}", lambda t=t, s=s: run_tfidf_cell(cfg, data[(t, s)], s))
        for t in tasks
        for s in cfg.seed_list
    ]
    cell_plan = [
        PlannedCell(c, f"{c[0]} {c[1]} seed {c[2]}", lambda c=c: run_cell(cfg, c[0], data[c[1:]], c[2]))
        for c in grid
    ]
    tfidf = run_cells(tfidf_plan, cfg.output, key, ids, echo=lambda _m: None)
    outcome = run_cells(cell_plan, cfg.output, key, ids, echo=echo, describe=_describe_table_cell)
    cells = tfidf.cells + outcome.cells
    cells_run, run_seconds = outcome.ran, outcome.seconds
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


# ---------------------------------------------------------------------------------------------- sweep
SWEEP_IDS = ("task", "objective", "size", "epochs", "seed")


def _check_sweep(cfg: Any) -> None:
    from simsent.errors import check_number
    from simsent.experiments.config import SWEEP_OBJECTIVES
    from simsent.losses.simcse import check_variant
    from simsent.modeling.pooling import check_pooling

    if cfg.protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {cfg.protocol!r}; choose {' or '.join(PROTOCOLS)}")
    for o in cfg.objectives:
        if o not in SWEEP_OBJECTIVES:
            raise ConfigError(f"a sweep trains {', '.join(SWEEP_OBJECTIVES)}; got objective {o!r}")
    if not cfg.objectives or not cfg.sizes or not cfg.epochs:
        raise ConfigError("a sweep needs at least one objective, size and epochs value")
    for n in cfg.sizes:
        check_number("--sizes", n, integer=True, minimum=2)
    for e in [*cfg.epochs, *(cfg.supervised_epochs or [])]:
        check_number("--epochs", e, integer=True, minimum=1)
    check_number("--max-minutes", cfg.max_minutes, minimum=0, exclusive_minimum=True, optional=True)
    check_variant(cfg.simcse_variant)
    if cfg.pooling:
        check_pooling(cfg.pooling)


def run_sweep(
    cfg: Any, argv: str | None = None, estimate_only: bool = False, echo: Callable[[str], None] = print
) -> dict[str, Any] | None:
    """Run (or resume) a sweep: a raw reference cell per (task, seed), then every grid cell that fits,
    cheapest first; write ``table.md/.csv/.json`` and the two plots per task.

    Example:
        >>> cfg = SweepConfig(model="m", output="runs/sweep", sizes=[50, 100], epochs=[1, 5])
        >>> run_sweep(cfg)["files"]                                           # doctest: +SKIP
    """
    from simsent.data.columns import sentences_of
    from simsent.data.readers import read_any
    from simsent.data.tasks import resolve_data_dir
    from simsent.experiments.cells import run_sweep_cell, training_steps
    from simsent.experiments.config import SUPERVISED
    from simsent.experiments.plots import plot_sweep
    from simsent.experiments.protocol import sweep_data
    from simsent.experiments.provenance import provenance
    from simsent.experiments.report import summarize_sweep, sweep_csv_rows, sweep_markdown, write_result_files

    _check_sweep(cfg)
    data_dir = resolve_data_dir(cfg.data_dir)
    tasks = cfg.task_list
    extra: list[str] = []
    for path in cfg.extra_text:
        extra += sentences_of(read_any(path))
    data = {(t, s): sweep_data(cfg, t, s, data_dir, extra) for t in tasks for s in cfg.seed_list}
    plan_ids: list[tuple] = []
    notes: list[str] = []
    for t in tasks:
        plan_ids += [(t, "raw", 0, 0, s) for s in cfg.seed_list]
        for cell in cfg.grid(t):
            _, o, n, _, s = cell
            d = data[(t, s)]
            have = len(d.pairs) if o in SUPERVISED else len(d.sentences)
            if n > have:
                unit = "labelled train pairs" if o in SUPERVISED else "sentences (add --extra-text FILE)"
                note = f"{t} {o}: size {n} skipped, the {cfg.protocol} protocol has only {have} {unit}"
                if note not in notes:
                    notes.append(note)
                    echo(note)
                continue
            plan_ids.append(cell)
    key = cfg.cell_key()
    done_ids = {cell_id(c, SWEEP_IDS) for c in load_state(cfg.output, key)}
    todo = [c for c in plan_ids if c not in done_ids]
    costs = None
    if todo:
        first = data[(todo[0][0], todo[0][4])]
        costs = measure_costs(
            cfg.model,
            first.sentences,
            cfg.batch_size,
            cfg.lr,
            cfg.encode_batch_size,
            pooling=cfg.pooling,
            max_len=cfg.max_len,
            dropout=cfg.dropout,
        )

    def seconds(c: tuple) -> float:
        if costs is None:
            return 0.0
        d = data[(c[0], c[4])]
        n_eval = len(set(sentences_of(d.eval_rows)))
        steps = 0 if c[1] == "raw" else training_steps(c[2], c[3], cfg.batch_size)
        return costs.seconds(encoded=n_eval, steps=steps)

    plan = [
        PlannedCell(
            c,
            f"{c[0]} {c[1]} N={c[2]} {c[3]} ep seed {c[4]}",
            lambda c=c: run_sweep_cell(cfg, c[1], c[2], c[3], c[4], data[(c[0], c[4])]),
            seconds(c),
        )
        for c in plan_ids
    ]
    plan.sort(key=lambda p: (p.id[1] != "raw", p.seconds, p.id))  # raw first, then cheapest first
    echo(
        f"{cfg.protocol} protocol: {len(plan)} cells ({len(tasks)} task(s), objectives "
        f"{', '.join(cfg.objectives)}, sizes {cfg.sizes}, {len(cfg.seed_list)} seeds, raw reference "
        f"included); {len(plan) - len(todo)} already done in {cfg.output}/{STATE_FILE}"
    )
    if costs is not None:
        total = sum(p.seconds for p in plan if p.id in set(todo))
        budget = f"; budget {cfg.max_minutes:.3g} min" if cfg.max_minutes else ""
        echo(
            f"estimated run time: {total / 60:.1f} min for {len(todo)} cells "
            f"({costs.describe(cfg.batch_size)}){budget}"
        )
    if estimate_only:
        return None

    def describe(c: dict[str, Any]) -> str:
        return (
            f"{c['task']} {c['objective']} N={c['size']} {c['epochs']} ep seed {c['seed']}: "
            f"Spearman {c['metrics']['spearman']:.2f}"
        )

    outcome = run_cells(
        plan, cfg.output, key, SWEEP_IDS, echo=echo, max_minutes=cfg.max_minutes, describe=describe
    )
    if outcome.skipped:
        notes.append(
            f"time budget ({cfg.max_minutes:.3g} min) reached: {len(outcome.skipped)} cells not run, e.g. "
            + ", ".join(p.label for p in outcome.skipped[:3])
        )
    rows = summarize_sweep(outcome.cells)
    config = cfg.to_dict()
    config["notes"] = notes
    config["eval_split_used"] = sorted({d.eval_split for d in data.values()})
    files = sorted({f for d in data.values() for f in d.files} | set(cfg.extra_text))
    prov = provenance(cfg.command_line(), config, files, argv=argv)
    prov.update(
        {
            "run_seconds": outcome.seconds,
            "cells_run": outcome.ran,
            "cells_resumed": outcome.resumed,
            "cells_not_run": [list(p.id) for p in outcome.skipped],
        }
    )
    os.makedirs(cfg.output, exist_ok=True)
    plots: list[str] = []
    for t in tasks:
        plots += plot_sweep(rows, t, cfg.output, suffix="" if len(tasks) == 1 else f"_{t}")
    written = write_result_files(
        cfg.output,
        "table",
        sweep_markdown(rows, prov, plots),
        sweep_csv_rows(rows),
        prov,
        {"summary": rows, "cells": outcome.cells},
    )
    with open(written[0], encoding="utf-8") as f:
        markdown = f.read()
    return {
        "markdown": markdown,
        "files": written + plots,
        "rows": rows,
        "cells": outcome.cells,
        "provenance": prov,
        "notes": notes,
    }


# ---------------------------------------------------------------------------------------------- fit
FIT_IDS = ("family", "pooling")
FIT_WORK = "fit-runs"
DEFAULT_FIT_POOLINGS = ("cls", "first_last_avg", "mean")


def _fit_poolings(cfg: Any) -> list[str]:
    from simsent.modeling.pooling import check_pooling
    from simsent.modeling.sentence_encoder import SentenceEncoder

    poolings = list(cfg.poolings or DEFAULT_FIT_POOLINGS)
    for p in poolings:
        check_pooling(p)
    if (
        "pooler" in poolings
        and not SentenceEncoder.from_pretrained(cfg.model, pooling="cls").encoder.has_pooler()
    ):
        raise ConfigError(
            "pooling 'pooler' needs a model with a dense+tanh pooler; leave it out of --poolings"
        )
    return poolings


def run_fit(
    cfg: Any,
    texts: Sequence[str],
    pairs: Sequence[dict[str, Any]],
    argv: str | None = None,
    echo: Callable[[str], None] = print,
    data_files: Sequence[str] = (),
) -> dict[str, Any]:
    """Choose the best sentence encoder for ``pairs`` honestly and save it in ``cfg.output``.

    Candidate families (:data:`~simsent.experiments.config.FIT_RECIPES`) x poolings run through the
    one cell runner, cheapest first, within ``cfg.max_minutes``; every family is scored with and without
    whitening on the selection part; the winner (best selection score) is reported on the report part
    and saved as a sentence-transformers folder with ``leaderboard.md/.csv/.json``, ``leaderboard.png``
    and a model card.

    Example:
        >>> run_fit(FitConfig(model="m", output="runs/best"), sentences, labelled_pairs)  # doctest: +SKIP
    """
    import hashlib
    import shutil

    from simsent.data.sampling import dedup, seeded_subset
    from simsent.experiments.cells import fit_epochs, run_fit_family
    from simsent.experiments.config import FIT_RECIPES
    from simsent.experiments.plots import plot_leaderboard
    from simsent.experiments.protocol import fit_splits
    from simsent.experiments.provenance import provenance
    from simsent.experiments.report import leaderboard_csv_rows, leaderboard_markdown, write_result_files
    from simsent.training.card import fit_card

    unknown = [r for r in cfg.recipes if r not in FIT_RECIPES]
    if unknown or not cfg.recipes:
        raise ConfigError(
            f"unknown fit recipe {', '.join(unknown) or '(none given)'}; choose from {', '.join(FIT_RECIPES)}"
        )
    if (
        os.path.isdir(cfg.output)
        and os.listdir(cfg.output)
        and not os.path.isdir(os.path.join(cfg.output, FIT_WORK))
    ):
        raise ConfigError(
            f"--output {cfg.output} is a folder with other files; give a new folder (or a fit folder)"
        )
    poolings = _fit_poolings(cfg)
    texts = seeded_subset(list(dict.fromkeys(t for t in texts if t.strip())), cfg.max_train_samples, cfg.seed)
    if len(texts) < 2:
        raise ConfigError("fit needs at least 2 distinct unlabelled training sentences (--train-file)")
    splits = fit_splits(list(pairs), cfg.seed, cfg.report_fraction, cfg.min_supervised_pairs)
    notes: list[str] = []
    recipes = list(cfg.recipes)
    if "cosent" in recipes and not splits.train:
        recipes.remove("cosent")
        notes.append(
            f"cosent not tried: {len(dedup(list(pairs)))} labelled pairs, fewer than --min-supervised-pairs "
            f"{cfg.min_supervised_pairs} needed to split off a training part"
        )
    dev_sentences = {s for r in splits.selection + splits.report for s in (r["sentence1"], r["sentence2"])}
    overlap = sum(t in dev_sentences for t in texts)
    if overlap:
        notes.append(
            f"{overlap} of the {len(texts)} unlabelled training sentences also occur in the dev pairs "
            "(their labels are never used for training)"
        )
    if len(splits.report) < 200:
        notes.append(
            f"small report part ({len(splits.report)} pairs): read the winner's score with its 95% "
            "bootstrap interval"
        )
    for n in notes:
        echo(f"note: {n}")
    echo(
        f"{len(texts)} unlabelled sentences; labelled pairs: {len(splits.train)} train (CoSENT), "
        f"{len(splits.selection)} selection, {len(splits.report)} report"
    )

    work = os.path.join(cfg.output, FIT_WORK)
    best_dir = os.path.join(work, "best")
    data_hash = hashlib.sha256(
        json.dumps([texts, list(pairs)], ensure_ascii=False, sort_keys=True, default=str).encode()
    ).hexdigest()
    key = cfg.cell_key(data_hash)
    done = load_state(work, key)
    best = {
        "score": max(
            (r["selection"] for c in done for r in c["rows"] if r["selection"] == r["selection"]),
            default=-math.inf,
        )
    }

    def keep_if_best(score: float, save: Callable[[str], None]) -> bool:
        if score <= best["score"]:
            return False
        tmp = best_dir + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        save(tmp)
        from simsent._io import replace_dir

        replace_dir(tmp, best_dir)
        best["score"] = score
        return True

    family_ids = [(f, p) for f in recipes for p in poolings]
    costs = None
    if any(cell_id(c, FIT_IDS) not in family_ids for c in done) or len(done) < len(family_ids):
        costs = measure_costs(
            cfg.model, texts, 64, 3e-5, cfg.encode_batch_size, pooling=poolings[0], max_len=cfg.max_len
        )

    def seconds(family: str, pooling: str) -> float:
        if costs is None:
            return 0.0
        recipe = FIT_RECIPES[family]
        n_dev = 2 * (len(splits.selection) + len(splits.report))
        steps = 0
        if recipe.get("objective"):
            rows = len(splits.train) if recipe["objective"] == "cosent" else len(texts)
            from simsent.experiments.cells import balanced_batch_size

            steps = fit_epochs(recipe, rows) * max(1, rows // balanced_batch_size(rows, recipe["batch_size"]))
            steps = int(steps * recipe["batch_size"] / 64) or 1
        return costs.seconds(encoded=n_dev + len(texts), steps=steps)

    plan = [
        PlannedCell(
            (f, p),
            f"{f} / {p}",
            lambda f=f, p=p: run_fit_family(cfg, f, p, texts, splits, keep_if_best),
            seconds(f, p),
        )
        for f, p in family_ids
    ]
    plan.sort(key=lambda c: (c.seconds, recipes.index(c.id[0])))
    todo = [c for c in plan if c.id not in {cell_id(d, FIT_IDS) for d in done}]
    if costs is not None:
        budget = (
            f" (budget {cfg.max_minutes:.3g} min: cheapest first, the rest left out)"
            if cfg.max_minutes
            else ""
        )
        echo(
            f"{len(plan)} candidate families ({', '.join(recipes)} x {', '.join(poolings)}), "
            f"{len(plan) - len(todo)} already done; estimated {sum(c.seconds for c in todo) / 60:.1f} min"
            f"{budget} ({costs.describe(64)})"
        )

    def describe(cell: dict[str, Any]) -> str:
        top = max(cell["rows"], key=lambda r: r["selection"] if r["selection"] == r["selection"] else -1e9)
        return f"{cell['family']} / {cell['pooling']}: best {top['recipe']} selection {top['selection']:.2f}"

    outcome = run_cells(plan, work, key, FIT_IDS, echo=echo, max_minutes=cfg.max_minutes, describe=describe)
    for c in outcome.skipped:
        notes.append(f"{c.label}: not run, over the time budget (estimated {c.seconds / 60:.1f} min)")
    board = [
        {**r, "seconds": c["seconds"], "train_steps": c["train_steps"]}
        for c in outcome.cells
        for r in c["rows"]
    ]
    board.sort(key=lambda r: -(r["selection"] if r["selection"] == r["selection"] else -1e9))
    if not board:
        raise ConfigError("the time budget ran out before any candidate finished; raise --max-minutes")
    winner = board[0]
    if os.path.isdir(best_dir):  # a new winner: replace the previous one's files (the folder is fit's own)
        for name in os.listdir(cfg.output):
            old = os.path.join(cfg.output, name)
            if name == FIT_WORK:
                continue
            if os.path.isdir(old):
                shutil.rmtree(old)
            else:
                os.remove(old)
        for name in os.listdir(best_dir):
            shutil.move(os.path.join(best_dir, name), os.path.join(cfg.output, name))
        shutil.rmtree(best_dir)
    elif not os.path.isfile(os.path.join(cfg.output, "modules.json")):
        raise ConfigError(f"the winner's saved model is missing from {cfg.output}; rerun with a new --output")
    config = cfg.to_dict()
    config.update(
        {
            "poolings_used": poolings,
            "recipes_used": recipes,
            "notes": notes,
            "split_sizes": {
                "train": len(splits.train),
                "selection": len(splits.selection),
                "report": len(splits.report),
            },
            "unlabelled_sentences": len(texts),
        }
    )
    prov = provenance(argv or "simsent fit", config, data_files, argv=argv)
    prov.update({"run_seconds": outcome.seconds, "cells_run": outcome.ran, "cells_resumed": outcome.resumed})
    chart = plot_leaderboard(board, os.path.join(cfg.output, "leaderboard.png"))
    md = leaderboard_markdown(board, winner, prov)
    written = write_result_files(
        cfg.output,
        "leaderboard",
        md,
        leaderboard_csv_rows(board),
        prov,
        {"winner": winner, "leaderboard": board},
    )
    from simsent._io import write_text

    write_text(os.path.join(cfg.output, "README.md"), fit_card(winner, board, prov))
    return {
        "winner": winner,
        "leaderboard": board,
        "markdown": md,
        "files": [*written, chart],
        "notes": notes,
        "provenance": prov,
    }
