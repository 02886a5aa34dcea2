"""Training data larger than memory: a file read lazily, shuffled through a seeded buffer, tokenised in
DataLoader workers, each process taking its shard of every global batch.

A first pass (:meth:`StreamingRows.scan`) reads the file once without keeping it: it counts the rows
(for the schedule), reports malformed lines with file and line number, checks that the rows fit the
objective and are not all one row. Each epoch then reads the file again, lazily; rows pass through a
shuffle buffer seeded by (seed, epoch), so the order of epoch ``e`` is a function of the file, the seed
and ``e`` alone. Resuming at step ``k`` re-reads and skips the first ``k`` batches without tokenising
them: nothing else needs recording. Memory holds the buffer and a few batches, whatever the file's size.

With ``W`` workers, worker ``w`` tokenises global batches ``w, w + W, ...`` and the DataLoader takes them
in turn, so the order is the same with any number of workers. With ``P`` processes, process ``p`` takes
rows ``[p * B / P, (p + 1) * B / P)`` of every global batch of ``B`` rows (as ``accelerate``'s
``split_batches`` does for in-memory data).

Example:
    >>> rows = StreamingRows("big.txt", buffer_size=10000)                          # doctest: +SKIP
    >>> rows.scan(objective.prepare_rows); len(rows)                                # doctest: +SKIP
    5000000
    >>> list(shuffled(range(6), buffer_size=3, seed=1))
    [0, 2, 3, 4, 5, 1]
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from simsent.errors import ConfigError

logger = logging.getLogger(__name__)

#: rows shaped by the objective at a time while reading
SHAPE_BLOCK = 1024
Prepare = Callable[[list[Any]], list[dict[str, Any]]]


def shuffled(items: Iterable[Any], buffer_size: int, seed: int) -> Iterator[Any]:
    """``items`` in a seeded random order, holding at most ``buffer_size`` of them: each new item replaces
    a random one of the buffer, which is yielded; the rest of the buffer is yielded shuffled at the end.
    Every item comes out exactly once."""
    rng = random.Random(seed)
    buffer: list[Any] = []
    for item in items:
        if len(buffer) < buffer_size:
            buffer.append(item)
            continue
        j = rng.randrange(buffer_size)
        yield buffer[j]
        buffer[j] = item
    rng.shuffle(buffer)
    yield from buffer


def epoch_seed(seed: int, epoch: int) -> int:
    """The shuffle seed of one epoch (distinct per epoch, the same in every process and worker)."""
    return seed * 1_000_003 + epoch


class StreamingRows:
    """A training file read lazily, with what a first pass learnt about it.

    Args:
        path: the training file (any format :func:`~simsent.data.readers.read_any` reads).
        buffer_size: rows held by the shuffle buffer (more: a better shuffle, more memory).
        max_rows: use the first ``max_rows`` rows of the file (more than the file holds is an error).
        workers: DataLoader worker processes that read and tokenise (0: in the training process).
    """

    def __init__(
        self, path: str, buffer_size: int = 10000, max_rows: int | None = None, workers: int = 1
    ) -> None:
        from simsent._io import check_input_file, detect_encoding

        self.path = check_input_file(path)
        self.encoding = detect_encoding(self.path)
        self.buffer_size = buffer_size
        self.max_rows = max_rows
        self.workers = workers
        self.count = 0
        self.prepare: Prepare | None = None

    def _shaped_blocks(self, counts: Any) -> Iterator[list[dict[str, Any]]]:
        """The first ``max_rows`` rows of the file, shaped by ``prepare`` in blocks of :data:`SHAPE_BLOCK`."""
        from simsent.data.readers import iter_file_rows

        if self.prepare is None:
            raise RuntimeError("scan() the rows first")
        rows = islice(iter_file_rows(self.path, counts, self.encoding), self.max_rows)
        while block := list(islice(rows, SHAPE_BLOCK)):
            yield self.prepare(block)

    def rows(self) -> Iterator[dict[str, Any]]:
        """The rows shaped for the objective, in file order (read lazily; the scan reported bad lines)."""
        from simsent.data.readers import LineCounts

        for block in self._shaped_blocks(LineCounts(self.path, quiet=True)):
            yield from block

    def scan(self, prepare: Prepare, label_column: str | None = None) -> None:
        """One pass over the file: count the rows, report malformed lines (file and line number), shape every
        row for the objective (a one-line error otherwise) and refuse data with fewer than 2 distinct rows.
        With ``label_column``, :attr:`labels` holds up to two of its distinct values."""
        from simsent.data.readers import LineCounts
        from simsent.data.sampling import check_distinct

        counts = LineCounts(self.path)
        self.prepare = prepare
        distinct: set[str] = set()
        self.labels: set[Any] = set()
        self.count = 0
        for block in self._shaped_blocks(counts):
            self.count += len(block)
            if len(distinct) < 2:
                distinct.update(json.dumps(r, sort_keys=True, ensure_ascii=False, default=str) for r in block)
            if label_column is not None and len(self.labels) < 2:
                self.labels.update(r[label_column] for r in block)
        counts.report()
        if self.max_rows is not None and self.count < self.max_rows:
            raise ConfigError(
                f"--max-train-samples {self.max_rows} is more than the {self.count} rows of {self.path}; "
                "give a smaller number or leave it out"
            )
        check_distinct(len(distinct), self.path)

    def __len__(self) -> int:
        return self.count

    def fingerprint(self) -> str:
        """What a resumed run must match: the file's bytes and the settings that change the order."""
        import hashlib

        from simsent._io import sha256_file

        key = f"{sha256_file(self.path)}:{self.buffer_size}:{self.max_rows}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def loader(self, collate: Callable[[list[Any]], Any], batch_size: int, seed: int, rank: int = 0,
               world: int = 1, pin_memory: bool = False) -> StreamingLoader:
        """Batches for one process: its shard of every global batch of ``batch_size`` rows."""
        batches = _ShardedBatches(self, collate, batch_size, seed, rank, world)
        return StreamingLoader(batches, self.workers, pin_memory)


