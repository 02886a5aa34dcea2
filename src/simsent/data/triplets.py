"""Rows of (anchor, positive, negative) for supervised SimCSE, from the usual input shapes.

Accepted shapes (any mix, after column aliases ``query -> anchor``, ``pos -> positive``,
``neg`` / ``hard_negative`` / ``hard_neg`` -> ``negative``, ``sent0, sent1`` -> ``anchor, positive``):

* JSONL ``{"query": "...", "pos": ["...", ...], "neg": ["...", ...]}``: one row per positive;
  positive ``i`` gets negative ``i mod len(neg)``.
* flat rows ``{"anchor", "positive", "negative"}`` (CSV/TSV with a header, JSONL).
* a 3-column TSV/CSV without header (:func:`read_triplets`; ``read_table`` output whose header is
  in fact the first triplet is recovered too).

Rows without a hard negative (empty or missing ``neg``) get a seeded random sentence from the
positives of *other* rows, i.e. an extra in-batch-style negative, so every row has three texts.

Example:
    >>> expand_triplets([{"query": "q", "pos": ["p1", "p2"], "neg": ["n1"]}])
    [{'anchor': 'q', 'positive': 'p1', 'negative': 'n1'}, {'anchor': 'q', 'positive': 'p2', 'negative': 'n1'}]
"""

from __future__ import annotations

import csv
import logging
import os
import random
from collections.abc import Sequence
from typing import Any

from simsent._io import check_input_file, open_text, table_dialect
from simsent.data.columns import ALIASES, canonical, canonical_name
from simsent.data.readers import read_jsonl
from simsent.errors import DataError

logger = logging.getLogger(__name__)

COLUMNS = ("anchor", "positive", "negative")
_KNOWN = set(COLUMNS) | set(ALIASES)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if str(v).strip()]
    return [str(value)] if str(value).strip() else []


def _headerless(rows: Sequence[Any]) -> bool:
    first = rows[0] if rows else None
    return isinstance(first, dict) and len(first) == 3 and not (set(first) & _KNOWN)


def _random_other(pool: Sequence[str], avoid: tuple[str, ...], rng: random.Random, source: str) -> str:
    for _ in range(20):
        cand = rng.choice(pool)
        if cand not in avoid:
            return cand
    others = [p for p in pool if p not in avoid]
    if not others:
        raise DataError(
            f"{source}: rows without a hard negative need other rows' positives to borrow a random "
            "negative from; add a negative column"
        )
    return rng.choice(others)


def expand_triplets(
    rows: Sequence[dict[str, Any]], seed: int = 42, source: str = "training data"
) -> list[dict]:
    """Flatten any accepted shape into ``{"anchor", "positive", "negative"}`` rows (see module doc)."""
    rows = list(rows)
    if _headerless(rows):  # read_table took the first triplet for a header
        keys = list(rows[0])
        rows = [dict(zip(COLUMNS, keys, strict=True))] + [
            dict(zip(COLUMNS, r.values(), strict=True)) for r in rows
        ]
    out: list[dict[str, Any]] = []
    for row in rows:
        if not isinstance(row, dict):
            raise DataError(
                f"{source}: supervised SimCSE expects rows with columns anchor, positive, negative "
                f"(or JSONL query/pos/neg); got a plain {type(row).__name__}"
            )
        row = canonical(row)
        if "anchor" not in row and "sentence1" in row:
            row["anchor"], row["positive"] = row.pop("sentence1"), row.get("sentence2", row.get("positive"))
        anchor, positives, negatives = (
            row.get("anchor"),
            _as_list(row.get("positive")),
            _as_list(row.get("negative")),
        )
        if not isinstance(anchor, str) or not anchor.strip() or not positives:
            raise DataError(
                f"{source}: supervised SimCSE expects columns anchor, positive, negative (JSONL: query, "
                f"pos, neg); found: {', '.join(map(str, row)) or 'none'}"
            )
        for i, pos in enumerate(positives):
            out.append(
                {
                    "anchor": anchor,
                    "positive": pos,
                    "negative": negatives[i % len(negatives)] if negatives else None,
                }
            )
    missing = [r for r in out if r["negative"] is None]
    if missing:
        pool = sorted({r["positive"] for r in out})
        rng = random.Random(seed)
        for r in missing:
            r["negative"] = _random_other(pool, (r["positive"], r["anchor"]), rng, source)
        logger.info(
            "%s: %d of %d triplet(s) had no hard negative; a random other positive was used",
            source,
            len(missing),
            len(out),
        )
    return out


