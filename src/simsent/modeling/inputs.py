"""What every encoder backend (torch, ONNX) does the same way around its forward passes: checking the
texts, cutting them into batches of similar length, and cosine similarity from ``encode``.

Example:
    >>> check_texts("你好")
    (['你好'], True)
    >>> length_order(["a", "abc", "ab"]).tolist()
    [1, 2, 0]
    >>> [b.tolist() for b in length_batches(["a" * 40, "b", "cc", "d" * 39], batch_size=2)]
    [[0, 3], [2, 1]]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from simsent.errors import ConfigError, DataError


class Embedder(Protocol):
    """What the evaluators, the index, the service and calibration need of a model: ``encode`` with
    sentence-transformers' keywords and the vector width (a :class:`~simsent.SentenceEncoder`, its ONNX
    twin, or a ``SentenceTransformer``)."""

    def encode(self, sentences: Any, batch_size: int = 32, **kwargs: Any) -> Any: ...

    def get_sentence_embedding_dimension(self) -> int: ...


def check_texts(sentences: str | Sequence[str]) -> tuple[list[str], bool]:
    """The texts as a list, and whether a single string was given; anything not a string is an error."""
    single = isinstance(sentences, str)
    texts = [sentences] if single else list(sentences)
    bad = next((t for t in texts if not isinstance(t, str)), None)
    if bad is not None:
        raise DataError(f"encode() takes strings; got {type(bad).__name__}")
    return texts, single


def length_order(texts: Sequence[str]) -> np.ndarray:
    """Indices of ``texts``, longest first (stable): batches of similar length pad little."""
    return np.argsort([-len(t) for t in texts], kind="stable")


#: the fixed cost of one forward pass on a CPU, in padded characters (chosen by measurement:
#: results/defaults.md)
PASS_COST_CHARS = 64
#: on a GPU a pass costs its kernel launches and padding is nearly free: small calls stay whole
GPU_PASS_COST_CHARS = 4096


def length_batches(
    texts: Sequence[str], batch_size: int = 32, pass_cost: int = PASS_COST_CHARS
) -> list[np.ndarray]:
    """The indices of ``texts`` in batches of at most ``batch_size``, longest first, cut where padding
    would cost more than another pass.

    A batch is padded to its longest text. For up to four batches' worth of texts (a service's
    micro-batch, a query), the cuts over the texts sorted by length minimise the padded characters
    plus ``pass_cost`` per batch (dynamic programming over contiguous runs): twenty mixed-length
    texts give a few tight batches instead of one padded to the longest. Longer inputs are cut into
    full batches of the sorted order, where neighbours are already of similar length.
    """
    order = length_order(texts)
    n, size = len(order), max(1, int(batch_size))
    if n > 4 * size:
        return [order[i : i + size] for i in range(0, n, size)]
    lengths = [max(1, len(texts[i])) for i in order]
    best = [0.0] + [float("inf")] * n  # best[j]: cheapest cover of the first j sorted texts
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(max(0, j - size), j):
            cost = best[i] + pass_cost + (j - i) * lengths[i]  # lengths[i]: longest of the run i..j-1
            if cost <= best[j]:  # ties: the later cut, so full batches come first
                best[j], cut[j] = cost, i
    bounds, j = [], n
    while j > 0:
        bounds.append((cut[j], j))
        j = cut[j]
    return [order[i:j] for i, j in reversed(bounds)]


def unit_rows(x: np.ndarray, dtype: Any = np.float32) -> np.ndarray:
    """Each row of ``x`` scaled to length 1 (all-zero rows stay zero), as ``dtype``.

    Example:
        >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
        [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    x = np.ascontiguousarray(x, dtype=dtype)
    return x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)


def prefix_rows(x: np.ndarray, dim: int | None) -> np.ndarray:
    """The first ``dim`` components of each row, scaled to length 1 (all of ``x`` when ``dim`` is None):
    a Matryoshka prefix of unit vectors.

    Example:
        >>> [round(float(v), 4) for v in prefix_rows(np.array([[3.0, 4.0, 12.0]]), 2)[0]]
        [0.6, 0.8]
    """
    return x if dim is None else unit_rows(np.asarray(x)[:, :dim])


def check_prefix(model: Any, dim: int) -> None:
    """Refuse a prefix ``dim`` wider than ``model``'s vectors (one line); warn when the model was trained
    (Matryoshka) for other prefixes."""
    width = int(model.get_sentence_embedding_dimension())
    if not 0 < dim <= width:
        raise ConfigError(f"--dim {dim}: the model gives {width}-dimensional vectors")
    trained = getattr(model, "extra_config", {}).get("matryoshka_dims")
    if trained and dim not in trained and dim < width:
        logging.getLogger(__name__).warning("the model was trained for prefixes of %s dimensions, not %d",
                                            trained, dim)


def cosine_similarity(
    model: Embedder, a: str | Sequence[str], b: str | Sequence[str], batch_size: int = 32
) -> float | np.ndarray:
    """Cosine similarity via ``model.encode``: a float for two strings, else the (len(a), len(b)) matrix."""
    va = model.encode(
        [a] if isinstance(a, str) else list(a), batch_size=batch_size, normalize_embeddings=True
    )
    vb = model.encode(
        [b] if isinstance(b, str) else list(b), batch_size=batch_size, normalize_embeddings=True
    )
    sims = va @ vb.T
    return float(sims[0, 0]) if isinstance(a, str) and isinstance(b, str) else sims
