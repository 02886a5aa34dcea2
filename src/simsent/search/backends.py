"""Search backends: faiss (exact, HNSW, IVF-PQ) and exact NumPy, behind small functions.

:class:`~simsent.search.index.VectorIndex` keeps records and persistence; this module builds,
tunes and queries the vector structures.

Example:
    >>> params = {"hnsw_m": 32, "ef_construction": 200, "ef_search": 64}
    >>> idx = new_faiss_index("hnsw", 384, params)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simsent.errors import ConfigError

BACKENDS = ("exact", "hnsw", "ivfpq", "binary")


def import_faiss(required: bool = True) -> Any:
    """Import faiss, or raise a one-line error naming the extra (``None`` when not ``required``)."""
    try:
        import faiss
    except ImportError as exc:
        if required:
            raise ConfigError("this index backend needs faiss: pip install simsent[faiss]") from exc
        return None
    return faiss




def default_pq_m(dim: int) -> int:
    """Largest divisor of ``dim`` giving sub-vectors of at least 8 dimensions (384 -> 48)."""
    for m in range(max(1, dim // 8), 0, -1):
        if dim % m == 0:
            return m
    return 1


def default_nlist(rows: int) -> int:
    """IVF cells for an index of ``rows`` vectors when ``nlist`` is not given: 4 x sqrt(rows), 1 to 65,536.

    Example:
        >>> default_nlist(65536), default_nlist(0)
        (1024, 4)
    """
    return max(1, min(65536, int(4 * math.sqrt(max(1, rows)))))


def new_faiss_index(
    backend: str, dim: int, params: dict[str, Any], n_train: int | None = None, expected: int | None = None
) -> Any:
    """A faiss index of ``backend`` for inner-product search; IVF-PQ parameters adapt to ``n_train``
    (``params`` is updated with the ``nlist`` and ``nbits`` chosen)."""
    faiss = import_faiss()
    p = params
    if backend == "exact":
        return faiss.IndexFlatIP(dim)
    if backend == "binary":  # sign bits, Hamming distance; rescored from int8 vectors (search.quantize)
        return faiss.IndexBinaryFlat(dim)
    if backend == "hnsw":
        idx = faiss.IndexHNSWFlat(dim, int(p["hnsw_m"]), faiss.METRIC_INNER_PRODUCT)
        idx.hnsw.efConstruction = int(p["ef_construction"])
        idx.hnsw.efSearch = int(p["ef_search"])
        return idx
    # ivfpq: parameters adapted to the amount of training data
    n = int(n_train or 0)
    nlist = p["nlist"] or default_nlist(expected or n or 1)
    nlist = max(1, min(nlist, n // 39 if n >= 39 else 1))
    nbits = int(min(p["nbits"], max(1, int(math.log2(max(2, n))) - 1)))
    p["nlist"], p["nbits"] = nlist, nbits
    quantizer = faiss.IndexFlatIP(dim)  # the faiss wrappers keep Python references alive
    ivf = faiss.IndexIVFPQ(quantizer, dim, nlist, int(p["pq_m"]), nbits, faiss.METRIC_INNER_PRODUCT)
    if not p["refine"]:
        return ivf
    idx = faiss.IndexRefineFlat(ivf)
    idx.k_factor = float(p["refine"])
    return idx


def apply_search_params(index: Any, backend: str, params: dict[str, Any]) -> None:
    """Set the search-time parameters (efSearch, nprobe, refine factor) on a faiss index."""
    if backend == "hnsw":
        index.hnsw.efSearch = int(params["ef_search"])
    elif backend == "ivfpq":
        faiss = import_faiss()
        faiss.ParameterSpace().set_index_parameter(index, "nprobe", int(params["nprobe"]))
        if params["refine"]:
            faiss.downcast_index(index).k_factor = float(params["refine"])


def numpy_search(mat: np.ndarray, q: np.ndarray, k: int, block: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` inner products of queries ``q`` against ``mat`` in blocks; (scores, positions),
    padded with NaN / -1 when ``mat`` has fewer than ``k`` rows."""


    kk = min(k, len(mat))
    best_s = np.full((len(q), 0), -np.inf, dtype=np.float32)
    best_p = np.zeros((len(q), 0), dtype=np.int64)
    for start in range(0, len(mat), block):
        s = q @ mat[start : start + block].T
        kb = min(kk, s.shape[1])
        part = np.argpartition(-s, kb - 1, axis=1)[:, :kb]
        best_s = np.concatenate([best_s, np.take_along_axis(s, part, 1)], axis=1)
        best_p = np.concatenate([best_p, part + start], axis=1)
        if best_s.shape[1] > kk:
            keep = np.argpartition(-best_s, kk - 1, axis=1)[:, :kk]
            best_s, best_p = np.take_along_axis(best_s, keep, 1), np.take_along_axis(best_p, keep, 1)
    order = np.argsort(-best_s, axis=1, kind="stable")
    best_s, best_p = np.take_along_axis(best_s, order, 1), np.take_along_axis(best_p, order, 1)
    if kk < k:
        pad = k - kk
        best_s = np.concatenate([best_s, np.full((len(q), pad), np.nan, np.float32)], axis=1)
        best_p = np.concatenate([best_p, np.full((len(q), pad), -1, np.int64)], axis=1)
    return best_s, best_p
