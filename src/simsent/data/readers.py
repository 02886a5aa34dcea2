"""Readers that turn files into rows with canonical columns.

Canonical columns: ``sentence`` | ``sentence1, sentence2, score`` (or ``label``) |
``anchor, positive, negative``. Supported inputs: the senteval_cn format
(``text_a<TAB>text_b<TAB>label``, extension ``.data``), one sentence per line (``.txt``), CSV/TSV
with a header, JSONL, and a ``datasets.Dataset``.

A malformed line is logged with its file and line number and skipped; the number of skipped
lines is logged too. A file with no usable line is an error.

Example:
    >>> rows = read_senteval("STS-B.valid.data")     # doctest: +SKIP
    >>> rows[0]                                      # doctest: +SKIP
    {'sentence1': '一架飞机要起飞了。', 'sentence2': '一架飞机正在起飞。', 'score': 5.0}
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from simsent.errors import DataError

logger = logging.getLogger(__name__)

#: accepted column names -> canonical name
ALIASES = {
    "text": "sentence",
    "sent": "sentence",
    "query": "anchor",
    "text_a": "sentence1",
    "text_b": "sentence2",
    "sent1": "sentence1",
    "sent2": "sentence2",
    "sentence_a": "sentence1",
    "sentence_b": "sentence2",
    "label": "score",
    "similarity": "score",
    "pos": "positive",
    "neg": "negative",
    "hard_negative": "negative",
}


def _check_file(path: str | os.PathLike) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"file not found: {path}")
    return path


def _report(path: str, skipped: int, kept: int) -> None:
    if skipped:
        logger.warning("%s: skipped %d malformed line(s), kept %d", path, skipped, kept)
    if kept == 0:
        raise DataError(f"{path}: no usable line (the file is empty or every line is malformed)")


class LineCounts:
    """Kept and skipped line counts of one file, filled in by :func:`parse_lines`."""

    def __init__(self) -> None:
        self.kept = 0
        self.skipped = 0


def parse_lines(
    path: str, lines: Iterable[str], parse: Callable[[str], Any], counts: LineCounts
) -> Iterator[Any]:
    """Yield ``parse(line)`` for every non-blank line; a ValueError skips the line with a logged reason.

    Example:
        >>> counts = LineCounts()
        >>> list(parse_lines("x.jsonl", ['{"a": 1}', "oops"], json_object, counts)), counts.skipped
        ([{'a': 1}], 1)
    """
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = parse(line)
        except ValueError as exc:
            counts.skipped += 1
            logger.warning("%s:%d: malformed line skipped (%s)", path, lineno, exc)
            continue
        counts.kept += 1
        yield record


def json_object(line: str) -> dict[str, Any]:
    """One JSON object; anything else is a ValueError."""
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    return obj


def senteval_row(line: str) -> dict[str, Any]:
    """``text_a<TAB>text_b<TAB>label`` -> ``{"sentence1", "sentence2", "score"}``; ValueError if malformed."""
    parts = line.rstrip("\r\n").split("\t")
    if len(parts) != 3:
        raise ValueError(f"expected 3 tab-separated fields, found {len(parts)}")
    score = float(parts[2])
    if not parts[0].strip() or not parts[1].strip():
        raise ValueError("empty sentence")
    return {"sentence1": parts[0], "sentence2": parts[1], "score": score}


def _read_lines(path: str | os.PathLike, parse: Callable[[str], Any]) -> list[Any]:
    path = _check_file(path)
    counts = LineCounts()
    with open(path, encoding="utf-8") as f:
        rows = list(parse_lines(path, f, parse, counts))
    _report(path, counts.skipped, counts.kept)
    return rows


def read_senteval(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read ``text_a<TAB>text_b<TAB>label`` lines into ``sentence1, sentence2, score`` rows."""
    return _read_lines(path, senteval_row)


