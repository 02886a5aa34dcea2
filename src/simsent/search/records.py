"""The ids, texts and payloads of an index's rows, kept off the Python heap.

Records are JSON lines in a file (``records.jsonl`` in a saved index; while one is built, a spool file
in a temporary folder beside the output when the caller names one, else in ``$TMPDIR``) read through
``mmap``; memory holds three integers a row (the line's offset,
a 64-bit hash of its id and the position that sorts the hashes), so a 10M-row index's records need
about 240 MB of address space rather than a Python object each. Ids are looked up by hash and checked
against the stored line; the rare distinct ids that share a hash are kept in a small dict.

Example:
    >>> store = RecordStore()
    >>> store.append(["q1", "q2"], ["花呗怎么还款", "如何开通花呗"], [{}, {"answer": "..."}])
    >>> store.position("q2"), store[0]["text"]
    (1, '花呗怎么还款')
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import mmap
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from simsent._io import temp_dir, write_fault_message
from simsent.errors import DataError

logger = logging.getLogger(__name__)

RECORDS = "records.jsonl"
OFFSETS = "records_offsets.npy"  # int64, one more than rows: where each line starts
ID_HASHES = "records_id_hashes.npy"  # uint64 hashes of the ids, sorted
ID_ORDER = "records_id_order.npy"  # int64: the row of each sorted hash
ID_OVERFLOW = "records_id_overflow.json"  # ids whose hash another id took first


def id_hashes(ids: Sequence[str]) -> np.ndarray:
    """64-bit hashes of ``ids`` (stable across runs and machines)."""
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(i.encode("utf-8"), digest_size=8).digest(), "little") for i in ids),
        dtype=np.uint64, count=len(ids),
    )


class RecordStore:
    """Records by position and by id; appended to, saved into an index folder, opened from one.

    ``spool_dir``: where the file of appended records is written until :meth:`save` (a temporary folder
    made there, removed when the store is closed or the process ends); default the system's temporary
    folder.
    """

    def __init__(self, spool_dir: str | None = None) -> None:
        self.spool_dir = spool_dir
        self._source: str | None = None  # a saved records file, read until the first append
        self._spool: str | None = None
        self._cleanup: Any = None
        self._out: Any = None
        self._map: mmap.mmap | None = None
        self._offsets = [np.zeros(1, np.int64)]
        self._hashes = np.zeros(0, np.uint64)
        self._order = np.zeros(0, np.int64)
        self._overflow: dict[str, int] = {}

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return sum(len(o) for o in self._offsets) - 1

    def _line(self, pos: int) -> bytes:
        if len(self._offsets) > 1:
            self._offsets = [np.concatenate(self._offsets)]
        start, end = int(self._offsets[0][pos]), int(self._offsets[0][pos + 1])
        if self._map is None or len(self._map) < end:
            self._remap()
        assert self._map is not None
        return self._map[start:end]

    def _remap(self) -> None:
        if self._out is not None:
            self._out.flush()
        path = self._spool or self._source
        with open(path, "rb") as f:  # type: ignore[arg-type]
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

    def __getitem__(self, pos: int) -> dict[str, Any]:
        """The record at row ``pos``: ``{"id", "text", "payload"}``."""
        if not 0 <= pos < len(self):
            raise IndexError(pos)
        rec = json.loads(self._line(pos))
        return {"id": rec["id"], "text": rec.get("text"), "payload": rec.get("payload") or {}}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self[i] for i in range(len(self)))

    def position(self, rid: str) -> int | None:
        """The row of id ``rid``, or ``None``."""
        if rid in self._overflow:
            return self._overflow[rid]
        h = id_hashes([rid])[0]
        at = int(np.searchsorted(self._hashes, h))
        if at < len(self._hashes) and self._hashes[at] == h:
            pos = int(self._order[at])
            if self[pos]["id"] == rid:
                return pos
        return None

    # ------------------------------------------------------------------ writing
    def append(self, ids: Sequence[str], texts: Sequence[str | None],
               payloads: Sequence[dict[str, Any]]) -> None:
        """Add rows; an id already present (or twice in ``ids``) is a :class:`DataError`."""
        start = len(self)
        fresh = self._check_new_ids(ids, start)
        lines = [json.dumps({"id": i, "text": t, "payload": p}, ensure_ascii=False).encode("utf-8") + b"\n"
                 for i, t, p in zip(ids, texts, payloads, strict=True)]
        try:
            out = self._writer()
            out.writelines(lines)
            out.flush()
        except OSError as exc:  # a full disk or a file-size limit where the records are spooled
            where = self._spool or self.spool_dir or tempfile.gettempdir()
            self.close()
            raise DataError(write_fault_message(exc, where) or f"cannot write {where}: {exc}") from exc
        ends = self._offsets[-1][-1] + np.cumsum([len(line) for line in lines], dtype=np.int64)
        self._offsets.append(ends)
        self._merge_hashes(fresh, start)

    def _check_new_ids(self, ids: Sequence[str], start: int) -> tuple[np.ndarray, np.ndarray]:
        """The hashes of ``ids`` and which of them join the sorted arrays, after refusing duplicates;
        an id whose hash another id holds goes to the overflow dict instead."""
        hashes = id_hashes(ids)
        at = np.minimum(np.searchsorted(self._hashes, hashes), max(0, len(self._hashes) - 1))
        taken = (self._hashes[at] == hashes) if len(self._hashes) else np.zeros(len(ids), bool)
        _, first, counts = np.unique(hashes, return_index=True, return_counts=True)
        repeated = np.ones(len(ids), bool)
        repeated[first[counts == 1]] = False
        keep = np.ones(len(ids), bool)
        holders: dict[int, str] = {}
        for i in np.flatnonzero(taken | repeated | bool(self._overflow)):
            rid, h = ids[i], int(hashes[i])
            present = taken[i] and self.position(rid) is not None
            if rid in self._overflow or present or holders.get(h) == rid:
                raise DataError(f"duplicate id {rid!r}: ids must be unique within an index")
            if taken[i] or h in holders:
                self._overflow[rid] = start + int(i)
                keep[i] = False
            else:
                holders[h] = rid
        return hashes, keep

    def _merge_hashes(self, fresh: tuple[np.ndarray, np.ndarray], start: int) -> None:
        hashes, keep = fresh
        rows = np.arange(start, start + len(hashes), dtype=np.int64)[keep]
        merged = np.concatenate([self._hashes, hashes[keep]])
        order = np.argsort(merged, kind="stable")  # two sorted runs after the first: linear
        self._hashes = merged[order]
        self._order = np.concatenate([self._order, rows])[order]

    def _writer(self) -> Any:
        """The spool file, opened for appending (a saved store's file copied into it first)."""
        if self._out is None:
            folder = (temp_dir(self.spool_dir, "records") if self.spool_dir
                      else tempfile.mkdtemp(prefix="simsent-records-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, folder, True)  # at close or exit
            self._spool = os.path.join(folder, RECORDS)
            if self._source is not None:
                shutil.copyfile(self._source, self._spool)
            self._out = open(self._spool, "ab")  # noqa: SIM115 - held until close()
            self._map = None
        return self._out

    # ------------------------------------------------------------------ files
    def save(self, folder: str) -> None:
        """Write the records and their lookup arrays into ``folder``."""
        target = os.path.join(folder, RECORDS)
        if self._out is not None:
            self._out.flush()
        source = self._spool or self._source
        if source is None:
            open(target, "wb").close()
        else:
            shutil.copyfile(source, target)
        if len(self._offsets) > 1:
            self._offsets = [np.concatenate(self._offsets)]
        np.save(os.path.join(folder, OFFSETS), self._offsets[0])
        np.save(os.path.join(folder, ID_HASHES), self._hashes)
        np.save(os.path.join(folder, ID_ORDER), self._order)
        if self._overflow:
            with open(os.path.join(folder, ID_OVERFLOW), "w", encoding="utf-8") as f:
                json.dump(self._overflow, f, ensure_ascii=False)

    @classmethod
    def open(cls, folder: str, spool_dir: str | None = None) -> RecordStore:
        """The records saved in ``folder`` (memory-mapped); an index written before the lookup arrays
        is scanned once. Rows appended later are spooled in ``spool_dir``."""
        store = cls(spool_dir)
        store._source = os.path.join(folder, RECORDS)
        if not os.path.isfile(os.path.join(folder, OFFSETS)):
            return store._scan()
        store._offsets = [np.load(os.path.join(folder, OFFSETS), mmap_mode="r", allow_pickle=False)]
        store._hashes = np.load(os.path.join(folder, ID_HASHES), mmap_mode="r", allow_pickle=False)
        store._order = np.load(os.path.join(folder, ID_ORDER), mmap_mode="r", allow_pickle=False)
        overflow = os.path.join(folder, ID_OVERFLOW)
        if os.path.isfile(overflow):
            with open(overflow, encoding="utf-8") as f:
                store._overflow = {str(k): int(v) for k, v in json.load(f).items()}
        size = os.path.getsize(store._source)
        if int(store._offsets[0][-1]) != size:
            said = int(store._offsets[0][-1])
            raise DataError(f"{folder}: {RECORDS} has {size} bytes, its offsets say {said}; rebuild the "
                            "index")
        return store

    def _scan(self) -> RecordStore:
        """Offsets and id hashes of a records file that has none saved (format 1)."""
        logger.info("reading the records of %s once (an index saved before simsent kept their offsets)",
                    self._source)
        ends, ids = [], []
        with open(self._source, "rb") as f:  # type: ignore[arg-type]
            at = 0
            for line in f:
                at += len(line)
                ends.append(at)
                ids.append(json.loads(line)["id"])
        self._offsets = [np.zeros(1, np.int64), np.asarray(ends, np.int64)]
        self._merge_hashes(self._check_new_ids(ids, 0), 0)
        return self

    def close(self) -> None:
        """Release the map and delete the spool file."""
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._out is not None:
            with contextlib.suppress(OSError):  # a write that already failed fails again on the flush
                self._out.close()
            self._out = None
        if self._cleanup is not None:
            self._cleanup()  # the spool's temporary folder
            self._cleanup = None
        self._spool = None

    def __del__(self) -> None:
        self.close()


class Column(Sequence):
    """One field of every record (``ids``, ``texts``, ``payloads``), read on demand.

    Example:
        >>> store = RecordStore(); store.append(["a"], ["x"], [{}])
        >>> list(Column(store, "text"))
        ['x']
    """

    def __init__(self, store: RecordStore, key: str) -> None:
        self.store, self.key = store, key

    def __len__(self) -> int:
        return len(self.store)

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        if isinstance(i, slice):
            return [self.store[j][self.key] for j in range(*i.indices(len(self)))]
        return self.store[i if i >= 0 else len(self) + i][self.key]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]
