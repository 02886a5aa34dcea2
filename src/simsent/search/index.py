"""VectorIndex: cosine (inner product on unit vectors) search over sentence embeddings.

Backends:

=========  ===============================================================================
``exact``  brute-force inner product: ``faiss.IndexFlatIP``, or NumPy when faiss is missing
``hnsw``   ``faiss.IndexHNSWFlat`` graph (``hnsw_m``, ``ef_construction``, ``ef_search``)
``ivfpq``  ``faiss.IndexIVFPQ`` (``nlist``, ``pq_m``, ``nbits``, ``nprobe``), trained on the first
           ``train_size`` vectors added; ``refine=k`` re-ranks ``k * top-k`` candidates exactly
``binary`` ``faiss.IndexBinaryFlat`` of sign bits (32x less memory than float32), Hamming search for
           ``rescore * top-k`` candidates (``rescore``, default 10), re-ranked by the float query against
           their int8 vectors (:mod:`simsent.search.quantize`) or, with ``rescore_with="float32"``,
           their float32 vectors; either is memory-mapped from disk once saved. The bits are signs
           about the corpus mean per dimension (``binary_threshold="mean"``; ``"zero"``: plain signs,
           as sentence-transformers' ``quantize_embeddings``); the mean and the int8 ranges are
           calibrated on the first ``train_size`` (10,000) vectors added
=========  ===============================================================================

The index records the model that built it (path, dimension and a fingerprint of its weights and
pooling); searching with texts and another model raises :class:`~simsent.errors.ConfigError`.
Texts are encoded chunk by chunk, so a corpus of millions of rows never has all its token tensors
in memory. :meth:`VectorIndex.save` writes a temporary folder and renames it into place, so a crash
never leaves a half-written index.

Example:
    >>> from simsent import SentenceEncoder
    >>> from simsent.search import VectorIndex
    >>> model = SentenceEncoder.load("runs/faq-model")                            # doctest: +SKIP
    >>> index = VectorIndex.build(model, "faq.jsonl", backend="hnsw")             # doctest: +SKIP
    >>> index.save("runs/faq-index")                                               # doctest: +SKIP
    >>> res = VectorIndex.load("runs/faq-index").search(["花呗怎么开通"], k=5, model=model)  # doctest: +SKIP
    >>> res.hits(0)[0]                                                             # doctest: +SKIP
    {'id': 'q17', 'text': '如何开通花呗', 'score': 0.93, 'payload': {'answer': '...'}}
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent._io import replace_dir, temp_dir, write_guard
from simsent.errors import ConfigError, DataError
from simsent.modeling.inputs import unit_rows
from simsent.search.backends import (
    BACKENDS,
    apply_search_params,
    default_nlist,
    default_pq_m,
    import_faiss,
    new_faiss_index,
    numpy_search,
)

if TYPE_CHECKING:
    from simsent.modeling.inputs import Embedder

logger = logging.getLogger(__name__)

FORMAT = "simsent-index"
FORMAT_VERSION = 1
INDEX_JSON = "index.json"
RECORDS = "records.jsonl"
FAISS_FILE = "vectors.faiss"
NUMPY_FILE = "vectors.npy"
CODES_FILE = "vectors_int8.npy"  # binary backend: the rescoring vectors (int8)
FLOAT_CODES_FILE = "vectors_float32.npy"  # binary backend: the rescoring vectors (float32)
RESCORE_PRECISIONS = ("int8", "float32")
RANGES_FILE = "int8_ranges.npy"
THRESHOLDS_FILE = "vectors_binary_thresholds.npy"
BINARY_THRESHOLDS = ("mean", "zero")


# ---------------------------------------------------------------------- results
@dataclass
class SearchResults:
    """Top-k results for a batch of queries (one row per query, best first).

    ``scores[i, j]`` is the cosine of query ``i`` and hit ``j``; rows with fewer than ``k`` hits
    are padded with ``nan`` in ``scores`` and ``-1`` in ``positions`` and are shorter in ``ids``.
    """

    ids: list[list[str]]
    scores: np.ndarray
    positions: np.ndarray
    texts: list[list[str | None]] = field(default_factory=list)
    payloads: list[list[dict[str, Any]]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def hits(self, i: int) -> list[dict[str, Any]]:
        """The hits of query ``i`` as dicts ``{"id", "text", "score", "payload"}``."""
        return [
            {
                "id": self.ids[i][j],
                "text": self.texts[i][j],
                "score": float(self.scores[i, j]),
                "payload": self.payloads[i][j],
            }
            for j in range(len(self.ids[i]))
        ]


# ---------------------------------------------------------------------- the index
class VectorIndex:
    """A cosine-similarity index with ids, texts and payloads.

    Args:
        dim: vector dimension.
        backend: ``exact``, ``hnsw`` or ``ivfpq``.
        model_info: identity of the model that makes the vectors (see :func:`model_identity`).
        engine: ``auto`` (faiss when installed), ``faiss`` or ``numpy`` (``exact`` only).
        hnsw_m, ef_construction, ef_search: HNSW graph degree and beam widths.
        nlist, pq_m, nbits, nprobe, train_size, refine: IVF-PQ cells, sub-quantisers, bits per code,
            cells visited per query, vectors used for training, exact re-ranking factor (0: off).
    """

    def __init__(
        self,
        dim: int,
        backend: str = "exact",
        model_info: dict[str, Any] | None = None,
        engine: str = "auto",
        hnsw_m: int = 32,
        ef_construction: int = 200,
        ef_search: int = 64,
        nlist: int | None = None,
        pq_m: int | None = None,
        nbits: int = 8,
        nprobe: int = 16,
        train_size: int | None = None,
        refine: int = 0,
        rescore: int = 10,
        rescore_with: str = "int8",
        binary_threshold: str = "mean",
    ) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"unknown index backend {backend!r}; choose from {', '.join(BACKENDS)}")
        if engine not in ("auto", "faiss", "numpy"):
            raise ConfigError(f"unknown engine {engine!r}; choose auto, faiss or numpy")
        if dim <= 0:
            raise ConfigError(f"index dimension must be positive, got {dim}")
        faiss = import_faiss(required=engine == "faiss" or backend != "exact")
        if engine == "numpy" and backend != "exact":
            raise ConfigError(f"backend {backend!r} needs faiss; use backend 'exact' with engine 'numpy'")
        self.engine = "numpy" if engine == "numpy" or faiss is None else "faiss"
        if self.engine == "numpy" and engine == "auto":
            logger.info("faiss not installed: exact search with NumPy (pip install simsent[faiss] for speed)")
        self.dim = int(dim)
        self.backend = backend
        self.model_info = dict(model_info) if model_info else None
        pq_m = pq_m or default_pq_m(dim)
        if backend == "ivfpq" and dim % pq_m:
            raise ConfigError(f"pq_m={pq_m} must divide the dimension {dim}")
        if backend == "binary" and dim % 8:
            raise ConfigError(f"the binary backend needs a dimension divisible by 8, got {dim}")
        if rescore_with not in RESCORE_PRECISIONS:
            raise ConfigError(f"rescore_with must be int8 or float32, got {rescore_with!r}")
        if binary_threshold not in BINARY_THRESHOLDS:
            raise ConfigError(f"binary_threshold must be mean or zero, got {binary_threshold!r}")
        self.params: dict[str, Any] = {
            "hnsw_m": hnsw_m,
            "ef_construction": ef_construction,
            "ef_search": ef_search,
            "nlist": nlist,
            "pq_m": pq_m,
            "nbits": nbits,
            "nprobe": nprobe,
            "train_size": train_size,
            "refine": refine,
            "rescore": rescore,
            "rescore_with": rescore_with,
            "binary_threshold": binary_threshold,
        }
        self.ids: list[str] = []
        self.texts: list[str | None] = []
        self.payloads: list[dict[str, Any]] = []
        self._pos: dict[str, int] = {}
        self._index: Any = None  # faiss index
        self._chunks: list[np.ndarray] = []  # numpy engine storage
        self._pending: list[np.ndarray] = []  # ivfpq vectors waiting for training
        self._expected: int | None = None  # corpus size hint for nlist
        self._codes: list[np.ndarray] = []  # binary backend: int8 (or float32) vectors for rescoring
        self._ranges: np.ndarray | None = None  # binary backend: int8 calibration (2, dim)
        self._thresholds: np.ndarray | None = None  # binary backend: where each dimension's bit flips
        if self.engine == "faiss" and backend != "ivfpq":
            self._index = new_faiss_index(self.backend, self.dim, self.params)

    # ------------------------------------------------------------------ faiss construction
    def _train_pending(self) -> None:
        """Train the IVF-PQ index on the pending vectors, then add them."""
        if not self._pending:
            return
        data = np.concatenate(self._pending)
        self._pending = []
        if self._index is None:
            self._index = new_faiss_index(
                self.backend, self.dim, self.params, n_train=len(data), expected=self._expected
            )
            logger.info(
                "training IVF-PQ (nlist=%d, m=%d, nbits=%d) on %d vectors",
                self.params["nlist"],
                self.params["pq_m"],
                self.params["nbits"],
                len(data),
            )
            self._index.train(data)
        self._index.add(data)

    # ------------------------------------------------------------------ adding
    def __len__(self) -> int:
        return len(self.ids)

    def add(
        self,
        vectors: np.ndarray,
        ids: Sequence[Any] | None = None,
        texts: Sequence[str | None] | None = None,
        payloads: Sequence[dict[str, Any] | None] | None = None,
    ) -> None:
        """Add vectors (normalised here) with optional ids (default: running position), texts, payloads."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise DataError(f"vectors must have shape (n, {self.dim}); got {vectors.shape}")
        n = len(vectors)
        ids = [str(len(self.ids) + i) for i in range(n)] if ids is None else [str(i) for i in ids]
        texts = list(texts) if texts is not None else [None] * n
        payloads = [p or {} for p in payloads] if payloads is not None else [{} for _ in range(n)]
        if not (len(ids) == len(texts) == len(payloads) == n):
            raise DataError("ids, texts and payloads must have one entry per vector")
        new_pos = {}
        for i, rid in enumerate(ids):
            if rid in self._pos or rid in new_pos:
                raise DataError(f"duplicate id {rid!r}: ids must be unique within an index")
            new_pos[rid] = len(self.ids) + i
        vectors = unit_rows(vectors)
        if self.engine == "numpy":
            self._chunks.append(vectors)
        elif self.backend == "binary":
            self._add_binary(vectors)
        elif self.backend == "ivfpq" and self._index is None:
            self._pending.append(vectors)
            nlist = self.params["nlist"] or default_nlist(self._expected or 65536)
            need = self.params["train_size"] or min(200_000, max(39 * nlist, 39 * 2 ** self.params["nbits"]))
            if sum(len(c) for c in self._pending) >= need:
                self._train_pending()
        else:
            self._index.add(vectors)
        self._pos.update(new_pos)
        self.ids.extend(ids)
        self.texts.extend(texts)
        self.payloads.extend(payloads)

    def _add_binary(self, vectors: np.ndarray) -> None:
        """Sign bits into the faiss binary index, the rescoring vectors (int8 codes or float32) kept
        beside; vectors are held until ``train_size`` (10,000) of them calibrate the bits' thresholds
        and the int8 ranges."""
        from simsent.search.quantize import quantize

        if self._thresholds is None:
            self._pending.append(vectors)
            if sum(len(c) for c in self._pending) >= (self.params["train_size"] or 10_000):
                self._calibrate_binary()
            return
        self._index.add(quantize(vectors - self._thresholds, "ubinary"))
        if self.params["rescore_with"] == "float32":
            self._codes.append(vectors)
        else:
            self._codes.append(quantize(vectors, "int8", self._ranges))

    def _calibrate_binary(self) -> None:
        """Calibrate the thresholds (and int8 ranges) on the vectors held so far, then add them."""
        from simsent.search.quantize import int8_ranges

        if self._thresholds is not None or not self._pending:
            return
        held, self._pending = np.concatenate(self._pending), []
        mean = self.params["binary_threshold"] == "mean"
        self._thresholds = held.mean(axis=0) if mean else np.zeros(self.dim, np.float32)
        if self.params["rescore_with"] == "int8":
            self._ranges = int8_ranges(held)
        self._add_binary(held)

    def _binary_search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        from simsent.search.quantize import quantize, rescore

        if len(self._codes) > 1:
            self._codes = [np.concatenate(self._codes)]
        bits = quantize(q - self._thresholds, "ubinary")
        _, candidates = self._index.search(bits, k * max(1, int(self.params["rescore"])))
        return rescore(q, candidates.astype(np.int64), self._codes[0], self._ranges, k)

    def expect_rows(self, n: int) -> None:
        """Tell the index how many rows will come (IVF sizes its cells from it)."""
        self._expected = n

    def add_records(self, vectors: np.ndarray, records: Sequence[dict[str, Any]]) -> None:
        """Add ``vectors`` with their corpus records (an id of None gets the running position)."""
        start = len(self.ids)
        self.add(
            vectors,
            ids=[r.get("id") or str(start + i) for i, r in enumerate(records)],
            texts=[r["text"] for r in records],
            payloads=[r.get("payload") for r in records],
        )

    def add_texts(
        self,
        model: Embedder,
        corpus: str | os.PathLike | Iterable[str | dict[str, Any]],
        batch_size: int = 64,
        chunk_size: int = 4096,
        show_progress_bar: bool | None = None,
    ) -> int:
        """Encode and add a corpus (a file, or texts / ``{"id", "text", "payload"}`` records) in chunks.

        Returns the number of rows added.
        """
        from tqdm.auto import tqdm

        from simsent.search.corpus import count_lines, iter_corpus

        self.check_model(model)
        if self.model_info is None:
            from simsent.modeling.sentence_encoder import model_identity

            self.model_info = model_identity(model)
        total = None
        if isinstance(corpus, (str, os.PathLike)):
            total = count_lines(corpus) if os.path.isfile(corpus) else None
            records: Iterable[Any] = iter_corpus(corpus)
        else:
            records = corpus
            total = len(corpus) if hasattr(corpus, "__len__") else None
        if self._index is None and self.backend == "ivfpq" and total:
            self._expected = len(self) + total
        if show_progress_bar is None:
            show_progress_bar = logger.getEffectiveLevel() <= logging.INFO
        added = 0
        bar = tqdm(total=total, desc="Indexing", unit="row", disable=not show_progress_bar)
        chunk: list[dict[str, Any]] = []

        def flush() -> None:
            nonlocal added
            if not chunk:
                return
            vecs = model.encode(
                [r["text"] for r in chunk],
                batch_size=batch_size,
                show_progress_bar=False,
                normalize_embeddings=True,
            )
            self.add_records(vecs, chunk)
            added += len(chunk)
            bar.update(len(chunk))
            chunk.clear()

        try:
            for rec in records:
                if isinstance(rec, str):
                    rec = {"text": rec}
                if (
                    not isinstance(rec, dict)
                    or not isinstance(rec.get("text"), str)
                    or not rec["text"].strip()
                ):
                    raise DataError(f"corpus rows need a non-empty text; got {rec!r}")
                chunk.append(rec)
                if len(chunk) >= chunk_size:
                    flush()
            flush()
        finally:
            bar.close()
        if added == 0:
            raise DataError("the corpus has no text to index")
        if self.backend == "ivfpq":
            self._train_pending()
        logger.info("indexed %d rows (%d in total)", added, len(self))
        return added

    @classmethod
    def build(
        cls,
        model: Embedder,
        corpus: str | os.PathLike | Iterable[str | dict[str, Any]],
        backend: str = "exact",
        model_path: str | None = None,
        batch_size: int = 64,
        chunk_size: int = 4096,
        show_progress_bar: bool | None = None,
        **params: Any,
    ) -> VectorIndex:
        """A new index of ``corpus`` encoded by ``model`` (see :meth:`add_texts`)."""
        from simsent.modeling.sentence_encoder import model_identity

        info = model_identity(model, model_path)
        index = cls(info["dim"], backend=backend, model_info=info, **params)
        index.add_texts(
            model, corpus, batch_size=batch_size, chunk_size=chunk_size, show_progress_bar=show_progress_bar
        )
        return index

    # ------------------------------------------------------------------ model check
    def check_model(self, model: Embedder) -> None:
        """Raise :class:`ConfigError` when ``model`` is not the model that built this index."""
        dim = int(model.get_sentence_embedding_dimension())
        if dim != self.dim:
            raise ConfigError(
                f"the model gives {dim}-dimensional vectors but the index holds {self.dim}-dimensional ones; "
                f"search with the model that built it ({(self.model_info or {}).get('path')})"
            )
        if self.model_info and self.model_info.get("fingerprint"):
            from simsent.modeling.sentence_encoder import model_fingerprint

            fp = model_fingerprint(model)
            if fp != self.model_info["fingerprint"]:
                raise ConfigError(
                    f"this index was built with another model ({self.model_info.get('path')}, fingerprint "
                    f"{self.model_info['fingerprint'][:12]}; this model: {fp[:12]}); search with that model "
                    "or rebuild the index with `simsent index build`"
                )

    # ------------------------------------------------------------------ search
    def search(
        self,
        queries: str | Sequence[str] | np.ndarray,
        k: int = 10,
        model: Embedder | None = None,
        batch_size: int = 64,
        check_model: bool = True,
    ) -> SearchResults:
        """Top-``k`` hits for a batch of queries (texts need ``model``; vectors are used as given)."""
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}")
        if isinstance(queries, str):
            queries = [queries]
        if isinstance(queries, np.ndarray):
            q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        else:
            queries = list(queries)
            if not queries:
                raise DataError("no query to search")
            if model is None:
                raise ConfigError("searching with texts needs the model that built the index (pass model=)")
            if check_model:
                self.check_model(model)
            q = np.asarray(
                model.encode(
                    queries, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
                ),
                dtype=np.float32,
            )
        if q.shape[1] != self.dim:
            raise DataError(f"query vectors have dimension {q.shape[1]}, the index {self.dim}")
        q = unit_rows(q)
        if self.backend == "ivfpq":
            self._train_pending()
        if self.backend == "binary":
            self._calibrate_binary()
        if len(self) == 0:
            scores = np.full((len(q), k), np.nan, dtype=np.float32)
            pos = np.full((len(q), k), -1, dtype=np.int64)
        elif self.engine == "numpy":
            scores, pos = self._numpy_search(q, k)
        elif self.backend == "binary":
            scores, pos = self._binary_search(q, k)
        else:
            apply_search_params(self._index, self.backend, self.params)
            scores, pos = self._index.search(q, k)
        scores = np.where(pos < 0, np.nan, scores).astype(np.float32)
        ids, texts, payloads = [], [], []
        for row in pos:
            valid = [int(p) for p in row if p >= 0]
            ids.append([self.ids[p] for p in valid])
            texts.append([self.texts[p] for p in valid])
            payloads.append([self.payloads[p] for p in valid])
        return SearchResults(ids=ids, scores=scores, positions=pos, texts=texts, payloads=payloads)

    def _numpy_search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return numpy_search(self._chunks[0], q, k)

    def get(self, rid: Any) -> dict[str, Any]:
        """The stored record of an id."""
        if str(rid) not in self._pos:
            raise DataError(f"id {rid!r} is not in the index")
        p = self._pos[str(rid)]
        return {"id": self.ids[p], "text": self.texts[p], "payload": self.payloads[p]}

    # ------------------------------------------------------------------ persistence
    def config(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "backend": self.backend,
            "engine": self.engine,
            "dim": self.dim,
            "count": len(self),
            "metric": "cosine",
            "params": self.params,
            "model": self.model_info,
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write the index folder atomically (a temporary folder renamed into place)."""
        path = os.path.abspath(os.fspath(path))
        parent = os.path.dirname(path)
        os.makedirs(parent, exist_ok=True)
        if self.backend == "ivfpq":
            self._train_pending()
        if self.backend == "binary":
            self._calibrate_binary()
        tmp = temp_dir(parent, "index")
        needed = len(self) * (self.dim * 4 + 64)
        with write_guard(path, needed):  # outside the clean-up, so that the free space it names is true
            try:
                self._write_files(tmp)
                replace_dir(tmp, path)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        logger.info("saved index of %d rows to %s", len(self), path)

    def _write_files(self, tmp: str) -> None:
        """The index's files (vectors, records, config) into the folder ``tmp``."""
        if self.engine == "numpy":
            mat = np.concatenate(self._chunks) if self._chunks else np.zeros((0, self.dim), np.float32)
            np.save(os.path.join(tmp, NUMPY_FILE), mat)
        elif self.backend == "binary":
            import_faiss().write_index_binary(self._index, os.path.join(tmp, FAISS_FILE))
            as_float = self.params["rescore_with"] == "float32"
            empty = np.zeros((0, self.dim), np.float32 if as_float else np.int8)
            codes = np.concatenate(self._codes) if self._codes else empty
            np.save(os.path.join(tmp, FLOAT_CODES_FILE if as_float else CODES_FILE), codes)
            if not as_float:
                np.save(os.path.join(tmp, RANGES_FILE), self._ranges if self._ranges is not None else
                        np.zeros((2, self.dim), np.float32))
            thresholds = self._thresholds if self._thresholds is not None else np.zeros(self.dim, np.float32)
            np.save(os.path.join(tmp, THRESHOLDS_FILE), thresholds)
        elif self._index is not None:
            import_faiss().write_index(self._index, os.path.join(tmp, FAISS_FILE))
        with open(os.path.join(tmp, RECORDS), "w", encoding="utf-8") as f:
            for rid, text, payload in zip(self.ids, self.texts, self.payloads, strict=True):
                f.write(
                    json.dumps({"id": rid, "text": text, "payload": payload}, ensure_ascii=False) + "\n"
                )
        with open(os.path.join(tmp, INDEX_JSON), "w", encoding="utf-8") as f:
            json.dump(self.config(), f, indent=2, ensure_ascii=False)

    @classmethod
    def load(cls, path: str | os.PathLike, model: Embedder | None = None) -> VectorIndex:
        """Read an index folder; with ``model``, check it is the model that built the index.

        A damaged folder (bad JSON, a cut records file, unreadable vectors) is a one-line DataError.
        """
        path = os.fspath(path)
        cfg_file = os.path.join(path, INDEX_JSON)
        if not os.path.isfile(cfg_file):
            raise DataError(
                f"no index at {path} (missing {INDEX_JSON}); build one with `simsent index build`"
            )
        try:
            index = cls._read(path, cfg_file)
        except (ValueError, KeyError, TypeError, RuntimeError, OSError) as exc:  # JSON, faiss, numpy
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise DataError(
                f"the index at {path} is damaged ({type(exc).__name__}: {first}); rebuild it with "
                "`simsent index build`"
            ) from exc
        if model is not None:
            index.check_model(model)
        return index

    @classmethod
    def _read(cls, path: str, cfg_file: str) -> VectorIndex:
        with open(cfg_file, encoding="utf-8") as f:
            cfg = json.load(f)
        if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
            raise DataError(f"{cfg_file} is not a simsent index")
        engine = cfg.get("engine", "faiss")
        faiss = import_faiss(required=engine == "faiss")
        params = {"binary_threshold": "zero", **cfg.get("params", {})}  # indexes written before the mean
        index = cls(
            cfg["dim"],
            backend=cfg["backend"],
            model_info=cfg.get("model"),
            engine="numpy" if engine == "numpy" else "faiss",
            **{k: v for k, v in params.items() if k in _PARAM_NAMES},
        )
        if engine == "numpy":
            index._chunks = [np.load(os.path.join(path, NUMPY_FILE), allow_pickle=False)]
        elif index.backend == "binary":
            index._index = faiss.read_index_binary(os.path.join(path, FAISS_FILE))
            as_float = index.params["rescore_with"] == "float32"
            codes = os.path.join(path, FLOAT_CODES_FILE if as_float else CODES_FILE)
            index._codes = [np.load(codes, mmap_mode="r", allow_pickle=False)]
            if not as_float:
                index._ranges = np.load(os.path.join(path, RANGES_FILE), allow_pickle=False)
            thresholds = os.path.join(path, THRESHOLDS_FILE)
            index._thresholds = (np.load(thresholds, allow_pickle=False) if os.path.isfile(thresholds)
                                 else np.zeros(index.dim, np.float32))
            if len(index._codes[0]) != index._index.ntotal:
                n_codes, n_bits = len(index._codes[0]), index._index.ntotal
                raise DataError(f"{path}: {n_codes} rescoring vectors for {n_bits} binary codes; rebuild it")
        elif os.path.isfile(os.path.join(path, FAISS_FILE)):
            index._index = faiss.read_index(os.path.join(path, FAISS_FILE))
        with open(os.path.join(path, RECORDS), encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                index._pos[rec["id"]] = len(index.ids)
                index.ids.append(rec["id"])
                index.texts.append(rec.get("text"))
                index.payloads.append(rec.get("payload") or {})
        stored = len(index._chunks[0]) if engine == "numpy" else (index._index.ntotal if index._index else 0)
        if stored != len(index.ids):
            raise DataError(f"{path}: {stored} vectors but {len(index.ids)} records; rebuild the index")
        return index


def index_lock(path: str | os.PathLike, timeout: float = 600.0) -> contextlib.AbstractContextManager:
    """Hold the advisory lock of an index folder (``<path>.lock``) around a load-add-save, so that
    concurrent writers wait for each other instead of losing rows.

    Example:
        >>> with index_lock("runs/faq-index"):                           # doctest: +SKIP
        ...     index = VectorIndex.load("runs/faq-index"); index.add_texts(model, "more.txt")
        ...     index.save("runs/faq-index")
    """
    from simsent._io import folder_lock

    return folder_lock(path, "index", wait=timeout)


_PARAM_NAMES = (
    "hnsw_m",
    "ef_construction",
    "ef_search",
    "nlist",
    "pq_m",
    "nbits",
    "nprobe",
    "train_size",
    "refine",
    "rescore",
    "rescore_with",
    "binary_threshold",
)