def read_sentences(path: str | os.PathLike) -> list[str]:
    """Read one sentence per line; blank lines are ignored (and counted in the log)."""
    path = _check_file(path)
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    out = [s for s in lines if s]
    if len(out) < len(lines):
        logger.info("%s: ignored %d blank line(s)", path, len(lines) - len(out))
    _report(path, 0, len(out))
    return out


def read_table(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read a CSV (comma) or TSV (tab) file with a header row."""
    path = _check_file(path)
    delimiter = "\t" if path.endswith((".tsv", ".tab")) else ","
    rows, skipped = [], 0
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        if not reader.fieldnames:
            raise DataError(f"{path}: empty file or missing header row")
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                skipped += 1
                logger.warning("%s:%d: wrong number of fields, line skipped", path, reader.line_num)
                continue
            rows.append(dict(row))
    _report(path, skipped, len(rows))
    return rows


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read one JSON object per line."""
    return _read_lines(path, json_object)


def read_any(source: Any) -> list[dict[str, Any]] | list[str]:
    """Dispatch on the type or extension: Dataset, ``.data``, ``.txt``, ``.csv``/``.tsv``, ``.jsonl``."""
    if hasattr(source, "column_names") and hasattr(source, "to_list"):
        return [dict(r) for r in source.to_list()]
    if isinstance(source, (list, tuple)):
        return list(source)
    path = os.fspath(source)
    if path.endswith(".data"):
        return read_senteval(path)
    if path.endswith((".csv", ".tsv", ".tab")):
        return read_table(path)
    if path.endswith((".jsonl", ".json")):
        return read_jsonl(path)
    return read_sentences(path)


def canonical(row: dict[str, Any]) -> dict[str, Any]:
    """Rename known aliases (``text_a`` -> ``sentence1``, ``label`` -> ``score``, ...)."""
    return {ALIASES.get(k, k): v for k, v in row.items()}


def rows_for_columns(
    rows: Sequence[dict[str, Any]] | Sequence[str],
    text_columns: Sequence[str],
    label_column: str | None = None,
    source: str = "data",
) -> list[dict[str, Any]]:
    """Shape rows for an objective's columns, or raise a one-line error naming what is expected.

    Plain strings become ``{"sentence": s}``. When only ``sentence`` is wanted, paired rows give
    both of their sentences (text only, labels ignored).
    """
    out: list[dict[str, Any]] = []
    want = list(text_columns) + ([label_column] if label_column else [])
    for row in rows:
        if isinstance(row, str):
            row = {"sentence": row}
        row = canonical(row)
        if list(text_columns) == ["sentence"] and "sentence" not in row and "sentence1" in row:
            out.extend({"sentence": row[c]} for c in ("sentence1", "sentence2") if row.get(c))
            continue
        if label_column == "score" and "score" not in row and "label" in row:
            row["score"] = row["label"]
        missing = [c for c in want if c not in row]
        if missing:
            raise DataError(
                f"{source}: missing column(s) {', '.join(missing)}; this objective expects columns "
                f"{', '.join(want)} (found: {', '.join(map(str, row)) or 'none'})"
            )
        shaped = {c: row[c] for c in want}
        if label_column:
            try:
                shaped[label_column] = float(shaped[label_column])
            except (TypeError, ValueError) as exc:
                raise DataError(f"{source}: label {shaped[label_column]!r} is not a number") from exc
        out.append(shaped)
    if not out:
        raise DataError(f"{source}: no rows")
    return out


def sentences_of(rows: Iterable[dict[str, Any]] | Iterable[str]) -> list[str]:
    """All texts of rows (both sides of pairs), in order."""
    out: list[str] = []
    for row in rows:
        if isinstance(row, str):
            out.append(row)
            continue
        row = canonical(row)
        for c in ("sentence", "sentence1", "sentence2", "anchor", "positive", "negative"):
            if isinstance(row.get(c), str) and row[c]:
                out.append(row[c])
    return out
