"""Where training rows come from, behind one interface: rows in memory, or a file streamed lazily.

The Trainer asks a :class:`RowSource` to prepare its rows for the objective, for a loader of each
process's batches, for one epoch's batches from a resume point and for a fingerprint for the resume
key; it never asks which kind it holds. :func:`row_source` chooses once.

Example:
    >>> source = row_source(["今天天气不错", "花呗怎么还款"])
    >>> type(source).__name__, len(source)
    ('InMemoryRows', 2)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from simsent.data.streaming import StreamingRows, check_streamable, to_device
from simsent.errors import DataError

#: ``collate_for(tokenize)``: the batch collator over a tokenise function
CollateFor = Callable[[Callable], Callable[[list[Any]], Any]]


class RowSource(Protocol):
    """Training rows, as the Trainer uses them."""

    def prepare_for(self, objective: Any, max_rows: int | None, seed: int, dedup: bool) -> None:
        """Shape the rows for ``objective`` and check them (distinct rows, varied labels, what it needs)."""

    def __len__(self) -> int: ...

    def fingerprint(self) -> str:
        """What a resumed run's data must match."""

    def loader(self, collate_for: CollateFor, tokenize: Callable, text_columns: Sequence[str],
               batch_size: int, seed: int, rank: int, world: int, pin_memory: bool,
               **tokenize_kw: Any) -> Any:
        """Shuffled batches (seeded) of one epoch at a time."""

    def prepared(self, loader: Any, accelerator: Any) -> Any:
        """The loader made ready for the accelerator's processes and device."""

    def epoch(self, loader: Any, epoch: int, skip: int, accelerator: Any) -> Iterable[Any]:
        """The batches of ``epoch`` from batch ``skip`` on, on the accelerator's device."""


class InMemoryRows:
    """Rows held in memory: shaped, sampled and deduplicated once, texts tokenised once up front."""

    def __init__(self, rows: Sequence[Any]) -> None:
        self.rows: list[Any] = list(rows)

    def prepare_for(self, objective: Any, max_rows: int | None, seed: int, dedup: bool) -> None:
        from simsent.data.sampling import check_distinct, sample_rows

        self.rows = sample_rows(objective.prepare_rows(self.rows), max_rows, seed, dedup)
        if not self.rows:
            raise DataError("no training rows")
        if objective.needs_varied_labels:
            objective.check_label_variety({r[objective.label_column] for r in self.rows})
        check_distinct(len({_row_key(r) for r in self.rows}))

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.rows)

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.rows, sort_keys=True, ensure_ascii=False, default=str)
                              .encode()).hexdigest()[:16]

    def loader(self, collate_for: CollateFor, tokenize: Callable, text_columns: Sequence[str],
               batch_size: int, seed: int, rank: int, world: int, pin_memory: bool,
               **tokenize_kw: Any) -> Any:
        import torch
        from torch.utils.data import DataLoader

        from simsent.data.pretokenized import PretokenizedTexts

        stored = PretokenizedTexts(tokenize, [str(row[c]) for row in self.rows for c in text_columns],
                                   **tokenize_kw)
        return DataLoader(self.rows, batch_size=batch_size, shuffle=True,
                          generator=torch.Generator().manual_seed(seed), collate_fn=collate_for(stored),
                          drop_last=len(self.rows) > batch_size, pin_memory=pin_memory)

    def prepared(self, loader: Any, accelerator: Any) -> Any:
        return accelerator.prepare(loader)  # each process takes its slice of every global batch

    def epoch(self, loader: Any, epoch: int, skip: int, accelerator: Any) -> Iterable[Any]:
        loader.set_epoch(epoch)
        return accelerator.skip_first_batches(loader, skip) if skip else loader


class StreamedRows(StreamingRows):
    """A training file read lazily at each epoch (:mod:`simsent.data.streaming`), sharded per process."""

    def prepare_for(self, objective: Any, max_rows: int | None, seed: int, dedup: bool) -> None:
        check_streamable(objective, dedup)
        self.max_rows = max_rows
        self.scan(objective.prepare_rows, objective.label_column)
        objective.check_label_variety(self.labels, self.path)

    def fingerprint(self) -> str:
        return f"streamed:{super().fingerprint()}"

    def loader(self, collate_for: CollateFor, tokenize: Callable, text_columns: Sequence[str],
               batch_size: int, seed: int, rank: int, world: int, pin_memory: bool,
               **tokenize_kw: Any) -> Any:
        return super().loader(collate_for(tokenize), batch_size, seed, rank, world, pin_memory)

    def prepared(self, loader: Any, accelerator: Any) -> Any:
        return loader  # already this process's shard; batches are moved to the device as they come

    def epoch(self, loader: Any, epoch: int, skip: int, accelerator: Any) -> Iterable[Any]:
        loader.set_epoch(epoch)
        loader.skip_first(skip)
        return (to_device(batch, accelerator.device) for batch in loader)


def row_source(rows: Sequence[Any] | RowSource) -> RowSource:
    """``rows`` as a row source: a source as it is, a :class:`StreamingRows` streamed, anything else held
    in memory."""
    if isinstance(rows, (InMemoryRows, StreamedRows)):
        return rows
    if isinstance(rows, StreamingRows):
        return StreamedRows(rows.path, rows.buffer_size, rows.max_rows, rows.workers)
    return InMemoryRows(rows)


def _row_key(row: Any) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)
