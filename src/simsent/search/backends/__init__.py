"""Index backends, one class each behind :class:`~simsent.search.backends.base.IndexBackend`:

==========  =========================================================================================
``exact``   brute-force inner product: ``faiss.IndexFlatIP``, or NumPy when faiss is missing
``hnsw``    ``faiss.IndexHNSWFlat`` graph (:mod:`~simsent.search.backends.hnsw`)
``ivfpq``   ``faiss.IndexIVFPQ`` (:mod:`~simsent.search.backends.ivfpq`)
``binary``  sign bits + int8/float32 rescoring (:mod:`~simsent.search.backends.binary`)
==========  =========================================================================================

A new backend is a new module and one line in :data:`BACKEND_CLASSES`.

Example:
    >>> backend_class("exact", engine="numpy").__name__
    'NumpyExact'
"""

from __future__ import annotations

from simsent.errors import ConfigError
from simsent.search.backends.base import IndexBackend, import_faiss, numpy_search
from simsent.search.backends.binary import BinaryBackend
from simsent.search.backends.exact import FaissExact, NumpyExact
from simsent.search.backends.hnsw import HnswBackend
from simsent.search.backends.ivfpq import IvfPqBackend

BACKEND_CLASSES: dict[str, type[IndexBackend]] = {
    "exact": FaissExact,
    "hnsw": HnswBackend,
    "ivfpq": IvfPqBackend,
    "binary": BinaryBackend,
}
BACKENDS = tuple(BACKEND_CLASSES)


def backend_class(name: str, engine: str = "faiss") -> type[IndexBackend]:
    """The class of backend ``name``; ``engine="numpy"`` is exact search without faiss."""
    if name not in BACKEND_CLASSES:
        raise ConfigError(f"unknown index backend {name!r}; choose from {', '.join(BACKENDS)}")
    if engine == "numpy":
        if name != "exact":
            raise ConfigError(f"backend {name!r} needs faiss; use backend 'exact' with engine 'numpy'")
        return NumpyExact
    return BACKEND_CLASSES[name]


__all__ = ["BACKENDS", "BACKEND_CLASSES", "IndexBackend", "backend_class", "import_faiss", "numpy_search"]
