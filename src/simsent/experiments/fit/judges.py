"""What ``fit`` measures, as a plug-in: a judge encodes the parts a candidate is scored on, turns them into
per-item evidence (a pair's cosine, a query's MRR@10), a score, an interval and bootstrap statistics.
The chooser (:mod:`simsent.experiments.choice`) and the candidate cells only talk to a judge, so fit on
scored pairs and fit on FAQ queries are one fit.

* :class:`PairJudge`: Spearman (x100) of the pairs' cosines with their gold scores.
* :class:`RetrievalJudge`: a per-query retrieval metric (Recall@k, MRR@10, nDCG@10; x100) of queries
  searched in one corpus (a FAQ base) by cosine; a query never finds its own text.

Example:
    >>> from simsent.data.retrieval import QueryRow
    >>> judge = RetrievalJudge(["如何还款", "花呗额度", "怎么还款"], metric="recall@1")
    >>> rows = [QueryRow("怎么还款", ["如何还款"])]
    >>> enc = judge.encode(model, [rows])                                   # doctest: +SKIP
    >>> judge.evidence(enc, 0, rows, whitening=None)                        # doctest: +SKIP
    array([1.])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent.errors import ConfigError

if TYPE_CHECKING:
    from simsent.data.retrieval import QueryRow

RETRIEVAL_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
METRICS = ("spearman", *RETRIEVAL_METRICS)
_LABELS = {"spearman": "Spearman", "recall@1": "Recall@1", "recall@5": "Recall@5", "recall@10": "Recall@10",
           "mrr@10": "MRR@10", "ndcg@10": "nDCG@10"}


def check_metric(metric: str) -> str:
    """``metric`` lower-cased, or a one-line ConfigError naming the metrics fit knows."""
    m = metric.strip().lower()
    if m not in METRICS:
        raise ConfigError(f"unknown --metric {metric!r}; choose from {', '.join(METRICS)}")
    return m


def _whiten(x: np.ndarray, whitening: Any) -> np.ndarray:
    from simsent.adapt.whitening import apply_whitening

    return x if whitening is None else apply_whitening(x, *whitening)


def _bootstrap_ci(values: np.ndarray, seed: int, resamples: int = 1000) -> list[float]:
    """95% percentile interval of the mean x100 of ``values`` over resamples of its items."""
    idx = np.random.default_rng(seed).integers(0, len(values), size=(resamples, len(values)))
    means = values[idx].mean(axis=1) * 100
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


@dataclass
class PairJudge:
    """Spearman x100 of cosine against the gold score of labelled pairs (``sentence1, sentence2, score``)."""

    metric: str = "spearman"
    item_word: str = "pairs"
    batch_size: int = 64

    @property
    def label(self) -> str:
        return "Spearman"

    def encode(self, model: Any, parts: Sequence[Sequence[dict[str, Any]]]) -> list[tuple]:
        """Each part's pair vectors ``(v1, v2)`` (the model's output before normalisation is applied)."""
        from simsent.adapt.whitening import raw_outputs
        from simsent.evaluation.base import pair_vectors

        with raw_outputs(model):
            return [pair_vectors(model, list(p), self.batch_size, np.float64) if p else (None, None)
                    for p in parts]

    def corpus_vectors(self, encoded: list[tuple]) -> np.ndarray | None:
        return None

    def evidence(self, encoded: list[tuple], part: int, items: Sequence[Any], whitening: Any) -> np.ndarray:
        """Each pair's cosine (whitened first when ``whitening`` is ``(W, mu)``)."""
        from simsent.evaluation.sts import cosine_scores

        v1, v2 = encoded[part]
        if v1 is None:
            return np.zeros(0)
        return cosine_scores(_whiten(v1, whitening), _whiten(v2, whitening))

    def score(self, evidence: np.ndarray, items: Sequence[dict[str, Any]]) -> float:
        from simsent.evaluation.sts import correlation_metrics

        return correlation_metrics(evidence, [r["score"] for r in items])["spearman"]

    def interval(self, evidence: np.ndarray, items: Sequence[dict[str, Any]], seed: int) -> list[float]:
        from simsent.evaluation.sts import spearman_ci

        return list(spearman_ci(evidence, [r["score"] for r in items], seed=seed))

    def statistic(self, items: Sequence[dict[str, Any]]) -> Any:
        """``stat(evidence, idx)``: the Spearman x100 of each row of item indices ``idx`` (resamples)."""
        from simsent.experiments.choice import spearman_statistic

        return spearman_statistic([r["score"] for r in items])

    def measure(self, encoded: list[tuple], part: int, items: Sequence[Any], whitening: Any) -> tuple:
        """A part's evidence and its extra figures (none for pairs)."""
        return self.evidence(encoded, part, items, whitening), {}

    def encoded_texts(self, parts: Sequence[Sequence[Any]]) -> int:
        """Texts encoded to score ``parts`` once (for time estimates)."""
        return 2 * sum(len(p) for p in parts)

    def training_rows(self, recipe: Any, items: Sequence[dict[str, Any]], start_model: Any) -> list[Any]:
        """The labelled pairs a pair recipe (CoSENT, AnglE) trains on: the items themselves."""
        if recipe.trains_on != "pairs":
            raise ConfigError(f"{recipe.objective} trains on queries; give fit a queries dev file")
        return list(items)


