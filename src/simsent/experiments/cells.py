"""One cell's numbers: the seed table's raw / whitening / SimCSE (pooling, task, seed) and TF-IDF row,
a sweep's (objective, size, epochs, seed) and a fit candidate family's (family, pooling).

Example:
    >>> run_cell(cfg, "cls", task_data(cfg, "STS-B", 42, data_dir), seed=42)["simcse"]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent.evaluation.base import pair_vectors
from simsent.experiments.config import FitConfig, FitRecipe, SweepConfig, TableConfig
from simsent.experiments.protocol import FitSplits, SweepData, TaskData

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


def run_fit_family(
    cfg: FitConfig,
    family: str,
    pooling: str,
    texts: list[str],
    splits: FitSplits,
    keep_if_best: Callable[[float, Callable[[str], None]], bool],
) -> dict[str, Any]:
    """One candidate family of ``fit`` on one pooling: train (unless ``raw``), then score the model and
    its whitened variants on the selection and the report part.

    ``keep_if_best(score, save)`` is called with the family's best selection score; it calls
    ``save(folder)`` when that beats every candidate so far, so the winner is on disk at the end.
    Cross-fitted splits score a supervised family's selection pairs out of fold
    (:func:`_out_of_fold_cosines`).
    """
    start = time.perf_counter()
    model, steps, epochs = _fit_train(cfg, family, pooling, texts, splits.train)
    held_out = splits.report + splits.audit  # scored, never chosen on
    if splits.cross_fitted and FitRecipe.named(family).supervised:
        variants, h1, h2 = _fit_variants(cfg, model, family, texts, held_out)
        sel_cos = _out_of_fold_cosines(cfg, family, pooling, texts, splits)
    else:
        n = len(splits.selection)
        variants, v1, v2 = _fit_variants(cfg, model, family, texts, splits.selection + held_out)
        sel_cos = [_variant_cosines(v1[:n], v2[:n], wm) for _, _, wm in variants]
        h1, h2 = v1[n:], v2[n:]
    rows_out = [
        _fit_scores(cfg, family, pooling, name, k, sel_cos[i], _variant_cosines(h1, h2, wm), splits)
        for i, (name, k, wm) in enumerate(variants)
    ]
    best_i = max(range(len(rows_out)), key=lambda i: nan_low(rows_out[i]["selection"]))
    save = functools.partial(_save_variant, cfg, model, variants[best_i][2], rows_out[best_i], len(texts))
    saved = keep_if_best(nan_low(rows_out[best_i]["selection"]), save)
    return {
        "family": family,
        "pooling": pooling,
        "rows": rows_out,
        "saved": saved,
        "train_steps": steps,
        "epochs": epochs,
        "seconds": time.perf_counter() - start,
    }


def _save_variant(
    cfg: FitConfig, model: SentenceEncoder, wm: Any, row: dict[str, Any], corpus_size: int, path: str
) -> None:
    """Save ``model`` with the whitening ``wm`` (``(W, mu)`` or None) as a Dense layer, and fit's record
    of the recipe in its config."""
    from simsent.adapt.whitening import whitening_layer

    if wm is not None:
        model.dense.append(whitening_layer(*wm).to(model.device))
        model.extra_config["whitening"] = {"dim": int(wm[0].shape[1]), "corpus_sentences": corpus_size}
    model.extra_config["fit"] = {"recipe": row["recipe"], "pooling": row["pooling"], "seed": cfg.seed}
    model.save(path)


def refit_winner(
    cfg: FitConfig, winner: dict[str, Any], texts: list[str], splits: FitSplits, path: str
) -> dict[str, Any]:
    """Retrain the winner's family on the train and selection pairs together, whiten it as the winner
    was, save it in ``path`` and score it on the report (and audit) pairs, which it never saw.

    Example:
        >>> refit_winner(cfg, board[0], texts, splits, "runs/best/fit-runs/refit")  # doctest: +SKIP
        {'pairs': 700, 'report': 72.9, 'report_ci': [67.4, 77.6], 'seconds': 130.2}
    """
    start = time.perf_counter()
    pairs = splits.train + splits.selection
    model, steps, _ = _fit_train(cfg, winner["family"], winner["pooling"], texts, pairs)
    # an unwhitened winner needs no whitening variants, so the unlabelled corpus is not encoded for them
    needs = cfg if winner["whiten_dim"] is not None else dataclasses.replace(cfg, whiten_dims=[])
    variants, h1, h2 = _fit_variants(needs, model, winner["family"], texts, splits.report + splits.audit)
    wm = next(w for _, k, w in variants if k == winner["whiten_dim"])
    scores = _held_out_scores(cfg, _variant_cosines(h1, h2, wm), splits)
    _save_variant(cfg, model, wm, winner, len(texts), path)
    return {"pairs": len(pairs), **scores, "train_steps": steps, "seconds": time.perf_counter() - start}


def _fit_train(cfg: FitConfig, family: str, pooling: str, texts: list[str], pairs: list[dict]) -> tuple:
    """The start model with ``pooling``, trained by the family's recipe (not for ``raw``) on ``pairs``
    (supervised) or ``texts``; with its steps and epochs."""
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.seed import set_seed

    recipe = FitRecipe.named(family)
    set_seed(cfg.seed)
    model = SentenceEncoder.from_pretrained(
        cfg.model, pooling=pooling, max_len=cfg.max_len, dropout=recipe.dropout
    )
    if not recipe.trains:
        return model, 0, 0
    rows = pairs if recipe.supervised else texts
    epochs = fit_epochs(recipe, len(rows))
    steps = train_in_place(
        model,
        rows,
        objective=recipe.objective,
        epochs=epochs,
        batch_size=balanced_batch_size(len(rows), recipe.batch_size),
        lr=recipe.lr,
        temperature=cfg.temperature,
        simcse_variant=recipe.simcse_variant,
        seed=cfg.seed,
    )["global_step"]
    return model, steps, epochs


def _fit_variants(
    cfg: FitConfig, model: SentenceEncoder, family: str, texts: list[str], pairs: list[dict]
) -> tuple:
    """The family's variants ``(name, whitening k, (W, mu) | None)`` and the vectors of ``pairs``."""
    from simsent.adapt.whitening import fit_whitening

    normalize, model.normalize = model.normalize, False  # whitening sees what its layer will receive
    try:
        v1, v2 = pair_vectors(model, pairs, cfg.encode_batch_size, np.float64)
        dims = [k for k in cfg.whiten_dims if k is None or k < v1.shape[1]]
        corpus = (
            np.asarray(model.encode(texts, batch_size=cfg.encode_batch_size), dtype=np.float64)
            if dims
            else None
        )
    finally:
        model.normalize = normalize
    variants: list[tuple[str, int | None, Any]] = [(family, None, None)]
    for k in dims:
        W, mu = fit_whitening(corpus, dim=k)
        name = f"whitening (k={W.shape[1]})" if family == "raw" else f"{family} + whitening (k={W.shape[1]})"
        variants.append((name, W.shape[1], (W, mu)))
    return variants, v1, v2


