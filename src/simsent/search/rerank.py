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


def rerank_results(results: SearchResults, queries: Sequence[str], reranker: Any, k: int,
                   batch_size: int = 32) -> SearchResults:
    """Each query's hits re-ordered by ``reranker``'s score of (query, hit text); the best ``k``."""
    if any(t is None for row in results.texts for t in row):
        raise DataError("the index holds no texts for its rows (built from vectors alone): nothing to rerank")
    pairs = [(q, t) for q, row in zip(queries, results.texts, strict=True) for t in row]
    flat = reranker.predict(pairs, batch_size=batch_size, show_progress_bar=False) if pairs else np.zeros(0)
    out = SearchResults(ids=[], scores=np.full((len(queries), k), np.nan, np.float32),
                        positions=np.full((len(queries), k), -1, np.int64),
                        retrieval_scores=np.full((len(queries), k), np.nan, np.float32))
    start = 0
    for i, ids in enumerate(results.ids):
        scores = flat[start : start + len(ids)]
        start += len(ids)
        order = np.argsort(-scores, kind="stable")[:k]
        out.ids.append([ids[j] for j in order])
        out.texts.append([results.texts[i][j] for j in order])
        out.payloads.append([results.payloads[i][j] for j in order])
        out.scores[i, : len(order)] = scores[order]
        out.positions[i, : len(order)] = results.positions[i, order]
        out.retrieval_scores[i, : len(order)] = results.scores[i, order]
    return out