@dataclass
class RetrievalJudge:
    """A per-query retrieval metric x100 of queries (:class:`~simsent.data.retrieval.QueryRow`) searched by
    cosine in ``corpus`` (every positive must be in it; a query's own text in it is skipped)."""

    corpus: list[str]
    metric: str = "mrr@10"
    item_word: str = "queries"
    batch_size: int = 64
    #: hard-negative mining: ranks ``mine_range_min`` to ``mine_range_max`` are candidates; a negative scores
    #: ``margin`` below its positive (:func:`simsent.search.hard_negatives.mine_hard_negatives`)
    mine_range_min: int = 1
    margin: float = 0.05
    mine_range_max: int = 50
    _position: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.metric = check_metric(self.metric)
        if self.metric == "spearman":
            raise ConfigError("--metric spearman scores pairs; a queries dev file takes a retrieval metric "
                              f"({', '.join(RETRIEVAL_METRICS)})")
        self._position = {t: i for i, t in enumerate(self.corpus)}

    @property
    def label(self) -> str:
        return _LABELS[self.metric]

    def encode(self, model: Any, parts: Sequence[Sequence[QueryRow]]) -> dict[str, Any]:
        """The corpus vectors and each part's query vectors, in one encoding pass per text list."""
        from simsent.adapt.whitening import raw_outputs

        with raw_outputs(model):
            docs = np.asarray(model.encode(self.corpus, batch_size=self.batch_size), dtype=np.float64)
            queries = [np.asarray(model.encode([r.query for r in p], batch_size=self.batch_size),
                                  dtype=np.float64) if p else None for p in parts]
        return {"corpus": docs, "queries": queries}

    def corpus_vectors(self, encoded: dict[str, Any]) -> np.ndarray:
        return encoded["corpus"]

    def _figures(self, encoded: dict[str, Any], part: int, items: Sequence[QueryRow], whitening: Any) -> dict:
        from simsent.evaluation.retrieval import per_query_figures, rank_gold

        if encoded["queries"][part] is None:
            return {}
        gold, own = self._gold_and_own(items)
        docs = _whiten(encoded["corpus"], whitening)
        ranks = rank_gold(_whiten(encoded["queries"][part], whitening), docs, gold, own)
        return per_query_figures(ranks)

    def _gold_and_own(self, items: Sequence[QueryRow]) -> tuple[list[list[int]], list[int]]:
        """Each query's positives' corpus positions, and its own text's (or -1)."""
        return ([sorted(self._position[p] for p in r.positives) for r in items],
                [self._position.get(r.query, -1) for r in items])

    def evidence(
        self, encoded: dict[str, Any], part: int, items: Sequence[QueryRow], whitening: Any
    ) -> np.ndarray:
        """Each query's value of the metric (0..1)."""
        figures = self._figures(encoded, part, items, whitening)
        return figures.get(self.metric, np.zeros(0))

    def measure(self, encoded: dict[str, Any], part: int, items: Sequence[QueryRow], whitening: Any) -> tuple:
        """A part's evidence (each query's metric) and every retrieval figure (x100, for the leaderboard),
        from one ranking of its queries."""
        figures = self._figures(encoded, part, items, whitening)
        means = {k: float(v.mean() * 100) for k, v in figures.items() if k != "mrr"}
        return figures.get(self.metric, np.zeros(0)), means

    def encoded_texts(self, parts: Sequence[Sequence[Any]]) -> int:
        return len(self.corpus) + sum(len(p) for p in parts)

    def reranked(self, encoded: dict[str, Any], part: int, items: Sequence[QueryRow], reranker: Any,
                 k: int, blend: float = 0.0) -> tuple[np.ndarray, dict[str, float], float]:
        """A part's evidence and figures (as :meth:`measure`) when ``reranker`` re-orders each query's top
        ``k`` of the first stage (``encoded``: the first stage's vectors), ``blend`` of the first stage's
        cosine blended in; and the seconds the reranker took a query."""
        stage = self.second_stage(encoded, part, items, reranker, k)
        return (*self.blended(stage, items, blend), stage["seconds"])

    def second_stage(self, encoded: dict[str, Any], part: int, items: Sequence[QueryRow], reranker: Any,
                     k: int) -> dict[str, Any]:
        """What :meth:`blended` orders a part's queries by: each query's top ``k`` corpus positions, their
        cosines, the reranker's logits of them, the first stage's gold ranks, and the reranker's seconds a
        query (scored once, blended at any weight)."""
        import time

        from simsent.evaluation.retrieval import rank_gold, top_candidates
        from simsent.modeling.inputs import unit_rows

        if encoded["queries"][part] is None:
            return {"tops": None, "seconds": 0.0}
        gold, own = self._gold_and_own(items)
        queries, docs = encoded["queries"][part], encoded["corpus"]
        tops = top_candidates(queries, docs, k, own)
        cosines = np.einsum("qd,qkd->qk", unit_rows(queries), unit_rows(docs)[tops])
        pairs = [(r.query, self.corpus[j]) for r, row in zip(items, tops, strict=True) for j in row]
        started = time.perf_counter()
        logits = np.asarray(reranker.predict(pairs, batch_size=self.batch_size, show_progress_bar=False,
                                             apply_activation=False))
        seconds = (time.perf_counter() - started) / max(1, len(items))
        return {"tops": tops, "cosines": cosines, "logits": logits.reshape(tops.shape), "gold": gold,
                "first": rank_gold(queries, docs, gold, own), "seconds": seconds}

    def blended(self, stage: dict[str, Any], items: Sequence[QueryRow],
                blend: float) -> tuple[np.ndarray, dict[str, float]]:
        """Evidence and figures of a :meth:`second_stage` ordered at ``blend``
        (:func:`simsent.search.rerank.blended_scores`)."""
        from simsent.evaluation.retrieval import per_query_figures, reranked_ranks
        from simsent.search.rerank import blended_scores

        if stage["tops"] is None:
            return np.zeros(0), {}
        order = blended_scores(stage["cosines"], stage["logits"], blend)
        figures = per_query_figures(reranked_ranks(stage["first"], stage["tops"], order, stage["gold"]))
        means = {k_: float(v.mean() * 100) for k_, v in figures.items() if k_ != "mrr"}
        return figures[self.metric], means

    def training_rows(self, recipe: Any, items: Sequence[QueryRow], start_model: Any,
                      negatives: int = 1) -> list[dict[str, Any]]:
        """What a recipe trains on from FAQ query rows: (anchor, positive[, negative]) rows, one per positive
        (negatives from the file first, else mined from the corpus by ``start_model`` with
        ``recipe.hard_negatives``), or 1/0 scored pairs from positives and negatives (CoSENT, AnglE).
        With ``negatives`` > 1 a row also gets a ``negatives`` list of up to that many (a reranker's
        listwise group): the query's own from the file, then mined ones."""
        if recipe.trains_on == "pairs":
            return [{"sentence1": r.query, "sentence2": t, "score": float(label)}
                    for r in items for label, texts in ((1, r.positives), (0, r.negatives)) for t in texts]
        rows = [{"anchor": r.query, "positive": p} for r in items for p in r.positives]
        if not recipe.hard_negatives:
            return rows
        return self._with_negatives(rows, items, start_model, negatives)

    def _with_negatives(self, rows: list[dict], items: Sequence[QueryRow], model: Any,
                        count: int) -> list[dict]:
        """Each row's negative: the query's own (from the file) when it has one, else one mined from the
        corpus by ``model`` that is none of the query's positives (false-negative margin ``margin``); with
        ``count`` > 1 also its ``negatives``, the query's own first."""
        from simsent.search.hard_negatives import mine_hard_negatives

        by_query = {r.query: r for r in items}
        others = [by_query[r["anchor"]].positives for r in rows]
        mined, _ = mine_hard_negatives(model, rows, self.corpus, range_min=self.mine_range_min,
                                       range_max=self.mine_range_max, margin=self.margin,
                                       batch_size=self.batch_size, exclude=others, num_negatives=count)
        out, used = [], dict.fromkeys(by_query, 0)
        for row in mined:
            own = by_query[row["anchor"]]
            given = own.negatives[used[own.query] % len(own.negatives)] if own.negatives else None
            used[own.query] += 1
            out.append({**row, "negative": given or row["negative"]})
            if count > 1:
                out[-1]["negatives"] = list(dict.fromkeys([*own.negatives, *row["negatives"]]))[:count]
        return out

    def score(self, evidence: np.ndarray, items: Sequence[QueryRow]) -> float:
        return float(np.mean(evidence) * 100) if len(evidence) else float("nan")

    def interval(self, evidence: np.ndarray, items: Sequence[QueryRow], seed: int) -> list[float]:
        return _bootstrap_ci(np.asarray(evidence, dtype=np.float64), seed)

    def statistic(self, items: Sequence[QueryRow]) -> Any:
        """``stat(evidence, idx)``: the metric x100 over each row of query indices ``idx`` (resamples)."""
        return lambda evidence, idx: np.asarray(evidence, dtype=np.float64)[idx].mean(axis=1) * 100
