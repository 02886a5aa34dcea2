"""One cell of the seed table: raw / BERT-whitening / SimCSE on (pooling, task, seed), and the TF-IDF row.

Example:
    >>> run_cell(cfg, "cls", task_data(cfg, "STS-B", 42, data_dir), seed=42)["simcse"]  # doctest: +SKIP
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent.evaluation.base import pair_vectors
from simsent.experiments.cells import train_in_place
from simsent.experiments.protocol import TaskData
from simsent.experiments.table.config import TableConfig

if TYPE_CHECKING:
    pass


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
