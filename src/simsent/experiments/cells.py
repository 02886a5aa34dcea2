"""One cell's numbers: the seed table's raw / whitening / SimCSE (pooling, task, seed) and TF-IDF row,
and a sweep's (objective, size, epochs, seed); fit's candidates are in :mod:`simsent.experiments.fit_cells`.

Example:
    >>> run_cell(cfg, "cls", task_data(cfg, "STS-B", 42, data_dir), seed=42)["simcse"]  # doctest: +SKIP
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent.evaluation.base import pair_vectors
from simsent.experiments.config import FitRecipe, SweepConfig, TableConfig
from simsent.experiments.protocol import SweepData, TaskData

if TYPE_CHECKING:
    from simsent.modeling.sentence_encoder import SentenceEncoder


def train_in_place(model: SentenceEncoder, rows: Any, **settings: Any) -> dict[str, Any]:
    """Train ``model`` on ``rows`` with :class:`~simsent.training.trainer.Trainer` as an experiment cell
    does: no dev evaluation, no checkpoints, no resume, no progress bar, a throw-away output folder.
    ``settings`` are :class:`~simsent.training.arguments.TrainingArguments` fields. Leaves it in eval mode.

    Example:
        >>> result = train_in_place(model, sentences, objective="simcse", lr=3e-5)  # doctest: +SKIP
        >>> result["global_step"]                                                  # doctest: +SKIP
        156
    """
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    tmp = tempfile.mkdtemp(prefix="simsent-cell-")
    try:
        args = TrainingArguments(
            output_dir=tmp,
            eval_steps=0,
            checkpoint_steps=0,
            resume=False,
            checkpoints=False,
            show_progress_bar=False,
            **settings,
        )
        result = Trainer(model, args, train_rows=rows).train()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    model.eval()
    return result


def run_cell(cfg: TableConfig, pooling: str, data: TaskData, seed: int) -> dict[str, Any]:
    """Raw, whitening and SimCSE metrics of one (pooling, task, seed)."""
    from simsent.adapt.whitening import apply_whitening, fit_whitening
    from simsent.data.tasks import positive_threshold
    from simsent.evaluation.sts import sts_metrics
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.seed import set_seed

    start = time.perf_counter()
    set_seed(seed)
    thr = positive_threshold(data.task)
    gold = [r["score"] for r in data.eval_rows]
    model = SentenceEncoder.from_pretrained(
        cfg.model, pooling=pooling, max_len=cfg.max_len, dropout=cfg.dropout
    )
    v1, v2 = pair_vectors(model, data.eval_rows, cfg.encode_batch_size, np.float64)
    raw = sts_metrics(v1, v2, gold, thr)
    corpus = np.asarray(model.encode(data.whiten_texts, batch_size=cfg.encode_batch_size), dtype=np.float64)
    W, mu = fit_whitening(corpus, dim=cfg.whiten_dim)
    whitening = sts_metrics(apply_whitening(v1, W, mu), apply_whitening(v2, W, mu), gold, thr)
    train = train_in_place(
        model,
        data.train_texts,
        objective="simcse",
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        temperature=cfg.temperature,
        simcse_variant=cfg.simcse_variant,
        seed=seed,
    )
    v1, v2 = pair_vectors(model, data.eval_rows, cfg.encode_batch_size, np.float64)
    simcse = sts_metrics(v1, v2, gold, thr)
    return {
        "pooling": pooling,
        "task": data.task,
        "seed": seed,
        "raw": raw,
        "whitening": whitening,
        "simcse": simcse,
        "train_sentences": len(data.train_texts),
        "whiten_sentences": len(data.whiten_texts),
        "eval_pairs": len(data.eval_rows),
        "eval_split": data.eval_split,
        "train_steps": train["global_step"],
        "train_seconds": train["train_seconds"],
        "seconds": time.perf_counter() - start,
    }


def run_tfidf_cell(cfg: TableConfig, data: TaskData, seed: int) -> dict[str, Any]:
    """TF-IDF character n-gram cosine, fitted on the train text, scored on the evaluation pairs.

    The vectors stay sparse (a dense copy of 10k pairs x 100k n-grams would take gigabytes); rows are
    L2-normalised by the vectoriser, so the row-wise dot product is the cosine. Spearman and Pearson
    only: alignment and uniformity describe dense embeddings.
    """
    from simsent.evaluation.sts import correlation_metrics, tfidf_pair_scores

    cosine = tfidf_pair_scores(data.train_texts, data.eval_rows, cfg.tfidf_ngram_range)
    m = correlation_metrics(cosine, [r["score"] for r in data.eval_rows])
    return {
        "pooling": "tfidf",
        "task": data.task,
        "seed": seed,
        "tfidf": m,
        "eval_pairs": len(data.eval_rows),
    }


def training_rows(objective: str, size: int, data: SweepData) -> list[Any]:
    """The first ``size`` sentences (SimCSE) or labelled pairs (supervised objectives) of a sweep order.

    Supervised SimCSE trains on the positive pairs among them (anchor, positive; a seeded random
    negative is added by the objective).
    """
    from simsent.data.tasks import positive_threshold
    from simsent.experiments.config import SUPERVISED

    if objective not in SUPERVISED:
        return data.sentences[:size]
    pairs = data.pairs[:size]
    if objective == "supervised_simcse":
        thr = positive_threshold(data.task)
        return [{"anchor": p["sentence1"], "positive": p["sentence2"]} for p in pairs if p["score"] >= thr]
    return pairs


def balanced_batch_size(size: int, batch_size: int) -> int:
    """The batch size a cell of ``size`` rows trains with: as many batches as ``batch_size`` needs, made
    even, so an epoch sees (almost) every row although the trainer drops a last partial batch.

    Example:
        >>> balanced_batch_size(100, 64), balanced_batch_size(800, 64), balanced_batch_size(50, 64)
        (50, 61, 50)
    """
    return max(1, size // max(1, math.ceil(size / batch_size)))


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


def fit_epochs(recipe: FitRecipe, n_rows: int) -> int:
    """Epochs of a fit recipe on ``n_rows``: its ``epochs``, raised to reach ``min_steps`` (capped).

    Example:
        >>> from simsent.experiments.config import FitRecipe
        >>> fit_epochs(FitRecipe(epochs=1, batch_size=64, min_steps=100, max_epochs=10), 640)
        10
    """
    epochs = recipe.epochs
    if recipe.min_steps:
        per_epoch = max(1, n_rows // balanced_batch_size(n_rows, recipe.batch_size))
        cap = recipe.max_epochs or epochs
        epochs = min(cap, max(epochs, math.ceil(recipe.min_steps / per_epoch)))
    return epochs


def nan_low(x: float | None) -> float:
    """``x``, or minus infinity when it is NaN or missing: sorts undefined scores last.

    Example:
        >>> nan_low(float("nan")) < nan_low(-1e9)
        True
    """
    return -math.inf if x is None or math.isnan(x) else float(x)
