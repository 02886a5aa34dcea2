"""Alignment and uniformity of embeddings (Wang & Isola 2020), on L2-normalised vectors.

* alignment = E ||f(x) - f(x+)||^2 over positive pairs (lower is better)
* uniformity = log E exp(-2 ||f(x) - f(y)||^2) over all pairs of distinct vectors (lower is better)

Example:
    >>> import numpy as np
    >>> a = np.eye(3, dtype=np.float32)
    >>> round(alignment(a, a), 6)
    0.0
"""

from __future__ import annotations

import numpy as np


def _unit(x: np.ndarray) -> np.ndarray:
    from simsent.modeling.inputs import unit_rows

    return unit_rows(x, np.float64)


def alignment(x: np.ndarray, y: np.ndarray) -> float:
    """Mean squared distance between the rows of ``x`` and ``y`` (positive pairs), after L2-norm."""
    if len(x) == 0:
        return float("nan")
    d = _unit(x) - _unit(y)
    return float(np.mean(np.sum(d * d, axis=1)))


def uniformity(x: np.ndarray, t: float = 2.0, max_vectors: int = 5000, seed: int = 0) -> float:
    """``log mean exp(-t ||x_i - x_j||^2)`` over pairs i < j (a seeded sample above ``max_vectors``)."""
    x = _unit(x)
    if len(x) > max_vectors:
        x = x[np.random.default_rng(seed).choice(len(x), max_vectors, replace=False)]
    n = len(x)
    if n < 2:
        return float("nan")
    sq = np.clip(2.0 - 2.0 * (x @ x.T), 0.0, None)
    iu = np.triu_indices(n, k=1)
    vals = -t * sq[iu]
    m = vals.max()
    return float(m + np.log(np.mean(np.exp(vals - m))))
