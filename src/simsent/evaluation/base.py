"""The evaluator protocol: a callable on a model returning a dict of metrics with one primary metric.

Like sentence-transformers' ``SentenceEvaluator``: an evaluator only calls ``model.encode``; the
trainer keeps the checkpoint whose ``primary_metric`` is best (higher when ``greater_is_better``).

Example:
    >>> ev = SequentialEvaluator([STSEvaluator(a, name="a"), STSEvaluator(b, name="b")])  # doctest: +SKIP
    >>> ev(model)["spearman"]         # the mean of the parts' primary metrics     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from simsent.modeling.inputs import Embedder


@runtime_checkable
class Evaluator(Protocol):
    """What the trainer and the experiment runners call."""

    name: str
    primary_metric: str
    greater_is_better: bool

    def __call__(self, model: Embedder) -> dict[str, float]: ...


class SequentialEvaluator:
    """Run several evaluators; metrics are prefixed by each one's name, the primary is their mean.

    Args:
        evaluators: the parts (each with ``name`` and ``primary_metric``).
        primary_metric: name of the averaged primary metric (default: the first part's).
    """

    greater_is_better = True

    def __init__(self, evaluators: Sequence[Any], primary_metric: str | None = None) -> None:
        if not evaluators:
            raise ValueError("SequentialEvaluator needs at least one evaluator")
        self.evaluators = list(evaluators)
        self.primary_metric = primary_metric or self.evaluators[0].primary_metric
        self.name = "+".join(e.name for e in self.evaluators)

    def __call__(self, model: Embedder) -> dict[str, float]:
        out: dict[str, float] = {}
        primaries = []
        for ev in self.evaluators:
            metrics = ev(model)
            out.update({f"{ev.name}/{k}": v for k, v in metrics.items()})
            primaries.append(metrics[ev.primary_metric])
        out[self.primary_metric] = float(np.nanmean(primaries)) if primaries else float("nan")
        return out


def pair_vectors(
    model: Embedder, rows: Sequence[dict[str, Any]], batch_size: int = 64, dtype: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Vectors of ``sentence1`` and ``sentence2`` of each pair; each distinct sentence is encoded once.

    Example:
        >>> v1, v2 = pair_vectors(model, [{"sentence1": "a", "sentence2": "b"}])  # doctest: +SKIP
    """
    s1 = [r["sentence1"] for r in rows]
    s2 = [r["sentence2"] for r in rows]
    uniq = list(dict.fromkeys(s1 + s2))
    vecs = np.asarray(model.encode(uniq, batch_size=batch_size, convert_to_numpy=True), dtype=dtype)
    index = {s: i for i, s in enumerate(uniq)}
    return vecs[[index[s] for s in s1]], vecs[[index[s] for s in s2]]
