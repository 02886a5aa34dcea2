"""fit's ``augsbert`` candidate (Augmented SBERT): the rows its bi-encoder trains on, the gold ones and
silver pairs drawn from the unlabelled text and scored by a reranker trained on the gold ones.

Gold rows are scored pairs on a 0..1 scale: labelled pairs min-max scaled, or for FAQ queries each
(query, positive) at 1 and (query, negative) at 0 (the file's negatives, else mined as mnrl-hard's).
CoSENT only compares scores, so gold and silver (the reranker's probabilities) share one scale.

Example:
    >>> rows, reranker = augsbert_rows(cfg, judge, splits.train, texts, start_model)    # doctest: +SKIP
    >>> len(rows), rows[-1]["score"]                                          # doctest: +SKIP
    (2840, 0.07)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simsent.experiments.fit.config import FitConfig


def gold_pairs(judge: Any, items: Sequence[Any], miner: Any) -> list[dict[str, Any]]:
    """The labelled items as scored pairs on 0..1 (see the module docstring).

    Example:
        >>> gold_pairs(None, [{"sentence1": "a", "sentence2": "b", "score": 5.0},
        ...                   {"sentence1": "a", "sentence2": "c", "score": 0.0}], None)[0]["score"]
        1.0
    """
    from simsent.experiments.fit.reranking import reranker_rows

    if getattr(judge, "item_word", "pairs") == "queries":
        _, rows = reranker_rows(judge, items, miner)
        return [{"sentence1": r["anchor"], "sentence2": r[column], "score": label}
                for r in rows for column, label in (("positive", 1.0), ("negative", 0.0))]
    scores = [float(r["score"]) for r in items]
    lo, hi = min(scores, default=0.0), max(scores, default=1.0)
    span = (hi - lo) or 1.0
    return [{"sentence1": r["sentence1"], "sentence2": r["sentence2"],
             "score": (float(r["score"]) - lo) / span} for r in items]


def augsbert_rows(cfg: FitConfig, judge: Any, items: Sequence[Any], texts: Sequence[str],
                  start_model: Any) -> tuple[list[dict[str, Any]], Any]:
    """Gold pairs and ``cfg.silver_pairs`` silver ones (:func:`simsent.adapt.augsbert.silver_pairs`, drawn
    by ``start_model`` from ``texts``, scored by a reranker trained on ``items``), and that reranker."""
    from simsent.adapt.augsbert import silver_pairs
    from simsent.experiments.fit.reranking import train_fit_reranker

    gold = gold_pairs(judge, items, start_model)
    reranker, _ = train_fit_reranker(cfg, judge, items, start_model)
    reranker.eval()
    silver = silver_pairs(texts, start_model, reranker, max_pairs=cfg.silver_pairs, seed=cfg.seed,
                          batch_size=cfg.encode_batch_size,
                          skip=[(r["sentence1"], r["sentence2"]) for r in gold])
    return gold + silver, reranker
