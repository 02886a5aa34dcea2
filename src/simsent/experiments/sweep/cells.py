"""One cell of the sweep: (objective, size, epochs, seed), trained on its first ``size`` rows and scored.

Example:
    >>> training_steps(100, 2, 50)
    4
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent.evaluation.base import pair_vectors
from simsent.experiments.cells import balanced_batch_size, train_in_place
from simsent.experiments.protocol import SweepData
from simsent.experiments.sweep.config import SweepConfig

if TYPE_CHECKING:
    pass


def training_rows(objective: str, size: int, data: SweepData) -> list[Any]:
    """The first ``size`` sentences (SimCSE) or labelled pairs (supervised objectives) of a sweep order.

    Supervised SimCSE trains on the positive pairs among them (anchor, positive; a seeded random
    negative is added by the objective).
    """
    from simsent.data.tasks import positive_threshold
    from simsent.losses import objective_class

    if not objective_class(objective).supervised():
        return data.sentences[:size]
    pairs = data.pairs[:size]
    if objective == "supervised_simcse":
        thr = positive_threshold(data.task)
        return [{"anchor": p["sentence1"], "positive": p["sentence2"]} for p in pairs if p["score"] >= thr]
    return pairs


def training_steps(size: int, epochs: int, batch_size: int) -> int:
    """Optimiser steps of a cell of ``size`` rows (see :func:`balanced_batch_size`)."""
    return epochs * max(1, size // balanced_batch_size(size, batch_size))


def run_sweep_cell(
    cfg: SweepConfig, objective: str, size: int, epochs: int, seed: int, data: SweepData
) -> dict[str, Any]:
    """Train a fresh copy of ``cfg.model`` on ``size`` rows for ``epochs``; score the evaluation pairs.

    ``objective="raw"`` scores the untrained model (the reference line of the plots).
    """
    from simsent.data.tasks import positive_threshold
    from simsent.evaluation.sts import sts_metrics
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.seed import set_seed

    start = time.perf_counter()
    set_seed(seed)
    model = SentenceEncoder.from_pretrained(
        cfg.model, pooling=cfg.pooling, max_len=cfg.max_len, dropout=cfg.dropout
    )
    thr = positive_threshold(data.task)
    steps, train_seconds, rows = 0, 0.0, []
    if objective != "raw":
        rows = training_rows(objective, size, data)
        kwargs = {"label_threshold": thr} if objective == "sbert_softmax" else {}
        result = train_in_place(
            model,
            rows,
            objective=objective,
            epochs=epochs,
            batch_size=balanced_batch_size(len(rows), cfg.batch_size),
            lr=cfg.lr,
            temperature=cfg.temperature,
            simcse_variant=cfg.simcse_variant,
            seed=seed,
            objective_kwargs=kwargs,
        )
        steps, train_seconds = result["global_step"], result["train_seconds"]
    v1, v2 = pair_vectors(model, data.eval_rows, cfg.encode_batch_size, np.float64)
    metrics = sts_metrics(v1, v2, [r["score"] for r in data.eval_rows], thr)
    return {
        "task": data.task,
        "objective": objective,
        "size": size,
        "epochs": epochs,
        "seed": seed,
        "metrics": metrics,
        "train_rows": len(rows),
        "eval_pairs": len(data.eval_rows),
        "eval_split": data.eval_split,
        "train_steps": steps,
        "train_seconds": train_seconds,
        "seconds": time.perf_counter() - start,
    }
