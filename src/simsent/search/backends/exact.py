"""Exact search: every vector compared with the query, by faiss (``IndexFlatIP``) or by NumPy.

Example:
    >>> import numpy as np
    >>> b = NumpyExact(2, {})
    >>> b.add(np.array([[1.0, 0.0], [0.0, 1.0]], np.float32))
    >>> b.search(np.array([[0.0, 1.0]], np.float32), 1)[1].tolist()
    [[1]]
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from simsent.search.backends.base import FAISS_FILE, IndexBackend, import_faiss, numpy_search, read_faiss

NUMPY_FILE = "vectors.npy"


class FaissExact(IndexBackend):
    """Brute-force inner product with ``faiss.IndexFlatIP``."""

    name = "exact"

    def __init__(self, dim: int, params: dict[str, Any], index: Any = None) -> None:
        super().__init__(dim, params)
        self.index = index if index is not None else import_faiss().IndexFlatIP(dim)

    def add(self, vectors: np.ndarray) -> None:
        self.index.add(vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.index.search(queries, k)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def save(self, folder: str) -> None:
        import_faiss().write_index(self.index, os.path.join(folder, FAISS_FILE))

    @classmethod
    def load(cls, folder: str, dim: int, params: dict[str, Any]) -> FaissExact:
        return cls(dim, params, read_faiss(folder))


class NumpyExact(IndexBackend):
    """Brute-force inner product with NumPy, for machines without faiss; memory-mapped once saved."""

    name = "exact"
    needs_faiss = False

    def __init__(self, dim: int, params: dict[str, Any]) -> None:
        super().__init__(dim, params)
        self.chunks: list[np.ndarray] = []

    def add(self, vectors: np.ndarray) -> None:
        self.chunks.append(vectors)

    def matrix(self) -> np.ndarray:
        """All vectors as one array (the chunks joined once)."""
        if len(self.chunks) != 1:
            empty = np.zeros((0, self.dim), np.float32)
            self.chunks = [np.concatenate(self.chunks) if self.chunks else empty]
        return self.chunks[0]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return numpy_search(self.matrix(), queries, k)

    def __len__(self) -> int:
        return sum(len(c) for c in self.chunks)

    def save(self, folder: str) -> None:
        np.save(os.path.join(folder, NUMPY_FILE), self.matrix())

    @classmethod
    def load(cls, folder: str, dim: int, params: dict[str, Any]) -> NumpyExact:
        backend = cls(dim, params)
        backend.chunks = [np.load(os.path.join(folder, NUMPY_FILE), allow_pickle=False)]
        return backend
