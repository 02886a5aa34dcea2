"""The second stage of a search: a cross-encoder re-orders each query's first-stage hits.

The bi-encoder's index recalls ``rerank_top`` candidates fast; the cross-encoder
(:class:`~simsent.modeling.cross_encoder.CrossEncoder`) reads the query with each candidate's text and
orders them by its score. The hits keep their first-stage cosine as ``retrieval_score``.

Example:
    >>> first = index.search(["花呗怎么还款"], k=50, model=model)            # doctest: +SKIP
    >>> rerank_results(first, ["花呗怎么还款"], reranker, k=5).hits(0)[0]    # doctest: +SKIP
    {'id': 'q17', 'text': '如何还花呗', 'score': 0.98, 'payload': {}, 'retrieval_score': 0.91}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from simsent.errors import DataError
from simsent.search.index import SearchResults


def blended_scores(retrieval: np.ndarray, rerank: np.ndarray, weight: float) -> np.ndarray:
    """The second stage's order with the first stage's cosine blended in: ``weight * z(retrieval) +
    (1 - weight) * z(rerank)``, each standardised over a query's candidates (the last axis), as the
    interpolation of first-stage and cross-encoder scores in the reranking literature. ``weight`` 0 is
    the reranker alone (its scores unchanged), 1 the first stage's order. Pass the reranker's logits
    (``predict(..., apply_activation=False)``): a sigmoid squeezes their differences.

    Example:
        >>> blended_scores(np.array([[0.9, 0.8, 0.7]]), np.array([[0.0, 2.0, 1.0]]), 0.25).round(2).tolist()
        [[-0.61, 0.92, -0.31]]
    """
    if not 0.0 <= weight <= 1.0:
        from simsent.errors import ConfigError

        raise ConfigError(f"the blend weight of the first stage must be between 0 and 1, got {weight}")
    rerank = np.asarray(rerank, dtype=np.float64)
    if weight == 0.0:
        return rerank
    return weight * _standardised(retrieval) + (1.0 - weight) * _standardised(rerank)


def _standardised(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    spread = x.std(axis=-1, keepdims=True)
    return (x - x.mean(axis=-1, keepdims=True)) / np.where(spread > 0, spread, 1.0)


def rerank_results(results: SearchResults, queries: Sequence[str], reranker: Any, k: int,
                   batch_size: int = 32, blend: float | None = None) -> SearchResults:
    """Each query's hits re-ordered by ``reranker``'s score of (query, hit text), with ``blend`` of the
    first stage's cosine blended in (:func:`blended_scores`; default: the weight the reranker was saved
    with, 0 for most); the best ``k``. A hit's ``score`` is the reranker's, its ``retrieval_score`` the
    first stage's."""
    from scipy.special import expit

    from simsent.modeling.cross_encoder import first_stage_blend

    blend = first_stage_blend(reranker) if blend is None else blend
    if any(t is None for row in results.texts for t in row):
        raise DataError("the index holds no texts for its rows (built from vectors alone): nothing to rerank")
    pairs = [(q, t) for q, row in zip(queries, results.texts, strict=True) for t in row]
    logits = (reranker.predict(pairs, batch_size=batch_size, show_progress_bar=False, apply_activation=False)
              if pairs else np.zeros(0, np.float32))
    flat = expit(logits) if getattr(reranker, "activation", "sigmoid") == "sigmoid" else logits
    out = SearchResults(ids=[], scores=np.full((len(queries), k), np.nan, np.float32),
                        positions=np.full((len(queries), k), -1, np.int64),
                        retrieval_scores=np.full((len(queries), k), np.nan, np.float32))
    start = 0
    for i, ids in enumerate(results.ids):
        scores = flat[start : start + len(ids)]
        ordering = blended_scores(results.scores[i, : len(ids)], logits[start : start + len(ids)], blend)
        start += len(ids)
        order = np.argsort(-ordering, kind="stable")[:k]
        out.ids.append([ids[j] for j in order])
        out.texts.append([results.texts[i][j] for j in order])
        out.payloads.append([results.payloads[i][j] for j in order])
        out.scores[i, : len(order)] = scores[order]
        out.positions[i, : len(order)] = results.positions[i, order]
        out.retrieval_scores[i, : len(order)] = results.scores[i, order]
    return out
