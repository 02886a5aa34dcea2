"""HNSW graph search (``faiss.IndexHNSWFlat``): ``hnsw_m`` links a node, beams of ``ef_construction``
while building and ``ef_search`` while searching.

Example:
    >>> HnswBackend.name
    'hnsw'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simsent.search.backends.base import import_faiss
from simsent.search.backends.exact import FaissExact


class HnswBackend(FaissExact):
    """An HNSW graph over the float vectors; searched with the index's current ``ef_search``."""

    name = "hnsw"

    def __init__(self, dim: int, params: dict[str, Any], index: Any = None) -> None:
        if index is None:
            faiss = import_faiss()
            index = faiss.IndexHNSWFlat(dim, int(params["hnsw_m"]), faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = int(params["ef_construction"])
        super().__init__(dim, params, index)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        self.index.hnsw.efSearch = int(self.params["ef_search"])
        return self.index.search(queries, k)

    def bytes_per_row(self) -> int:
        return 4 * self.dim + 8 * int(self.params["hnsw_m"])  # vector + two link levels on average
