"""Binary search: sign bits in ``faiss.IndexBinaryFlat`` (32x less memory than float32), Hamming
search for ``rescore * top-k`` candidates, re-ranked by the float query against their int8 vectors
(:mod:`simsent.search.quantize`) or, with ``rescore_with="float32"``, their float32 vectors; either is
memory-mapped from disk once saved. The bits are signs about the corpus mean per dimension
(``binary_threshold="mean"``; ``"zero"``: plain signs, as sentence-transformers' ``quantize_embeddings``);
the mean and the int8 ranges are calibrated on the first ``train_size`` (10,000) vectors added.

Example:
    >>> BinaryBackend.name, RESCORE_PRECISIONS, BINARY_THRESHOLDS
    ('binary', ('int8', 'float32'), ('mean', 'zero'))
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from simsent.errors import ConfigError, DataError
from simsent.search.backends.base import FAISS_FILE, IndexBackend, import_faiss, read_faiss
from simsent.search.quantize import int8_ranges, quantize, rescore

CODES_FILE = "vectors_int8.npy"  # the rescoring vectors (int8)
FLOAT_CODES_FILE = "vectors_float32.npy"  # the rescoring vectors (float32)
RANGES_FILE = "int8_ranges.npy"
THRESHOLDS_FILE = "vectors_binary_thresholds.npy"
RESCORE_PRECISIONS = ("int8", "float32")
BINARY_THRESHOLDS = ("mean", "zero")


class BinaryBackend(IndexBackend):
    """Sign bits for the first stage, int8 (or float32) vectors beside them for rescoring."""

    name = "binary"

    def __init__(self, dim: int, params: dict[str, Any], index: Any = None) -> None:
        super().__init__(dim, params)
        self.index = index if index is not None else import_faiss().IndexBinaryFlat(dim)
        self.codes: list[np.ndarray] = []  # int8 (or float32) vectors for rescoring
        self.ranges: np.ndarray | None = None  # int8 calibration (2, dim)
        self.thresholds: np.ndarray | None = None  # where each dimension's bit flips
        self.pending: list[np.ndarray] = []  # vectors held until the calibration

    @classmethod
    def check(cls, dim: int, params: dict[str, Any]) -> None:
        if dim % 8:
            raise ConfigError(f"the binary backend needs a dimension divisible by 8, got {dim}")
        if params["rescore_with"] not in RESCORE_PRECISIONS:
            raise ConfigError(f"rescore_with must be int8 or float32, got {params['rescore_with']!r}")
        if params["binary_threshold"] not in BINARY_THRESHOLDS:
            raise ConfigError(f"binary_threshold must be mean or zero, got {params['binary_threshold']!r}")

    @property
    def as_float(self) -> bool:
        return self.params["rescore_with"] == "float32"

    def add(self, vectors: np.ndarray) -> None:
        if self.thresholds is None:
            self.pending.append(vectors)
            if sum(len(c) for c in self.pending) >= (self.params["train_size"] or 10_000):
                self.finish()
            return
        self.index.add(quantize(vectors - self.thresholds, "ubinary"))
        self.codes.append(vectors if self.as_float else quantize(vectors, "int8", self.ranges))

    def finish(self) -> None:
        """Calibrate the thresholds (and int8 ranges) on the vectors held so far, then add them."""
        if self.thresholds is not None or not self.pending:
            return
        held, self.pending = np.concatenate(self.pending), []
        mean = self.params["binary_threshold"] == "mean"
        self.thresholds = held.mean(axis=0) if mean else np.zeros(self.dim, np.float32)
        if not self.as_float:
            self.ranges = int8_ranges(held)
        self.add(held)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        self.finish()
        if len(self.codes) > 1:
            self.codes = [np.concatenate(self.codes)]
        bits = quantize(queries - self.thresholds, "ubinary")
        _, candidates = self.index.search(bits, k * max(1, int(self.params["rescore"])))
        return rescore(queries, candidates.astype(np.int64), self.codes[0], self.ranges, k)

    def __len__(self) -> int:
        return int(self.index.ntotal) + sum(len(c) for c in self.pending)

    def save(self, folder: str) -> None:
        self.finish()
        import_faiss().write_index_binary(self.index, os.path.join(folder, FAISS_FILE))
        empty = np.zeros((0, self.dim), np.float32 if self.as_float else np.int8)
        codes = np.concatenate(self.codes) if self.codes else empty
        np.save(os.path.join(folder, FLOAT_CODES_FILE if self.as_float else CODES_FILE), codes)
        if not self.as_float:
            ranges = self.ranges if self.ranges is not None else np.zeros((2, self.dim), np.float32)
            np.save(os.path.join(folder, RANGES_FILE), ranges)
        thresholds = self.thresholds if self.thresholds is not None else np.zeros(self.dim, np.float32)
        np.save(os.path.join(folder, THRESHOLDS_FILE), thresholds)

    @classmethod
    def load(cls, folder: str, dim: int, params: dict[str, Any]) -> BinaryBackend:
        backend = cls(dim, params, read_faiss(folder, binary=True))
        codes = os.path.join(folder, FLOAT_CODES_FILE if backend.as_float else CODES_FILE)
        backend.codes = [np.load(codes, mmap_mode="r", allow_pickle=False)]
        if not backend.as_float:
            backend.ranges = np.load(os.path.join(folder, RANGES_FILE), allow_pickle=False)
        thresholds = os.path.join(folder, THRESHOLDS_FILE)  # absent in indexes written before the mean
        backend.thresholds = (np.load(thresholds, allow_pickle=False) if os.path.isfile(thresholds)
                              else np.zeros(dim, np.float32))
        if len(backend.codes[0]) != backend.index.ntotal:
            raise DataError(f"{folder}: {len(backend.codes[0])} rescoring vectors for {backend.index.ntotal} "
                            "binary codes; rebuild it")
        return backend

    def bytes_per_row(self) -> int:
        return self.dim // 8 + (4 if self.as_float else 1) * self.dim