def _variant_cosines(v1: np.ndarray, v2: np.ndarray, wm: Any) -> np.ndarray:
    """The cosines of paired vectors, whitened first when ``wm`` is ``(W, mu)``."""
    from simsent.adapt.whitening import apply_whitening
    from simsent.evaluation.sts import cosine_scores

    if wm is not None:
        v1, v2 = apply_whitening(v1, *wm), apply_whitening(v2, *wm)
    return cosine_scores(v1, v2)


def _out_of_fold_cosines(
    cfg: FitConfig, family: str, pooling: str, texts: list[str], splits: FitSplits
) -> list[np.ndarray]:
    """Each variant's cosines of the selection pairs, pair i scored by a copy of the family trained on
    the folds without i (its whitening fitted on that copy's vectors)."""
    cos: list[np.ndarray] = []
    for f in range(splits.folds):
        train, held = splits.fold(f)
        model, _, _ = _fit_train(cfg, family, pooling, texts, train)
        variants, v1, v2 = _fit_variants(cfg, model, family, texts, [splits.selection[i] for i in held])
        cos = cos or [np.zeros(len(splits.selection)) for _ in variants]
        for j, (_, _, wm) in enumerate(variants):
            cos[j][held] = _variant_cosines(v1, v2, wm)
    return cos


def _fit_scores(
    cfg: FitConfig,
    family: str,
    pooling: str,
    name: str,
    k: int | None,
    sel_cos: np.ndarray,
    held_cos: np.ndarray,
    splits: FitSplits,
) -> dict[str, Any]:
    """One variant's selection Spearman and its held-out scores (:func:`_held_out_scores`)."""
    from simsent.evaluation.sts import correlation_metrics

    return {
        "recipe": name,
        "family": family,
        "pooling": pooling,
        "whiten_dim": k,
        "selection": correlation_metrics(sel_cos, [r["score"] for r in splits.selection])["spearman"],
        **_held_out_scores(cfg, held_cos, splits),
        # the choice's paired bootstrap resamples these (experiments.choice); not written to the leaderboard
        "selection_cos": [round(float(c), 6) for c in sel_cos],
    }


def _held_out_scores(cfg: FitConfig, held_cos: np.ndarray, splits: FitSplits) -> dict[str, Any]:
    """The report Spearman with its bootstrap interval, and the audit Spearman when there are audit
    pairs; ``held_cos`` are the cosines of the report pairs, then of the audit pairs."""
    from simsent.evaluation.sts import correlation_metrics, spearman_ci

    rep_cos, audit_cos = held_cos[: len(splits.report)], held_cos[len(splits.report):]
    gold = [r["score"] for r in splits.report]
    out = {
        "report": correlation_metrics(rep_cos, gold)["spearman"],
        "report_ci": list(spearman_ci(rep_cos, gold, seed=cfg.seed)),
    }
    if splits.audit:
        out["audit"] = correlation_metrics(audit_cos, [r["score"] for r in splits.audit])["spearman"]
    return out


def nan_low(x: float | None) -> float:
    """``x``, or minus infinity when it is NaN or missing: sorts undefined scores last.

    Example:
        >>> nan_low(float("nan")) < nan_low(-1e9)
        True
    """
    return -math.inf if x is None or math.isnan(x) else float(x)
