"""The one runner of simsent's experiments (the seed table, sweeps and fit): cells, state, estimates.

A study plans :class:`PlannedCell` s (an id, a label, an estimated cost, a function returning the
cell's result); :func:`run_cells` runs those that ``<output>/state.jsonl`` does not already hold for the
same settings key, appends each result there as soon as it finishes (an interrupted run resumes after
its last finished cell) and, with a time budget, stops cleanly between cells. :func:`measure_costs`
times the real model and Trainer once, and :class:`CostModel` turns a cell's work into seconds.

Example:
    >>> plan = [PlannedCell(("a",), "cell a", lambda: {"name": "a", "score": 1.0})]
    >>> run_cells(plan, "runs/x", key="k", id_fields=("name",)).ran          # doctest: +SKIP
    1
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simsent.modeling.sentence_encoder import SentenceEncoder

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
    model: SentenceEncoder, texts: Sequence[str], batch_size: int, lr: float, **train_kwargs: Any
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
    model = SentenceEncoder.from_pretrained(model_name, backend="torch", **model_kwargs)
    load_s = time.perf_counter() - t0
    sample = list(texts)[: max(2, encode_batch_size)]
    model.encode(sample[:4])
    t0 = time.perf_counter()
    model.encode(sample, batch_size=encode_batch_size)
    enc_rate = len(sample) / max(time.perf_counter() - t0, 1e-6)
    step_s = seconds_per_training_step(model, texts, batch_size, lr)
    return CostModel(load_s, enc_rate, step_s)


# ---------------------------------------------------------------------------------------------- cells
class _Ratios:
    """Measured / estimated seconds of the cells run so far, per kind of cell."""

    def __init__(self) -> None:
        self.estimated: dict[str, float] = {}
        self.actual: dict[str, float] = {}

    def add(self, kind: str, estimated: float, actual: float) -> None:
        if estimated > 0:
            self.estimated[kind] = self.estimated.get(kind, 0.0) + estimated
            self.actual[kind] = self.actual.get(kind, 0.0) + actual

    def scale(self, kind: str) -> float:
        if kind in self.estimated:
            return self.actual[kind] / self.estimated[kind]
        total_est, total = sum(self.estimated.values()), sum(self.actual.values())
        return max(1.0, total / total_est) if total_est > 0 else 1.0


@dataclass
class PlannedCell:
    """One unit of work: ``id`` names it in the state file, ``run()`` returns its result dict."""

    id: tuple
    label: str
    run: Callable[[], dict[str, Any]]
    seconds: float = 0.0
    #: cells of one kind share a correction of their estimates (fit: the recipe family)
    kind: str = ""


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
    started: float | None = None,
) -> CellsOutcome:
    """Run the cells of ``plan`` that ``<output>/state.jsonl`` does not already hold for settings ``key``.

    The one runner of the seed table, the sweep and fit. Each finished cell is appended to the state
    file at once (an interrupted run resumes after its last finished cell). With ``max_minutes`` the
    run stops cleanly *between* cells: a cell whose estimated ``seconds`` would overrun the budget
    (counted from ``started``, a ``time.perf_counter()`` value, default now) is not started, and it and the
    cells after it are returned in ``skipped``. Estimates are corrected as cells finish, by the ratio of
    measured to estimated time of the cells of the same ``kind``; a kind not seen yet is never assumed
    faster than estimated.

    Example:
        >>> plan = [PlannedCell(("a",), "cell a", lambda: {"name": "a", "score": 1.0})]
        >>> run_cells(plan, "runs/x", key="k", id_fields=("name",)).ran    # doctest: +SKIP
        1
    """
    done = {cell_id(c, id_fields): c for c in load_state(output, key)}
    todo = [p for p in plan if p.id not in done]
    budget = None if max_minutes is None else max_minutes * 60.0
    start = time.perf_counter() if started is None else started
    ran, skipped = 0, []
    ratios = _Ratios()
    for i, p in enumerate(todo):
        elapsed = time.perf_counter() - start
        need = p.seconds * ratios.scale(p.kind)
        if budget is not None and elapsed + need > budget:
            # with the corrected estimates, which are what the budget was compared with
            skipped = [dataclasses.replace(q, seconds=q.seconds * ratios.scale(q.kind)) for q in todo[i:]]
            echo(
                f"time budget: stopping before {p.label} (estimated {need / 60:.1f} min, "
                f"{max(0.0, budget - elapsed) / 60:.1f} min left); {len(skipped)} cells not run"
            )
            break
        t0 = time.perf_counter()
        cell = {**p.run(), "key": key}
        ratios.add(p.kind, p.seconds, time.perf_counter() - t0)
        append_state(output, cell)
        done[p.id] = cell
        ran += 1
        elapsed = time.perf_counter() - start
        rest = todo[i + 1 :]
        if budget is not None:
            left = f"{max(0.0, budget - elapsed) / 60:.1f} min of the budget left"
        else:
            est = sum(q.seconds * ratios.scale(q.kind) for q in rest) or elapsed / ran * len(rest)
            left = f"about {est / 60:.1f} min left"
        what = describe(cell) if describe else p.label
        echo(f"[{i + 1}/{len(todo)}] {what} ({cell.get('seconds', 0.0):.0f} s; {left})")
    cells = [done[p.id] for p in plan if p.id in done]
    return CellsOutcome(cells, ran, len(plan) - len(todo), skipped, time.perf_counter() - start)
