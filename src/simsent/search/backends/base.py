"""The protocol every index backend follows, and the pieces backends share (faiss import, NumPy top-k).

A backend holds the vectors of an index and nothing else: :class:`~simsent.search.index.VectorIndex`
keeps the records, the model identity and the folder. A new backend is one file: a subclass of
:class:`IndexBackend` registered in :mod:`simsent.search.backends`.

Example:
    >>> import numpy as np
    >>> numpy_search(np.eye(3, dtype=np.float32), np.array([[0.9, 0.1, 0.0]], np.float32), 2)[1].tolist()
    [[0, 1]]
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np

from simsent.errors import ConfigError

FAISS_FILE = "vectors.faiss"


class IndexBackend:
    """Vectors of one index: ``add`` unit rows, ``search`` by inner product, ``save``/``load`` a folder.

    Subclasses set ``name`` and implement the methods that raise ``NotImplementedError``. ``params``
    is the index's parameter dict (shared with the index, so that choices made while building, such
    as IVF cells, are saved with it).
    """

    name: ClassVar[str] = ""
    needs_faiss: ClassVar[bool] = True

    def __init__(self, dim: int, params: dict[str, Any]) -> None:
        self.check(dim, params)
        self.dim = dim
        self.params = params

    @classmethod
    def check(cls, dim: int, params: dict[str, Any]) -> None:
        """Raise :class:`ConfigError` when ``params`` cannot build this backend at ``dim``."""

    def expect_rows(self, n: int) -> None:
        """A hint of how many rows will come (IVF sizes its cells from it)."""

    def add(self, vectors: np.ndarray) -> None:
        """Add unit vectors (float32, shape ``(n, dim)``)."""
        raise NotImplementedError

    def finish(self) -> None:
        """Train or calibrate on the vectors held back for it, then add them (a no-op by default)."""

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, positions) of unit ``queries``; missing hits are ``nan`` / ``-1``."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def save(self, folder: str) -> None:
        """Write the vectors' files into ``folder``."""
        raise NotImplementedError

    @classmethod
    def load(cls, folder: str, dim: int, params: dict[str, Any]) -> IndexBackend:
        """The backend saved in ``folder``."""
        raise NotImplementedError

    def bytes_per_row(self) -> int:
        """Bytes a row takes in memory (and about as much on disk): for sizing and free-space checks."""
        return 4 * self.dim


def import_faiss(required: bool = True) -> Any:
    """Import faiss, or raise a one-line error naming the extra (``None`` when not ``required``)."""
    try:
        import faiss
    except ImportError as exc:
        if required:
            raise ConfigError("this index backend needs faiss: pip install simsent[faiss]") from exc
        return None
    return faiss


def read_faiss(folder: str, binary: bool = False) -> Any:
    """The faiss index saved in ``folder`` (``None`` when none was written, e.g. an empty IVF index)."""
    path = os.path.join(folder, FAISS_FILE)
    if not os.path.isfile(path):
        return None
    faiss = import_faiss()
    return faiss.read_index_binary(path) if binary else faiss.read_index(path)


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

