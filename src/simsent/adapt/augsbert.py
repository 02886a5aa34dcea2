"""Augmented SBERT (Thakur et al., NAACL 2021): a cross-encoder trained on a few labelled pairs scores
pairs drawn from unlabelled text, and a bi-encoder trains on those silver pairs beside the gold ones.

:func:`silver_pairs` draws the pairs as the paper's semantic-search sampling does: each sampled text with
its nearest neighbours by the bi-encoder (likely paraphrases and hard non-paraphrases), plus one random
partner (a likely negative, so the silver labels are not all high); the reranker's probability is the
pair's score (0..1). Pairs are unordered and distinct; a text is never paired with itself.

Example:
    >>> rows = silver_pairs(texts, bi_encoder, reranker, per_text=3, max_pairs=2000)   # doctest: +SKIP
    >>> rows[0]                                                                         # doctest: +SKIP
    {'sentence1': '花呗怎么还款', 'sentence2': '如何还花呗', 'score': 0.93}
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def silver_pairs(texts: Sequence[str], bi_encoder: Any, reranker: Any, per_text: int = 3,
                 max_pairs: int = 2000, seed: int = 42, batch_size: int = 64,
                 skip: Sequence[tuple[str, str]] = ()) -> list[dict[str, Any]]:
    """Up to ``max_pairs`` pairs of ``texts`` (``per_text`` nearest neighbours by ``bi_encoder`` and one
    random partner per sampled text), each scored by ``reranker`` (its sigmoid, 0..1); pairs in ``skip``
    (e.g. the gold ones) are left out."""
    unique = list(dict.fromkeys(t for t in texts if t.strip()))
    if len(unique) < 2:
        return []
    pairs = _drawn_pairs(unique, bi_encoder, per_text, max_pairs, seed, batch_size, skip)
    scores = reranker.predict(pairs, batch_size=batch_size, show_progress_bar=False) if pairs else []
    logger.info("augsbert: %d silver pairs from %d texts, mean score %.3f", len(pairs), len(unique),
                float(np.mean(scores)) if len(pairs) else float("nan"))
    return [{"sentence1": a, "sentence2": b, "score": float(s)}
            for (a, b), s in zip(pairs, scores, strict=True)]


def _drawn_pairs(texts: list[str], bi_encoder: Any, per_text: int, max_pairs: int, seed: int,
                 batch_size: int, skip: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The distinct unordered pairs to score: neighbours and a random partner of sampled texts."""
    from simsent.search.backends import numpy_search

    rng = random.Random(seed)
    sampled = rng.sample(range(len(texts)), min(len(texts), max(1, max_pairs // (per_text + 1))))
    vectors = np.asarray(bi_encoder.encode(texts, batch_size=batch_size, normalize_embeddings=True),
                         dtype=np.float32)
    _, neighbours = numpy_search(vectors, vectors[sampled], min(per_text + 1, len(texts)))
    seen = {frozenset(p) for p in skip}
    out: list[tuple[str, str]] = []
    for row, i in enumerate(sampled):
        partners = [int(j) for j in neighbours[row] if int(j) != i][:per_text] + [rng.randrange(len(texts))]
        for j in partners:
            key = frozenset((texts[i], texts[j]))
            if j != i and key not in seen:
                seen.add(key)
                out.append((texts[i], texts[j]))
    return out[:max_pairs]
