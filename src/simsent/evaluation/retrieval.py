"""Retrieval evaluation: Recall@k and MRR of (query, gold ids) against a corpus.

:func:`retrieval_from_pairs` turns a paired data set (rows ``sentence1, sentence2, score``, e.g.
LCQMC or BQ) into a retrieval task: the corpus is every distinct sentence of the split; each
positive pair gives a query (``sentence1``) whose gold document is its partner (``sentence2``); all
other sentences are distractors. A query never retrieves its own text (that corpus entry is
skipped when ranking). Queries with several positive partners count a hit for any of them.

Example:
    >>> data = retrieval_from_pairs([{"sentence1": "怎么还款", "sentence2": "如何还款", "score": 1},
    ...                              {"sentence1": "今天天气", "sentence2": "花呗额度", "score": 0}])
    >>> data.queries, data.gold, len(data.corpus)
    (['怎么还款'], [{'1'}], 4)
    >>> ev = RetrievalEvaluator(data, name="LCQMC")                       # doctest: +SKIP
    >>> ev(model)                                                          # doctest: +SKIP
    {'recall@1': 61.2, 'recall@5': 80.3, 'recall@10': 85.9, 'mrr@10': 69.1, 'ndcg@10': 72.4, 'mrr': 69.8,
     'queries': 4402, 'corpus': 17143}

:func:`simsent.data.retrieval.retrieval_data` builds the same task from a user's queries file and FAQ
base. :meth:`RetrievalEvaluator.per_query` gives each query's figures, for paired comparisons.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent.data.retrieval import RetrievalData
from simsent.errors import DataError

if TYPE_CHECKING:
    from simsent.modeling.inputs import Embedder

logger = logging.getLogger(__name__)


def retrieval_metrics(
    ranked: Sequence[Sequence[Any]], gold: Sequence[set[Any] | Any], ks: Sequence[int] = (1, 5, 10)
) -> dict[str, float]:
    """Recall@k (share of queries with a gold id in the top k) and MRR, both x100.

    ``ranked[i]`` is the ranked id list of query ``i`` (as long as you like; MRR counts a gold id
    found anywhere in it, 0 when absent).
    """
    if len(ranked) != len(gold):
        raise DataError(f"{len(ranked)} rankings but {len(gold)} gold entries")
    if not ranked:
        raise DataError("no query to evaluate")
    hits = {k: 0 for k in ks}
    rr = 0.0
    for ids, g in zip(ranked, gold, strict=True):
        g = g if isinstance(g, (set, frozenset)) else {g}
        rank = next((r for r, i in enumerate(ids, 1) if i in g), None)
        if rank is None:
            continue
        rr += 1.0 / rank
        for k in ks:
            hits[k] += rank <= k
    n = len(ranked)
    out = {f"recall@{k}": 100.0 * hits[k] / n for k in ks}
    out["mrr"] = 100.0 * rr / n
    return out


def retrieval_from_pairs(
    rows: Sequence[dict[str, Any]], positive_threshold: float = 1.0, query_side: str = "sentence1"
) -> RetrievalData:
    """Build a retrieval task from the positive pairs of a paired split (see the module docstring)."""
    other = "sentence2" if query_side == "sentence1" else "sentence1"
    corpus_ids: dict[str, str] = {}
    for r in rows:
        for side in ("sentence1", "sentence2"):
            text = r[side]
            if text not in corpus_ids:
                corpus_ids[text] = str(len(corpus_ids))
    gold: dict[str, set[str]] = {}
    for r in rows:
        if float(r["score"]) >= positive_threshold and r[query_side] != r[other]:
            gold.setdefault(r[query_side], set()).add(corpus_ids[r[other]])
    if not gold:
        raise DataError(f"no positive pair (score >= {positive_threshold}) to build a retrieval task from")
    return RetrievalData(
        queries=list(gold), gold=list(gold.values()), corpus={i: t for t, i in corpus_ids.items()}
    )


class RetrievalEvaluator:
    """Exact cosine retrieval of the queries in the corpus; returns Recall@k and MRR (x100).

    Args:
        data: a :class:`RetrievalData` (see :func:`retrieval_from_pairs`).
        name: used in logs.
        ks: cut-offs for Recall@k.
        batch_size: encode batch size.
        exclude_self: skip the corpus entry whose text equals the query.
    """

    primary_metric = "mrr"
    greater_is_better = True

    def __init__(
        self,
        data: RetrievalData,
        name: str = "retrieval",
        ks: Sequence[int] = (1, 5, 10),
        batch_size: int = 64,
        exclude_self: bool = True,
    ) -> None:
        self.data = data
        self.name = name
        self.ks = tuple(ks)
        self.batch_size = batch_size
        self.exclude_self = exclude_self

    @classmethod
    def from_pairs(
        cls, rows: Sequence[dict[str, Any]], positive_threshold: float = 1.0, **kwargs: Any
    ) -> RetrievalEvaluator:
        return cls(retrieval_from_pairs(rows, positive_threshold), **kwargs)

    def gold_ranks(self, model: Embedder) -> list[np.ndarray]:
        """For each query, the 1-based ranks of its gold documents in the corpus, sorted (exact cosine; a
        document scored the same as a gold one does not push it down; the query's own text is skipped)."""
        ids = list(self.data.corpus)
        texts = [self.data.corpus[i] for i in ids]
        doc = model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True)
        qry = model.encode(self.data.queries, batch_size=self.batch_size, normalize_embeddings=True)
        pos_of_text = {t: p for p, t in enumerate(texts)}
        gold_pos = [sorted({pos_of_text[self.data.corpus[g]] for g in gs}) for gs in self.data.gold]
        own = [pos_of_text.get(q, -1) if self.exclude_self else -1 for q in self.data.queries]
        return rank_gold(qry, doc, gold_pos, own)

    def per_query(self, model: Embedder) -> dict[str, np.ndarray]:
        """Each query's figures (:func:`per_query_figures`)."""
        return per_query_figures(self.gold_ranks(model), self.ks)

    def __call__(self, model: Embedder) -> dict[str, float]:
        scores = self.per_query(model)
        out: dict[str, float] = {name: float(v.mean() * 100) for name, v in scores.items()}
        out["queries"] = len(self.data.queries)
        out["corpus"] = len(self.data.corpus)
        logger.info("%s: %s", self.name, {k: round(v, 2) for k, v in out.items()})
        return out