class _ShardedBatches(IterableDataset):
    """This process's shard of every global batch of one epoch, collated, from the batch ``skip`` on."""

    def __init__(self, rows: StreamingRows, collate: Callable, batch_size: int, seed: int, rank: int,
                 world: int) -> None:
        super().__init__()
        self.source, self.collate = rows, collate
        self.batch_size, self.seed, self.rank, self.world = batch_size, seed, rank, world
        self.epoch, self.skip = 0, 0

    def steps(self) -> int:
        """Batches per epoch: the last incomplete one is dropped (unless it is the only one)."""
        n = len(self.source)
        return max(1, n // self.batch_size) if n > self.batch_size else 1

    def _global_batches(self) -> Iterator[list[dict[str, Any]]]:
        order = shuffled(self.source.rows(), self.source.buffer_size, epoch_seed(self.seed, self.epoch))
        batch: list[dict[str, Any]] = []
        made = 0
        for row in order:
            batch.append(row)
            if len(batch) == self.batch_size:
                yield batch
                batch, made = [], made + 1
                if made == self.steps():
                    return
        if batch and made == 0:
            yield batch

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        per = -(-self.batch_size // self.world)
        for b, rows in enumerate(self._global_batches()):
            if b < self.skip or (b - self.skip) % workers != worker:
                continue
            yield self.collate(rows[self.rank * per : (self.rank + 1) * per])


class StreamingLoader:
    """Iterable of one epoch's batches (``set_epoch``, ``skip_first``), tokenised in worker processes."""

    def __init__(self, batches: _ShardedBatches, workers: int, pin_memory: bool) -> None:
        self.batches = batches
        self.workers = workers
        self.pin_memory = pin_memory

    def __len__(self) -> int:
        return self.batches.steps()

    def set_epoch(self, epoch: int) -> None:
        self.batches.epoch = epoch

    def skip_first(self, n: int) -> None:
        """Start the next epoch read at batch ``n`` (batches before it are read, not tokenised)."""
        self.batches.skip = n

    def __iter__(self) -> Iterator[Any]:
        if self.workers:
            # the tokenizer's own threads must not be used across the workers' fork
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        loader = DataLoader(
            self.batches,
            batch_size=None,
            num_workers=self.workers,
            pin_memory=self.pin_memory,
            prefetch_factor=4 if self.workers else None,
            # the loader draws its workers' base seed from this generator, not from the global one, so
            # that the dropout masks of the steps after a resume are those of the uninterrupted run
            generator=torch.Generator().manual_seed(0),
        )
        try:
            yield from loader
        finally:
            self.batches.skip = 0


def check_streamable(objective: Any, dedup: bool) -> None:
    """A one-line ConfigError for what streaming cannot do: objectives that shape rows from the whole data
    and ``--dedup`` (it needs every row in memory)."""
    if not getattr(objective, "streams", True):
        raise ConfigError(
            f"--streaming: objective {objective.name!r} builds its rows from the whole data set (e.g. "
            "negatives drawn from other rows); train it without --streaming"
        )
    if dedup:
        raise ConfigError("--streaming cannot --dedup (that needs every row in memory); dedup the file first")


def to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """A collated batch with its tensors on ``device``."""
    from accelerate.utils import send_to_device

    return send_to_device(batch, device, non_blocking=True)