def read_triplets(path: str | os.PathLike, seed: int = 42) -> list[dict[str, Any]]:
    """Read a triplet file: JSONL (query/pos/neg lists or flat), CSV/TSV with or without a header."""
    path = check_input_file(path)
    if path.endswith((".jsonl", ".json")):
        return expand_triplets(read_jsonl(path), seed, source=path)
    with open_text(path, newline="") as f:
        lines = [r for r in csv.reader(f, **table_dialect(path)) if any(c.strip() for c in r)]
    if not lines:
        raise DataError(f"{path}: empty file")
    header = [canonical_name(c, triplet_format="sent0" in lines[0]) for c in lines[0]]
    if set(COLUMNS) <= set(header):
        rows = [dict(zip(header, r, strict=False)) for r in lines[1:]]
    else:
        bad = [i for i, r in enumerate(lines, 1) if len(r) != 3]
        if bad:
            raise DataError(
                f"{path}:{bad[0]}: expected 3 columns (anchor, positive, negative) or a header naming them"
            )
        rows = [dict(zip(COLUMNS, r, strict=True)) for r in lines]
    return expand_triplets(rows, seed, source=path)


def triplets_from_pairs(
    rows: Sequence[dict[str, Any]], positive_min: float = 1.0, negative_max: float = 0.0, seed: int = 42
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Build triplets from scored pairs: ``score >= positive_min`` pairs are (anchor, positive).

    The hard negative of anchor ``a`` is a seeded random partner of ``a`` (either side of a pair)
    with ``score <= negative_max``; when ``a`` has none, ``negative`` is ``None`` and
    :func:`expand_triplets` later fills it with a random other positive (an in-batch-style
    negative). Returns (rows, counts) with counts ``triplets``, ``hard_negatives``, ``random_negatives``.

    Example:
        >>> rows = [{"sentence1": "a", "sentence2": "b", "score": 1},
        ...         {"sentence1": "c", "sentence2": "a", "score": 0}]
        >>> triplets_from_pairs(rows)[0]
        [{'anchor': 'a', 'positive': 'b', 'negative': 'c'}]
    """
    rng = random.Random(seed)
    negatives: dict[str, list[str]] = {}
    for r in rows:
        r = canonical(r)
        if float(r["score"]) <= negative_max:
            negatives.setdefault(r["sentence1"], []).append(r["sentence2"])
            negatives.setdefault(r["sentence2"], []).append(r["sentence1"])
    out = []
    for r in rows:
        r = canonical(r)
        if float(r["score"]) >= positive_min:
            cands = negatives.get(r["sentence1"], [])
            out.append(
                {
                    "anchor": r["sentence1"],
                    "positive": r["sentence2"],
                    "negative": rng.choice(cands) if cands else None,
                }
            )
    hard = sum(t["negative"] is not None for t in out)
    return out, {"triplets": len(out), "hard_negatives": hard, "random_negatives": len(out) - hard}


def positive_pairs(path: str | os.PathLike, positive_min: float | None = None) -> list[dict[str, Any]]:
    """``{"anchor", "positive"}`` rows of a file: scored pairs (``.data``, a table or JSONL with
    ``sentence1, sentence2, score``) scoring at least ``positive_min`` (default: the top score), or rows
    that name ``anchor, positive`` (JSONL ``query, pos``) as they are.

    Example:
        >>> positive_pairs("lcqmc_dev.tsv")[0]                                # doctest: +SKIP
        {'anchor': '花呗怎么还款', 'positive': '花呗如何还钱'}
    """
    from simsent.data.readers import read_any, read_pairs

    try:
        scored = read_pairs(path)
    except DataError:
        named = [canonical(r) for r in read_any(path) if isinstance(r, dict)]
        rows = [{"anchor": r["anchor"], "positive": p} for r in named if "anchor" in r
                for p in _as_list(r.get("positive"))]
        if not rows:
            raise DataError(
                f"{path}: expected positive pairs: anchor, positive (JSONL query, pos) or sentence1, "
                "sentence2, score"
            ) from None
        return rows
    top = max(float(r["score"]) for r in scored) if positive_min is None else positive_min
    rows = [
        {"anchor": r["sentence1"], "positive": r["sentence2"]} for r in scored if float(r["score"]) >= top
    ]
    if not rows:
        raise DataError(f"{path}: no pair scores at least {top:g}; lower --positive-min")
    return rows