def rank_gold(
    queries: Any, docs: Any, gold: Sequence[Sequence[int]], own: Sequence[int] | None = None
) -> list[np.ndarray]:
    """For each query vector, the sorted 1-based ranks of its gold rows ``gold[i]`` among ``docs`` by
    cosine (vectors are normalised here; a document scored the same as a gold one does not push it down).
    ``own[i]`` (or -1) is a document never counted for query i: the query's own text in the corpus.

    Example:
        >>> d = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
        >>> [r.tolist() for r in rank_gold(np.array([[1.0, 0.1]]), d, [[2]], own=[0])]
        [[1]]
    """
    import torch

    doc = torch.nn.functional.normalize(torch.as_tensor(np.asarray(docs, dtype=np.float32)), dim=1)
    qry = torch.nn.functional.normalize(torch.as_tensor(np.asarray(queries, dtype=np.float32)), dim=1)
    ranks: list[np.ndarray] = []
    for start in range(0, len(qry), 256):
        sims = qry[start : start + 256] @ doc.T
        for j in range(sims.shape[0]):
            i = start + j
            if own is not None and own[i] >= 0:
                sims[j, own[i]] = -float("inf")
            gold_sims = sims[j, list(gold[i])]
            ranks.append(np.sort((sims[j][None, :] > gold_sims[:, None]).sum(dim=1).numpy() + 1))
    return ranks


