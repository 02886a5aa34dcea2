"""The sweep: Spearman over training size x epochs x seeds (``simsent sweep``), on the one cell runner.

A raw reference cell per (task, seed), then every (task, objective, size, epochs, seed) cell that fits
the data, cheapest first under ``max_minutes``; ``table.md/.csv/.json`` and two plots per task.

Example:
    >>> from simsent.experiments.sweep.config import SweepConfig
    >>> cfg = SweepConfig(model="m", output="runs/sweep", sizes=[50, 100], epochs=[1, 5])
    >>> run_sweep(cfg)["files"]                                           # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from simsent.errors import ConfigError
from simsent.experiments.config import PROTOCOLS
from simsent.experiments.runner import STATE_FILE, PlannedCell, measure_costs
from simsent.experiments.study import StudyPlan, run_study
from simsent.experiments.sweep.config import SweepConfig

SWEEP_IDS = ("task", "objective", "size", "epochs", "seed")


def _check_sweep(cfg: SweepConfig) -> None:
    from simsent.errors import check_number
    from simsent.losses import OBJECTIVES, objective_class
    from simsent.losses.simcse import check_variant
    from simsent.modeling.pooling import check_pooling

    if cfg.protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {cfg.protocol!r}; choose {' or '.join(PROTOCOLS)}")
    sweepable = [name for name in OBJECTIVES if objective_class(name).sweepable]
    for o in cfg.objectives:
        if o not in sweepable:
            raise ConfigError(f"a sweep trains {', '.join(sweepable)}; got objective {o!r}")
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
    cfg: SweepConfig, argv: str | None = None, estimate_only: bool = False,
    echo: Callable[[str], None] = print,
) -> dict[str, Any] | None:
    """Run (or resume) a sweep: a raw reference cell per (task, seed), then every grid cell that fits,
    cheapest first; write ``table.md/.csv/.json`` and the two plots per task.

    Example:
        >>> from simsent.experiments.sweep.config import SweepConfig
        >>> cfg = SweepConfig(model="m", output="runs/sweep", sizes=[50, 100], epochs=[1, 5])
        >>> run_sweep(cfg)["files"]                                           # doctest: +SKIP
    """
    _check_sweep(cfg)
    data = _sweep_data(cfg)
    notes: list[str] = []
    plan_ids = _cells_that_fit(cfg, data, notes, echo)

    def plan(done: set[tuple]) -> StudyPlan:
        todo = [c for c in plan_ids if c not in done]
        cells, costs = _plan(cfg, data, plan_ids, todo)
        summary = (
            f"{cfg.protocol} protocol: {len(cells)} cells ({len(cfg.task_list)} task(s), objectives "
            f"{', '.join(cfg.objectives)}, sizes {cfg.sizes}, {len(cfg.seed_list)} seeds, raw reference "
            f"included); {len(cells) - len(todo)} already done in {cfg.output}/{STATE_FILE}"
        )
        estimate = None
        if costs is not None:
            total = sum(p.seconds for p in cells if p.id in set(todo))
            budget = f"; budget {cfg.max_minutes:.3g} min" if cfg.max_minutes else ""
            estimate = (
                f"estimated run time: {total / 60:.1f} min for {len(todo)} cells "
                f"({costs.describe(cfg.batch_size)}){budget}"
            )
        return StudyPlan(cells, summary, estimate)

    outcome = run_study(
        plan,
        cfg.output,
        cfg.cell_key(),
        SWEEP_IDS,
        echo=echo,
        max_minutes=cfg.max_minutes,
        describe=_describe,
        estimate_only=estimate_only,
    )
    if outcome is None:
        return None
    if outcome.skipped:
        notes.append(
            f"time budget ({cfg.max_minutes:.3g} min) reached: {len(outcome.skipped)} cells not run, e.g. "
            + ", ".join(p.label for p in outcome.skipped[:3])
        )
    return _write_results(cfg, data, outcome, notes, argv)


def _sweep_data(cfg: SweepConfig) -> dict[tuple, Any]:
    """The training and evaluation data of every (task, seed), extra unlabelled text included."""
    from simsent.data.columns import sentences_of
    from simsent.data.readers import read_any
    from simsent.data.tasks import resolve_data_dir
    from simsent.experiments.protocol import sweep_data

    data_dir = resolve_data_dir(cfg.data_dir)
    extra: list[str] = []
    for path in cfg.extra_text:
        extra += sentences_of(read_any(path))
    return {(t, s): sweep_data(cfg, t, s, data_dir, extra) for t in cfg.task_list for s in cfg.seed_list}


def _cells_that_fit(cfg: SweepConfig, data: dict[tuple, Any], notes: list[str],
                    echo: Callable[[str], None]) -> list:
    """A raw reference cell per (task, seed), then the grid cells the protocol has enough data for
    (each size that does not fit is noted once)."""
    from simsent.losses import objective_class

    plan_ids: list[tuple] = []
    for t in cfg.task_list:
        plan_ids += [(t, "raw", 0, 0, s) for s in cfg.seed_list]
        for cell in cfg.grid(t):
            _, o, n, _, s = cell
            d = data[(t, s)]
            supervised = objective_class(o).supervised()
            have = len(d.pairs) if supervised else len(d.sentences)
            if n > have:
                unit = "labelled train pairs" if supervised else "sentences (add --extra-text FILE)"
                note = f"{t} {o}: size {n} skipped, the {cfg.protocol} protocol has only {have} {unit}"
                if note not in notes:
                    notes.append(note)
                    echo(note)
                continue
            plan_ids.append(cell)
    return plan_ids


def _plan(cfg: SweepConfig, data: dict[tuple, Any], plan_ids: list,
          todo: list) -> tuple[list[PlannedCell], Any]:
    """The planned cells, raw first then cheapest first, with estimates from measured costs."""
    from simsent.data.columns import sentences_of
    from simsent.experiments.sweep.cells import run_sweep_cell, training_steps

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
    return plan, costs


def _describe(c: dict[str, Any]) -> str:
    return (
        f"{c['task']} {c['objective']} N={c['size']} {c['epochs']} ep seed {c['seed']}: "
        f"Spearman {c['metrics']['spearman']:.2f}"
    )


def _write_results(
    cfg: SweepConfig, data: dict[tuple, Any], outcome: Any, notes: list[str], argv: str | None
) -> dict:
    """table.md/.csv/.json and the plots of every task; returns the result."""
    from simsent.experiments.plots import plot_sweep
    from simsent.experiments.provenance import provenance
    from simsent.experiments.report import write_result_files
    from simsent.experiments.sweep.report import summarize_sweep, sweep_csv_rows, sweep_markdown

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
    tasks = cfg.task_list
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
