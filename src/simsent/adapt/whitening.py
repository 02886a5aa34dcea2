"""BERT-whitening (Su et al. 2021): ``x -> (x - mu) @ W[:, :k]`` with ``W = U diag(1/sqrt(S))``.

``mu`` is the corpus mean and ``U, S`` come from the SVD of the corpus covariance (``np.cov``,
divisor ``n - 1``), all in float64. Keeping the first ``k`` columns keeps the ``k`` directions
of largest variance.

Rank-deficient corpora (fewer sentences than dimensions, or collinear vectors) have
singular values that are (numerically) zero. To stay finite the fit uses
``S_reg = max(S, 0) + eps * max(S)``: ``eps`` is *relative* to the largest singular value, so
the result does not depend on the scale of the vectors. With the default ``eps=1e-6`` the
result differs from the textbook formula only in directions with almost no variance. With
``eps=0`` a singular covariance raises :class:`~simsent.errors.DataError` instead. When ``k``
exceeds the rank, a warning says so (those extra dimensions are noise amplified by
``1/sqrt(eps)``; choose ``dim <= n_sentences - 1``).

Example:
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(100, 8))
    >>> W, mu = fit_whitening(x, dim=4)
    >>> y = apply_whitening(x, W, mu)
    >>> y.shape, bool(np.allclose(np.cov(y.T), np.eye(4), atol=1e-6))
    ((100, 4), True)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent.errors import ConfigError, DataError, check_number

if TYPE_CHECKING:
    from simsent.modeling.sentence_encoder import SentenceEncoder

logger = logging.getLogger(__name__)

#: default relative regularisation added to the singular values
DEFAULT_EPS = 1e-6


def fit_whitening(
    vectors: np.ndarray, dim: int | None = None, eps: float = DEFAULT_EPS
) -> tuple[np.ndarray, np.ndarray]:
    """Fit BERT-whitening on ``vectors`` (n, d); returns ``(W, mu)`` with W (d, k) and mu (d,).

    Args:
        vectors: corpus vectors, one per row (any float dtype; computed in float64).
        dim: keep the ``k`` leading directions (``None``: all ``d``).
        eps: relative regulariser, ``S + eps * max(S)``; ``0`` makes a singular covariance an error.
    """
    check_number("eps", eps, minimum=0)
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2:
        raise DataError(f"whitening needs a 2-D array of vectors, got shape {x.shape}")
    n, d = x.shape
    if n < 2:
        raise DataError(f"whitening needs at least 2 sentences in the corpus, got {n}")
    if not np.all(np.isfinite(x)):
        raise DataError("whitening corpus vectors contain NaN or inf")
    k = d if dim is None else int(dim)
    if not 1 <= k <= d:
        raise ConfigError(f"whitening dim must be between 1 and {d} (the vector size), got {dim}")
    if eps < 0:
        raise ConfigError(f"whitening eps must be >= 0, got {eps}")
    mu = x.mean(axis=0)
    cov = np.cov(x.T).reshape(d, d)
    u, s, _ = np.linalg.svd(cov)
    s = np.clip(s, 0.0, None)
    top = s[0] if len(s) else 0.0
    if top <= 0:
        raise DataError("whitening corpus has zero variance (all vectors equal); use different sentences")
    rank = int(np.sum(s > top * max(d, n) * np.finfo(np.float64).eps))
    if eps == 0 and s[k - 1] <= top * max(d, n) * np.finfo(np.float64).eps:
        raise DataError(
            f"whitening covariance is singular (rank {rank} < dim {k}, from {n} sentences); "
            "use more sentences than dimensions, a smaller --dim, or eps > 0"
        )
    if k > rank:
        warn_once(
            logger,
            "whitening: dim %d exceeds the corpus rank %d (%d sentences, %d dims); the extra directions are "
            "regularised by eps=%g but carry no signal: use dim <= %d or a larger corpus",
            k, rank, n, d, eps, rank,
        )
    w = u[:, :k] / np.sqrt(s[:k] + eps * top)
    return w, mu


def apply_whitening(vectors: np.ndarray, W: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``(vectors - mu) @ W`` in float64."""
    x = np.asarray(vectors, dtype=np.float64)
    return (x - np.asarray(mu, dtype=np.float64)) @ np.asarray(W, dtype=np.float64)


def whitening_layer(W: np.ndarray, mu: np.ndarray) -> Any:
    """A ``DenseLayer`` computing ``(x - mu) @ W`` (weight ``W.T``, bias ``-mu @ W``)."""
    import torch

    from simsent.modeling.dense import DenseLayer

    weight = torch.as_tensor(np.ascontiguousarray(W.T), dtype=torch.float32)
    bias = torch.as_tensor(-np.asarray(mu) @ W, dtype=torch.float32)
    return DenseLayer.from_weights(weight=weight, bias=bias, activation="identity")


@contextmanager
def raw_outputs(model: Any) -> Iterator[Any]:
    """``model`` with normalisation off for the block: vectors as a whitening layer would receive them.

    Example:
        >>> with raw_outputs(model):                                      # doctest: +SKIP
        ...     vecs = model.encode(texts)
    """
    normalize, model.normalize = model.normalize, False
    try:
        yield model
    finally:
        model.normalize = normalize


def whiten_model(
    model: SentenceEncoder,
    corpus_texts: Sequence[str],
    dim: int | None = None,
    eps: float = DEFAULT_EPS,
    batch_size: int = 64,
) -> Any:
    """Fit whitening on ``model``'s vectors of ``corpus_texts`` and append it to ``model.dense``.

    The layer is applied after any existing dense layers (and before normalisation), so the
    saved sentence-transformers pipeline applies it too. Returns ``model`` (modified in place).

    Example:
        >>> model = SentenceEncoder.load("bert-base-chinese")       # doctest: +SKIP
        >>> model = whiten_model(model, sentences, dim=256)         # doctest: +SKIP
    """
    texts = [t for t in corpus_texts if isinstance(t, str) and t.strip()]
    if len(set(texts)) < 2:
        raise DataError(f"whitening needs at least 2 distinct sentences; the corpus has {len(texts)} "
                        f"sentence(s), {len(set(texts))} distinct")
    with raw_outputs(model):  # fit on what the new layer will receive
        vecs = np.asarray(model.encode(texts, batch_size=batch_size, convert_to_numpy=True), dtype=np.float64)
    W, mu = fit_whitening(vecs, dim=dim, eps=eps)
    layer = whitening_layer(W, mu).to(model.device)
    model.dense.append(layer)
    model.extra_config["whitening"] = {"dim": int(W.shape[1]), "corpus_sentences": len(texts), "eps": eps}
    logger.info("whitening fitted on %d sentences: %d -> %d dims", len(texts), W.shape[0], W.shape[1])
    return model


_WARNED: set[tuple[str, str]] = set()


def warn_once(logger: logging.Logger, message: str, *args: object) -> None:
    """Log ``message`` as a warning the first time this process meets it (by its template), later at
    DEBUG: a run that whitens many candidates says a rank warning once, not once per candidate.

    Example:
        >>> warn_once(logging.getLogger("simsent.demo"), "dim %d exceeds the rank", 300)
    """
    key = (logger.name, message)
    if key in _WARNED:
        logger.debug(message, *args)
        return
    _WARNED.add(key)
    logger.warning(message + " (said once per run)", *args)
