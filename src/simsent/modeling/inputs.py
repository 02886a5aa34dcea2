"""What every encoder backend (torch, ONNX) does the same way around its forward passes: checking the
texts, visiting them longest first, and cosine similarity from ``encode``.

Example:
    >>> check_texts("你好")
    (['你好'], True)
    >>> length_order(["a", "abc", "ab"]).tolist()
    [1, 2, 0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from simsent.errors import DataError


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


def cosine_similarity(
    model: Any, a: str | Sequence[str], b: str | Sequence[str], batch_size: int = 32
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
