"""Seeded sampling: the one place where rows are deduplicated, subsampled and split.

Example:
    >>> seeded_subset(list(range(10)), 3, seed=1)
    [1, 2, 4]
    >>> seeded_halves(list(range(4)), seed=0)
    ([2, 0], [1, 3])
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from typing import Any, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")


def dedup(rows: Sequence[T]) -> list[T]:
    """Drop repeated rows (dicts compared by content), keeping the first of each, in order."""
    seen, unique = set(), []
    for r in rows:
        key = json.dumps(r, sort_keys=True, ensure_ascii=False) if isinstance(r, dict) else r
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return unique


def seeded_subset(items: Sequence[T], n: int | None, seed: int) -> list[T]:
    """A seeded random subset of ``n`` items in their original order (all of them when ``n`` is None)."""
    items = list(items)
    if n is None or len(items) <= n:
        return items
    idx = sorted(random.Random(seed).sample(range(len(items)), n))
    return [items[i] for i in idx]


def sample_rows(rows: Sequence[T], max_samples: int | None, seed: int, dedup_rows: bool = False) -> list[T]:
    """Deduplicate (optionally), then keep a seeded random subset of ``max_samples`` rows."""
    rows = list(rows)
    if dedup_rows:
        unique = dedup(rows)
        logger.info("dedup: %d -> %d rows", len(rows), len(unique))
        rows = unique
    return seeded_subset(rows, max_samples, seed)


def check_distinct(distinct: int, source: str = "the training data") -> None:
    """A one-line DataError when ``source`` holds fewer than 2 distinct rows (nothing to compare).

    Example:
        >>> check_distinct(1, "s.txt")
        Traceback (most recent call last):
        ...
        simsent.errors.DataError: nothing to learn from: s.txt holds 1 distinct row(s), ...
    """
    if distinct < 2:
        from simsent.errors import DataError

        raise DataError(
            f"nothing to learn from: {source} holds {distinct} distinct row(s), and contrastive and pair "
            "objectives learn by comparing at least 2; give more training text"
        )


def seeded_halves(rows: Sequence[Any], seed: int) -> tuple[list[Any], list[Any]]:
    """Shuffle ``rows`` with ``seed`` and cut them in two halves (the first gets the smaller half)."""
    rows = list(rows)
    random.Random(seed).shuffle(rows)
    half = len(rows) // 2
    return rows[:half], rows[half:]
