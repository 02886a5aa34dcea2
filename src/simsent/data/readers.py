"""Readers that turn files into rows with canonical columns.

Rows keep the file's column names; :mod:`simsent.data.columns` maps them to canonical ones.
Supported inputs: the senteval_cn format (``text_a<TAB>text_b<TAB>label``, extension ``.data``), one
sentence per line (``.txt``), CSV/TSV with a header, JSONL, and a ``datasets.Dataset``.

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
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from simsent._io import check_input_file, open_text, table_dialect
from simsent.data.columns import finite_label
from simsent.errors import DataError

logger = logging.getLogger(__name__)

def is_blank(text: str) -> bool:
    """True for text made only of whitespace and invisible format characters (zero-width space, joiners,
    BOM, ...).

    Example:
        >>> is_blank(" \u200b\u200d\ufeff "), is_blank("今天")
        (True, False)
    """
    return all(ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc") for ch in text)


#: malformed lines logged one by one; the rest are counted
LINES_SHOWN = 5


class LineCounts:
    """Kept and skipped lines of one file: the first :data:`LINES_SHOWN` skipped lines are logged with
    their number and reason, the rest only counted (:meth:`report` gives the total). ``quiet``: count
    without logging (a file read again after a pass that reported it).

    Example:
        >>> counts = LineCounts("x.tsv")
        >>> counts.skip(3, "expected 3 fields"); counts.kept = 1; counts.report()
    """

    def __init__(self, path: str = "", quiet: bool = False) -> None:
        self.path = path
        self.quiet = quiet
        self.kept = 0
        self.skipped = 0
        self.first: list[int] = []

    def skip(self, lineno: int, reason: object) -> None:
        self.skipped += 1
        if len(self.first) < LINES_SHOWN and not self.quiet:
            self.first.append(lineno)
            logger.warning("%s:%d: malformed line skipped (%s)", self.path, lineno, reason)

    def report(self, what: str = "no usable line (the file is empty or every line is malformed)") -> None:
        """Log the totals; a file with nothing kept is a DataError."""
        if self.skipped:
            shown = ", ".join(map(str, self.first))
            more = f" (logged: lines {shown}; the rest counted)" if self.skipped > len(self.first) else ""
            logger.warning(
                "%s: skipped %d malformed line(s)%s, kept %d", self.path, self.skipped, more, self.kept
            )
        if self.kept == 0:
            raise DataError(f"{self.path}: {what}")


def parse_lines(
    path: str, lines: Iterable[str], parse: Callable[[str], Any], counts: LineCounts
) -> Iterator[Any]:
    """Yield ``parse(line)`` for every non-blank line; a ValueError skips the line with a logged reason.

    Example:
        >>> counts = LineCounts()
        >>> list(parse_lines("x.jsonl", ['{"a": 1}', "oops"], json_object, counts)), counts.skipped
        ([{'a': 1}], 1)
    """
    counts.path = counts.path or path
    for lineno, line in enumerate(lines, 1):
        if is_blank(line):
            continue
        try:
            record = parse(line)
        except ValueError as exc:
            counts.skip(lineno, exc)
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
    score = finite_label(parts[2])
    if not parts[0].strip() or not parts[1].strip():
        raise ValueError("empty sentence")
    return {"sentence1": parts[0], "sentence2": parts[1], "score": score}


def _read_lines(path: str | os.PathLike, parse: Callable[[str], Any]) -> list[Any]:
    path = check_input_file(path)
    counts = LineCounts(path)
    with open_text(path) as f:
        rows = list(parse_lines(path, f, parse, counts))
    counts.report()
    return rows


def read_senteval(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read ``text_a<TAB>text_b<TAB>label`` lines into ``sentence1, sentence2, score`` rows."""
    return _read_lines(path, senteval_row)


def read_sentences(path: str | os.PathLike) -> list[str]:
    """Read one sentence per line; blank lines are ignored (and counted in the log)."""
    path = check_input_file(path)
    counts = LineCounts(path)
    with open_text(path) as f:
        out = list(_sentence_lines(f, counts))
    counts.report()
    return out


def _sentence_lines(lines: Iterable[str], counts: LineCounts) -> Iterator[str]:
    """The stripped non-blank lines; the blank ones are counted and logged once at the end."""
    blank = 0
    for line in lines:
        text = line.strip()
        if is_blank(text):
            blank += 1
            continue
        counts.kept += 1
        yield text
    if blank and not counts.quiet:
        logger.info("%s: ignored %d blank line(s)", counts.path, blank)