def per_query_figures(ranks: Sequence[np.ndarray], ks: Sequence[int] = (1, 5, 10)) -> dict[str, np.ndarray]:
    """Each query's hit at every k (0/1), reciprocal rank within 10 (``mrr@10``), nDCG@10 over its gold
    documents (binary relevance) and reciprocal rank (``mrr``, no cut-off), from its gold ranks.

    Example:
        >>> f = per_query_figures([np.array([1]), np.array([3, 12])])
        >>> f["recall@1"].tolist(), f["mrr@10"].round(3).tolist()
        ([1.0, 0.0], [1.0, 0.333])
    """
    best = np.array([r.min() for r in ranks])
    out = {f"recall@{k}": (best <= k).astype(float) for k in ks}
    out["mrr@10"] = np.where(best <= 10, 1.0 / best, 0.0)
    out["ndcg@10"] = np.array([_ndcg_at_10(r) for r in ranks])
    out["mrr"] = 1.0 / best
    return out


def _ndcg_at_10(ranks: np.ndarray) -> float:
    """nDCG@10 of one query whose gold documents sit at ``ranks`` (binary relevance).

    Example:
        >>> round(_ndcg_at_10(np.array([1, 3])), 4), _ndcg_at_10(np.array([11]))
        (0.9197, 0.0)
    """
    dcg = float(sum(1.0 / np.log2(r + 1) for r in ranks if r <= 10))
    ideal = float(sum(1.0 / np.log2(i + 2) for i in range(min(len(ranks), 10))))
    return dcg / ideal


def top_candidates(queries: Any, docs: Any, k: int, own: Sequence[int] | None = None) -> np.ndarray:
    """Each query's ``k`` best documents by cosine, best first (``own[i]``, the query's own text, never).

    Example:
        >>> d = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
        >>> top_candidates(np.array([[1.0, 0.1]]), d, 2, own=[0]).tolist()
        [[2, 1]]
    """
    import torch

    doc = torch.nn.functional.normalize(torch.as_tensor(np.asarray(docs, dtype=np.float32)), dim=1)
    qry = torch.nn.functional.normalize(torch.as_tensor(np.asarray(queries, dtype=np.float32)), dim=1)
    k = min(k, len(doc) - (1 if own is not None else 0))
    out = []
    for start in range(0, len(qry), 256):
        sims = qry[start : start + 256] @ doc.T
        for j in range(sims.shape[0]):
            if own is not None and own[start + j] >= 0:
                sims[j, own[start + j]] = -float("inf")
        out.append(torch.topk(sims, k, dim=1).indices.numpy())
    return np.concatenate(out) if out else np.zeros((0, k), dtype=np.int64)


def reranked_ranks(first: Sequence[np.ndarray], tops: np.ndarray, scores: np.ndarray,
                   gold: Sequence[Sequence[int]]) -> list[np.ndarray]:
    """Gold ranks after a second stage re-orders each query's first-stage ``tops`` by ``scores`` (same
    shape, higher first): a gold document among them takes its new place; one outside keeps its
    first-stage rank (``first``, sorted, as :func:`rank_gold` gives), never better than just after the tops.

    Example:
        >>> tops, scores = np.array([[4, 2, 7]]), np.array([[0.1, 0.2, 0.9]])
        >>> [r.tolist() for r in reranked_ranks([np.array([3, 8])], tops, scores, [[7, 5]])]
        [[1, 8]]
    """
    out = []
    for i, row in enumerate(tops):
        order = row[np.argsort(-scores[i], kind="stable")]
        place = {int(d): p + 1 for p, d in enumerate(order)}
        inside = [place[int(g)] for g in gold[i] if int(g) in place]
        outside = np.sort(first[i])[len(inside):]  # the golds below the tops hold the largest ranks
        out.append(np.sort(np.asarray([*inside, *np.maximum(outside, len(row) + 1)], dtype=np.int64)))
    return out
