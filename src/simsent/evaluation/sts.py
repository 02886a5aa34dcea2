"""STS evaluation: Spearman (primary) and Pearson of cosine similarity against gold labels.

Like sentence-transformers' ``EmbeddingSimilarityEvaluator``, an evaluator only calls
``model.encode`` and returns a dict of metrics with one primary metric.

Example:
    >>> ev = STSEvaluator(rows, name="STS-B", positive_threshold=4.0)  # doctest: +SKIP
    >>> ev(model)["spearman"]                                          # doctest: +SKIP
    68.1
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import pearsonr, spearmanr

from simsent.evaluation.base import pair_vectors
from simsent.evaluation.geometry import alignment, uniformity

if TYPE_CHECKING:
    from simsent.modeling.inputs import Embedder

logger = logging.getLogger(__name__)


def cosine_scores(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two (n, d) arrays."""
    from simsent.modeling.inputs import unit_rows

    return np.sum(unit_rows(a, np.float64) * unit_rows(b, np.float64), axis=1)


def correlation_metrics(scores: np.ndarray, gold: Sequence[float]) -> dict[str, float]:
    """Spearman and Pearson (x100) of similarity scores vs gold labels, and the pair count.

    Example:
        >>> correlation_metrics(np.array([0.1, 0.5, 0.9]), [0, 1, 2])["spearman"]
        100.0
    """
    scores = np.asarray(scores, dtype=np.float64)
    gold = np.asarray(gold, dtype=np.float64)
    why = undefined_reason(scores, gold)
    if why:
        return {"spearman": float("nan"), "pearson": float("nan"), "pairs": int(len(gold)), "undefined": why}
    spear = float(spearmanr(scores, gold).statistic) * 100
    pear = float(pearsonr(scores, gold).statistic) * 100
    return {"spearman": spear, "pearson": pear, "pairs": int(len(gold))}


#: similarity scores closer than this are one value (float32 rounding of equal vectors)
SCORE_TIES = 1e-6


def undefined_reason(scores: np.ndarray, gold: np.ndarray) -> str | None:
    """Why a correlation of ``scores`` with ``gold`` is undefined (``None``: it is defined).

    Example:
        >>> undefined_reason(np.array([0.3, 0.3 + 1e-8]), np.array([0.0, 1.0]))
        'every pair got the same similarity score (the model gives these texts one vector)'
    """
    if len(gold) < 2:
        return "fewer than 2 pairs"
    if np.ptp(gold) == 0:
        return f"every label is {gold[0]:g}, so nothing can be ranked"
    if not np.all(np.isfinite(scores)) or np.ptp(scores) <= SCORE_TIES:
        return "every pair got the same similarity score (the model gives these texts one vector)"
    return None


