"""VectorIndex: cosine (inner product on unit vectors) search over sentence embeddings.

Backends (``exact``, ``hnsw``, ``ivfpq``, ``binary``) are classes in :mod:`simsent.search.backends`;
records (ids, texts, payloads) live in a file read through mmap (:mod:`simsent.search.records`), so
memory holds 24 bytes a row for them.

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
import inspect
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
from simsent.modeling.inputs import check_prefix, prefix_rows, unit_rows
from simsent.search.backends import IndexBackend, backend_class, import_faiss
from simsent.search.backends.ivfpq import default_pq_m
from simsent.search.records import Column, RecordStore

if TYPE_CHECKING:
    from simsent.modeling.inputs import Embedder

logger = logging.getLogger(__name__)

FORMAT = "simsent-index"
FORMAT_VERSION = 2  # 2: records with offsets and id hashes beside them; 1 still loads
INDEX_JSON = "index.json"


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
    #: after a rerank stage (:mod:`simsent.search.rerank`): each hit's first-stage cosine
    retrieval_scores: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def hits(self, i: int) -> list[dict[str, Any]]:
        """The hits of query ``i`` as dicts ``{"id", "text", "score", "payload"}`` (+ ``retrieval_score``
        after a rerank stage)."""
        first = self.retrieval_scores
        return [
            {
                "id": self.ids[i][j],
                "text": self.texts[i][j],
                "score": float(self.scores[i, j]),
                "payload": self.payloads[i][j],
                **({} if first is None else {"retrieval_score": float(first[i, j])}),
            }
            for j in range(len(self.ids[i]))
        ]


# ---------------------------------------------------------------------- the index
class VectorIndex:
    """A cosine-similarity index with ids, texts and payloads.

    Args:
        dim: vector dimension.
        backend: ``exact``, ``hnsw``, ``ivfpq`` or ``binary`` (:mod:`simsent.search.backends`).
        model_info: identity of the model that makes the vectors (see :func:`model_identity`).
        engine: ``auto`` (faiss when installed), ``faiss`` or ``numpy`` (``exact`` only).
        hnsw_m, ef_construction, ef_search: HNSW graph degree and beam widths.
        nlist, pq_m, nbits, nprobe, train_size, refine: IVF-PQ cells, sub-quantisers, bits per code,
            cells visited per query, vectors used for training, exact re-ranking factor (0: off).
        rescore, rescore_with, binary_threshold: the binary backend's candidates per hit, their
            rescoring vectors (int8 or float32) and where each bit flips (corpus mean or zero).
        spool_dir: where the records of rows being added wait until :meth:`save` (a temporary folder
            there; default the system's): give the output's folder so a full disk is the output's.
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
        spool_dir: str | None = None,
    ) -> None:
        if engine not in ("auto", "faiss", "numpy"):
            raise ConfigError(f"unknown engine {engine!r}; choose auto, faiss or numpy")
        if dim <= 0:
            raise ConfigError(f"index dimension must be positive, got {dim}")
        backend_class(backend, engine)  # an unknown backend, or numpy for one that needs faiss
        faiss = import_faiss(required=engine == "faiss" or backend != "exact")
        self.engine = "numpy" if engine == "numpy" or faiss is None else "faiss"
        if self.engine == "numpy" and engine == "auto":
            logger.info("faiss not installed: exact search with NumPy (pip install simsent[faiss] for speed)")
        self.dim = int(dim)
        self.backend = backend
        self.model_info = dict(model_info) if model_info else None
        self.params: dict[str, Any] = {
            "hnsw_m": hnsw_m, "ef_construction": ef_construction, "ef_search": ef_search,
            "nlist": nlist, "pq_m": pq_m or default_pq_m(dim), "nbits": nbits, "nprobe": nprobe,
            "train_size": train_size, "refine": refine,
            "rescore": rescore, "rescore_with": rescore_with, "binary_threshold": binary_threshold,
        }
        self.vectors: IndexBackend = backend_class(backend, self.engine)(self.dim, self.params)
        self.records = RecordStore(spool_dir)

    @property
    def ids(self) -> Column:
        """Every row's id, read on demand."""
        return Column(self.records, "id")

    @property
    def texts(self) -> Column:
        return Column(self.records, "text")

    @property
    def payloads(self) -> Column:
        return Column(self.records, "payload")

    # ------------------------------------------------------------------ adding
    def __len__(self) -> int:
        return len(self.records)

    def add(
        self,
        vectors: np.ndarray,
        ids: Sequence[Any] | None = None,
        texts: Sequence[str | None] | None = None,
        payloads: Sequence[dict[str, Any] | None] | None = None,
    ) -> None:
        """Add vectors (normalised here) with optional ids (default: running position), texts, payloads.
        A prefix index (:attr:`prefix_dim`) takes the model's full vectors and keeps their first ``dim``."""
        vectors = self._own_width(np.asarray(vectors, dtype=np.float32))
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise DataError(f"vectors must have shape (n, {self.dim}); got {vectors.shape}")
        n = len(vectors)
        ids = [str(len(self) + i) for i in range(n)] if ids is None else [str(i) for i in ids]
        texts = list(texts) if texts is not None else [None] * n
        payloads = [p or {} for p in payloads] if payloads is not None else [{} for _ in range(n)]
        if not (len(ids) == len(texts) == len(payloads) == n):
            raise DataError("ids, texts and payloads must have one entry per vector")
        self.records.append(ids, texts, payloads)  # refuses duplicate ids before any vector is added
        self.vectors.add(unit_rows(vectors))

    @property
    def prefix_dim(self) -> int | None:
        """The Matryoshka prefix this index holds of its model's vectors (``index build --dim``), or None."""
        return (self.model_info or {}).get("truncate_dim")

    def _own_width(self, vectors: np.ndarray) -> np.ndarray:
        """``vectors`` cut to the index's prefix (renormalised) when it is one and they are the model's full
        width; anything else as it is."""
        if self.prefix_dim and vectors.ndim == 2 and vectors.shape[1] == (self.model_info or {}).get("dim"):
            return prefix_rows(vectors, self.dim)
        return vectors

    def expect_rows(self, n: int) -> None:
        """Tell the index how many rows will come (IVF sizes its cells from it)."""
        self.vectors.expect_rows(n)

    def add_records(self, vectors: np.ndarray, records: Sequence[dict[str, Any]]) -> None:
        """Add ``vectors`` with their corpus records (an id of None gets the running position)."""
        start = len(self)
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
        if total:
            self.expect_rows(len(self) + total)
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
        self.vectors.finish()
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
        dim: int | None = None,
        **params: Any,
    ) -> VectorIndex:
        """A new index of ``corpus`` encoded by ``model`` (see :meth:`add_texts`); with ``dim``, of the first
        ``dim`` components of each vector (renormalised: a Matryoshka prefix; queries are cut alike)."""
        from simsent.modeling.sentence_encoder import model_identity

        info = model_identity(model, model_path)
        if dim is not None:
            check_prefix(model, dim)
            info = {**info, "truncate_dim": dim} if dim < info["dim"] else info
        index = cls(dim or info["dim"], backend=backend, model_info=info, **params)
        index.add_texts(
            model, corpus, batch_size=batch_size, chunk_size=chunk_size, show_progress_bar=show_progress_bar
        )
        return index

    # ------------------------------------------------------------------ model check
    def check_model(self, model: Embedder) -> None:
        """Raise :class:`ConfigError` when ``model`` is not the model that built this index."""
        dim = int(model.get_sentence_embedding_dimension())
        if dim != (self.model_info["dim"] if self.prefix_dim else self.dim):
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
        q = self._own_width(q)
        if q.shape[1] != self.dim:
            raise DataError(f"query vectors have dimension {q.shape[1]}, the index {self.dim}")
        q = unit_rows(q)
        if len(self) == 0:
            scores = np.full((len(q), k), np.nan, dtype=np.float32)
            pos = np.full((len(q), k), -1, dtype=np.int64)
        else:
            scores, pos = self.vectors.search(q, k)
        scores = np.where(pos < 0, np.nan, scores).astype(np.float32)
        ids, texts, payloads = [], [], []
        for row in pos:
            hits = [self.records[int(p)] for p in row if p >= 0]
            ids.append([h["id"] for h in hits])
            texts.append([h["text"] for h in hits])
            payloads.append([h["payload"] for h in hits])
        return SearchResults(ids=ids, scores=scores, positions=pos, texts=texts, payloads=payloads)

    def get(self, rid: Any) -> dict[str, Any]:
        """The stored record of an id."""
        pos = self.records.position(str(rid))
        if pos is None:
            raise DataError(f"id {rid!r} is not in the index")
        return self.records[pos]

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
        self.vectors.finish()
        tmp = temp_dir(parent, "index")
        needed = len(self) * (self.vectors.bytes_per_row() + 64)
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
        self.vectors.save(tmp)
        self.records.save(tmp)
        with open(os.path.join(tmp, INDEX_JSON), "w", encoding="utf-8") as f:
            json.dump(self.config(), f, indent=2, ensure_ascii=False)

    @classmethod
    def load(cls, path: str | os.PathLike, model: Embedder | None = None,
             spool_dir: str | None = None) -> VectorIndex:
        """Read an index folder; with ``model``, check it is the model that built the index. Rows added
        later have their records spooled in ``spool_dir`` (see :class:`VectorIndex`).

        A damaged folder (bad JSON, a cut records file, unreadable vectors) is a one-line DataError.
        """
        path = os.fspath(path)
        cfg_file = os.path.join(path, INDEX_JSON)
        if not os.path.isfile(cfg_file):
            raise DataError(
                f"no index at {path} (missing {INDEX_JSON}); build one with `simsent index build`"
            )
        try:
            index = cls._read(path, cfg_file, spool_dir)
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
    def _read(cls, path: str, cfg_file: str, spool_dir: str | None) -> VectorIndex:
        with open(cfg_file, encoding="utf-8") as f:
            cfg = json.load(f)
        if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
            raise DataError(f"{cfg_file} is not a simsent index")
        engine = "numpy" if cfg.get("engine", "faiss") == "numpy" else "faiss"
        params = {"binary_threshold": "zero", **cfg.get("params", {})}  # indexes written before the mean
        index = cls(cfg["dim"], backend=cfg["backend"], model_info=cfg.get("model"), engine=engine,
                    **{k: v for k, v in params.items() if k in _PARAM_NAMES})
        index.vectors = backend_class(index.backend, engine).load(path, index.dim, index.params)
        index.records = RecordStore.open(path, spool_dir)
        if len(index.vectors) != len(index.records):
            raise DataError(f"{path}: {len(index.vectors)} vectors but {len(index.records)} records; "
                            "rebuild the index")
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


#: the saved parameters: every constructor argument but the index's identity, engine and spool folder
_PARAM_NAMES = tuple(n for n in inspect.signature(VectorIndex.__init__).parameters
                     if n not in ("self", "dim", "backend", "model_info", "engine", "spool_dir"))