def read_table(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read a CSV (comma, quoted fields) or TSV (tab, no quoting) file with a header row."""
    path = check_input_file(path)
    counts = LineCounts(path)
    with open_text(path, newline="") as f:
        rows = list(_table_rows(path, f, counts))
    counts.report()
    return rows


def _table_rows(path: str, f: Iterable[str], counts: LineCounts) -> Iterator[dict[str, Any]]:
    """Rows of a CSV/TSV: named by its header, or, when the first line is data (two texts: a query and its
    positive; two texts and a number: a scored pair), by position."""
    reader = csv.reader(f, **table_dialect(path))
    first = next(reader, None)
    if not first:
        raise DataError(f"{path}: empty file or missing header row")
    names = positional_columns(first)
    if names:
        counts.kept += 1
        yield dict(zip(names, first, strict=True))
    else:
        names = tuple(first)
    for cells in reader:
        if not cells:
            continue
        if len(cells) != len(names):
            counts.skip(reader.line_num, "wrong number of fields")
            continue
        counts.kept += 1
        yield dict(zip(names, cells, strict=True))


def positional_columns(first: Sequence[str]) -> tuple[str, ...] | None:
    """Column names for a table whose first line is data, not a header: ``anchor, positive`` for two
    texts (a FAQ query and its standard question), ``sentence1, sentence2, score`` for two texts and a
    number; None when a cell is a known column or a name-like word (it is a header: ``foo,bar`` too) or
    the line has another shape.

    Example:
        >>> positional_columns(["花呗怎么还款", "花呗如何还钱"]), positional_columns(["query", "pos"])
        (('anchor', 'positive'), None)
        >>> positional_columns(["how do I repay", "how to pay back"]), positional_columns(["foo", "bar"])
        (('anchor', 'positive'), None)
    """
    import re

    from simsent.data.columns import ALIASES, SENTENCE_COLUMNS

    known = {*ALIASES, *ALIASES.values(), *SENTENCE_COLUMNS, "id", "label"}
    cells = [c.strip() for c in first]
    named = any(c.lower() in known or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,39}", c) for c in cells)
    if named or not all(cells[:2]):  # a line of column-like names is a header, even unknown ones
        return None
    if len(cells) == 2:
        return ("anchor", "positive")
    if len(cells) == 3:
        try:
            float(cells[2])
        except ValueError:
            return None
        return ("sentence1", "sentence2", "score")
    return None


def iter_file_rows(path: str, counts: LineCounts, encoding: str | None = None) -> Iterator[Any]:
    """The rows of a training file one at a time, as :func:`read_any` reads them (``.data``, ``.csv`` /
    ``.tsv``, ``.jsonl``, else one sentence a line); malformed lines are counted in ``counts``.

    Reads lazily (memory does not grow with the file). ``encoding``: as detected before (saves a scan).

    Example:
        >>> counts = LineCounts("big.txt")                                     # doctest: +SKIP
        >>> next(iter_file_rows("big.txt", counts))                            # doctest: +SKIP
        '第一句'
    """
    from simsent._io import detect_encoding

    counts.path = counts.path or path
    table = path.endswith((".csv", ".tsv", ".tab"))
    with open(path, encoding=encoding or detect_encoding(path), newline="" if table else None) as f:
        if path.endswith(".data"):
            yield from parse_lines(path, f, senteval_row, counts)
        elif table:
            yield from _table_rows(path, f, counts)
        elif path.endswith((".jsonl", ".json")):
            yield from parse_lines(path, f, json_object, counts)
        else:
            yield from _sentence_lines(f, counts)


def _headerless_pairs(path: str) -> bool:
    """True when a table file's first line is already a ``text_a, text_b, number`` pair (no header)."""
    with open_text(path, newline="") as f:
        first = next(csv.reader(f, **table_dialect(path)), [])
    if len(first) != 3:
        return False
    try:
        float(first[2])
    except ValueError:
        return False
    return True


def read_pairs(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Labelled pairs ``sentence1, sentence2, score`` from ``.data`` / ``.txt`` (``a<TAB>b<TAB>label``), a
    CSV/TSV with a header (column aliases apply) or without one, or JSONL; one-line error otherwise.

    Example:
        >>> read_pairs("my_pairs.tsv")[0]                                # doctest: +SKIP
        {'sentence1': '花呗怎么还款', 'sentence2': '花呗如何还钱', 'score': 1.0}
    """
    from simsent.data.columns import rows_for_columns

    path = check_input_file(path)
    if path.endswith((".data", ".txt")) or (path.endswith((".tsv", ".tab")) and _headerless_pairs(path)):
        return read_senteval(path)
    if path.endswith(".csv") and _headerless_pairs(path):
        with open_text(path, newline="") as f:
            rows = [{"sentence1": a, "sentence2": b, "score": c} for a, b, c in csv.reader(f) if a and b]
    else:
        rows = read_any(path)
    return rows_for_columns(rows, ["sentence1", "sentence2"], "score", source=path)


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read one JSON object per line."""
    return _read_lines(path, json_object)


def read_any(source: Any) -> list[dict[str, Any]] | list[str]:
    """Dispatch on the type or extension: Dataset, ``.data``, ``.txt``, ``.csv``/``.tsv``, ``.jsonl``."""
    if hasattr(source, "column_names") and hasattr(source, "to_list"):
        return [dict(r) for r in source.to_list()]
    if isinstance(source, (list, tuple)):
        return list(source)
    path = check_input_file(source)
    counts = LineCounts(path)
    rows = list(iter_file_rows(path, counts))
    counts.report()
    return rows