def spearman_ci(
    scores: np.ndarray, gold: Sequence[float], n_boot: int = 500, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Bootstrap confidence interval (percentile, pairs resampled) of Spearman x 100, by
    ``scipy.stats.bootstrap``; NaN when the score itself is undefined or the resamples degenerate.

    Example:
        >>> lo, hi = spearman_ci(np.arange(50.0), np.arange(50.0) % 7)
        >>> lo < hi
        True
    """
    import warnings

    from scipy.stats import bootstrap

    scores = np.asarray(scores, dtype=np.float64)
    gold = np.asarray(gold, dtype=np.float64)
    if undefined_reason(scores, gold):  # no interval around an undefined score
        return float("nan"), float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a degenerate resample gives NaN, reported as such
        res = bootstrap((scores, gold), _spearman_along, paired=True, vectorized=True, n_resamples=n_boot,
                        confidence_level=level, method="percentile", rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _spearman_along(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman x 100 of ``x`` and ``y`` along ``axis`` (NaN where either is constant)."""
    from scipy.stats import rankdata

    rx = rankdata(x, axis=axis)
    ry = rankdata(y, axis=axis)
    rx = rx - rx.mean(axis=axis, keepdims=True)
    ry = ry - ry.mean(axis=axis, keepdims=True)
    denom = np.sqrt((rx**2).sum(axis=axis) * (ry**2).sum(axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (rx * ry).sum(axis=axis) / denom * 100, np.nan)


def tfidf_pair_scores(
    train_texts: Sequence[str], rows: Sequence[dict[str, Any]], ngram_range: tuple[int, int] = (1, 3)
) -> np.ndarray:
    """Cosine of character n-gram TF-IDF vectors (fitted on ``train_texts``) for each pair of ``rows``.

    The lexical baseline of the result tables. The vectors stay sparse (a dense copy of 10k pairs x
    100k n-grams would take gigabytes); rows are L2-normalised by the vectoriser, so the row-wise dot
    product is the cosine.

    Example:
        >>> tfidf_pair_scores(["今天天气", "明天"], [{"sentence1": "今天", "sentence2": "今天"}]).round(3)
        array([1.])
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char", ngram_range=tuple(ngram_range), sublinear_tf=True, norm="l2")
    vec.fit(list(train_texts))
    a = vec.transform([r["sentence1"] for r in rows])
    b = vec.transform([r["sentence2"] for r in rows])
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


def sts_metrics(
    vec1: np.ndarray, vec2: np.ndarray, gold: Sequence[float], positive_threshold: float | None = None
) -> dict[str, float]:
    """Spearman and Pearson (x100) of cosine vs gold; alignment/uniformity when a threshold is given."""
    out = correlation_metrics(cosine_scores(vec1, vec2), gold)
    gold = np.asarray(gold, dtype=np.float64)
    if positive_threshold is not None:
        pos = gold >= positive_threshold
        out["alignment"] = alignment(vec1[pos], vec2[pos])
        out["uniformity"] = uniformity(np.concatenate([vec1, vec2]))
    return out


class STSEvaluator:
    """Evaluate a model on scored pairs.

    Args:
        rows: dicts with ``sentence1``, ``sentence2``, ``score``.
        name: task name used in logs and result keys.
        positive_threshold: gold label at or above which a pair is a positive for alignment;
            ``None`` skips the geometry metrics.
        batch_size: encode batch size.
    """

    primary_metric = "spearman"
    greater_is_better = True

    def __init__(
        self,
        rows: Sequence[dict[str, Any]],
        name: str = "sts",
        positive_threshold: float | None = None,
        batch_size: int = 64,
    ) -> None:
        self.rows = list(rows)
        self.name = name
        self.positive_threshold = positive_threshold
        self.batch_size = batch_size

    @classmethod
    def from_task(
        cls,
        task: str,
        split: str = "valid",
        data_dir: str | None = None,
        max_pairs: int | None = None,
        seed: int = 42,
        **kwargs: Any,
    ) -> STSEvaluator:
        """An evaluator on one Chinese STS task split (a seeded subset of ``max_pairs`` pairs).

        Example:
            >>> ev = STSEvaluator.from_task("STS-B", "valid", "data/senteval_cn")  # doctest: +SKIP
        """
        from simsent.data.sampling import seeded_subset
        from simsent.data.tasks import check_task, load_task, positive_threshold, resolve_data_dir

        task = check_task(task)
        rows = seeded_subset(load_task(task, split, resolve_data_dir(data_dir)), max_pairs, seed)
        return cls(rows, name=task, positive_threshold=positive_threshold(task), **kwargs)

    def __call__(self, model: Embedder) -> dict[str, float]:
        v1, v2 = pair_vectors(model, self.rows, self.batch_size)
        metrics = sts_metrics(v1, v2, [r["score"] for r in self.rows], self.positive_threshold)
        if "undefined" in metrics:
            logger.warning("%s: spearman undefined: %s", self.name, metrics["undefined"])
            return metrics
        logger.info(
            "%s: spearman %.2f pearson %.2f (%d pairs)",
            self.name,
            metrics["spearman"],
            metrics["pearson"],
            metrics["pairs"],
        )
        return metrics


def summarize(per_task: dict[str, dict[str, float]]) -> dict[str, float]:
    """Mean and pair-count-weighted mean of Spearman over tasks."""
    vals = [(m["spearman"], m["pairs"]) for m in per_task.values() if not np.isnan(m["spearman"])]
    if not vals:
        return {"mean_spearman": float("nan"), "weighted_spearman": float("nan")}
    s = np.array([v for v, _ in vals])
    w = np.array([n for _, n in vals], dtype=np.float64)
    return {"mean_spearman": float(s.mean()), "weighted_spearman": float((s * w).sum() / w.sum())}


def to_markdown(per_task: dict[str, dict[str, float]], title: str = "STS evaluation") -> str:
    """A Markdown table of per-task metrics plus the mean rows."""
    lines = [
        f"## {title}",
        "",
        "| task | pairs | spearman | pearson | alignment | uniformity |",
        "|---|---:|---:|---:|---:|---:|",
    ]

    def fmt(v: Any) -> str:
        return (
            "-"
            if v is None or (isinstance(v, float) and np.isnan(v))
            else f"{v:.2f}"
            if isinstance(v, float)
            else str(v)
        )

    for task, m in per_task.items():
        lines.append(
            f"| {task} | {m['pairs']} | {fmt(m['spearman'])} | {fmt(m['pearson'])} | "
            f"{fmt(m.get('alignment'))} | {fmt(m.get('uniformity'))} |"
        )
    summary = summarize(per_task)
    lines.append(f"| mean | | {fmt(summary['mean_spearman'])} | | | |")
    lines.append(f"| weighted mean | | {fmt(summary['weighted_spearman'])} | | | |")
    notes = [f"- {task}: spearman undefined: {m['undefined']}" for task, m in per_task.items()
             if "undefined" in m]
    if notes:
        lines += ["", "`-`: undefined, left out of the means.", *notes]
    return "\n".join(lines) + "\n"
