"""IVF-PQ search (``faiss.IndexIVFPQ``): ``nlist`` cells, ``pq_m`` sub-quantisers of ``nbits`` bits,
``nprobe`` cells visited per query; ``refine=k`` re-ranks ``k * top-k`` candidates exactly. Trained on
the first ``train_size`` vectors added (held until then); the cells adapt to the amount of data.

Example:
    >>> default_pq_m(384), default_nlist(65536), default_nlist(0)
    (48, 1024, 4)
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from simsent.errors import ConfigError
from simsent.search.backends.base import IndexBackend, import_faiss, read_faiss
from simsent.search.backends.exact import FaissExact

logger = logging.getLogger(__name__)


def default_pq_m(dim: int) -> int:
    """Largest divisor of ``dim`` giving sub-vectors of at least 8 dimensions (384 -> 48)."""
    for m in range(max(1, dim // 8), 0, -1):
        if dim % m == 0:
            return m
    return 1


def default_nlist(rows: int) -> int:
    """IVF cells for an index of ``rows`` vectors when ``nlist`` is not given: 4 x sqrt(rows), 1 to 65,536."""
    return max(1, min(65536, int(4 * math.sqrt(max(1, rows)))))


class IvfPqBackend(FaissExact):
    """Product-quantised vectors in inverted lists; ``self.index`` is ``None`` until trained."""

    name = "ivfpq"

    def __init__(self, dim: int, params: dict[str, Any], index: Any = None) -> None:
        IndexBackend.__init__(self, dim, params)
        self.index = index
        self.pending: list[np.ndarray] = []
        self.expected: int | None = None

    @classmethod
    def check(cls, dim: int, params: dict[str, Any]) -> None:
        if dim % int(params["pq_m"]):
            raise ConfigError(f"pq_m={params['pq_m']} must divide the dimension {dim}")

    def expect_rows(self, n: int) -> None:
        if self.index is None:
            self.expected = n

    def add(self, vectors: np.ndarray) -> None:
        if self.index is not None:
            self.index.add(vectors)
            return
        self.pending.append(vectors)
        nlist = self.params["nlist"] or default_nlist(self.expected or 65536)
        need = self.params["train_size"] or min(200_000, max(39 * nlist, 39 * 2 ** self.params["nbits"]))
        if sum(len(c) for c in self.pending) >= need:
            self.finish()

    def finish(self) -> None:
        """Train on the held vectors (the first time), then add them."""
        if not self.pending:
            return
        data = np.concatenate(self.pending)
        self.pending = []
        if self.index is None:
            self.index = self._new_index(len(data))
            p = self.params
            logger.info("training IVF-PQ (nlist=%d, m=%d, nbits=%d) on %d vectors",
                        p["nlist"], p["pq_m"], p["nbits"], len(data))
            self.index.train(data)
        self.index.add(data)

    def _new_index(self, n_train: int) -> Any:
        """An untrained IVF-PQ index whose cells and bits fit ``n_train`` vectors (recorded in params)."""
        faiss, p = import_faiss(), self.params
        nlist = p["nlist"] or default_nlist(self.expected or n_train or 1)
        p["nlist"] = max(1, min(nlist, n_train // 39 if n_train >= 39 else 1))
        p["nbits"] = int(min(p["nbits"], max(1, int(math.log2(max(2, n_train))) - 1)))
        quantizer = faiss.IndexFlatIP(self.dim)  # the faiss wrappers keep Python references alive
        ivf = faiss.IndexIVFPQ(quantizer, self.dim, p["nlist"], int(p["pq_m"]), p["nbits"],
                               faiss.METRIC_INNER_PRODUCT)
        if not p["refine"]:
            return ivf
        refined = faiss.IndexRefineFlat(ivf)
        refined.k_factor = float(p["refine"])
        return refined

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        self.finish()
        faiss = import_faiss()
        faiss.ParameterSpace().set_index_parameter(self.index, "nprobe", int(self.params["nprobe"]))
        if self.params["refine"]:
            faiss.downcast_index(self.index).k_factor = float(self.params["refine"])
        return self.index.search(queries, k)

    def __len__(self) -> int:
        return (int(self.index.ntotal) if self.index is not None else 0) + sum(len(c) for c in self.pending)

    def save(self, folder: str) -> None:
        self.finish()
        if self.index is not None:
            super().save(folder)

    @classmethod
    def load(cls, folder: str, dim: int, params: dict[str, Any]) -> IvfPqBackend:
        return cls(dim, params, read_faiss(folder))

    def bytes_per_row(self) -> int:
        code = int(self.params["pq_m"]) * int(self.params["nbits"]) // 8 + 8  # PQ code + list id
        return code + (4 * self.dim if self.params["refine"] else 0)
