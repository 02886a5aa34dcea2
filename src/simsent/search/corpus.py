"""Stream a corpus file as records ``{"id", "text", "payload"}`` without loading it whole.

Formats (chosen by extension):

* ``.txt`` (or anything else): one text per line, no id.
* ``.jsonl`` / ``.json``: one object per line with a ``text`` field (aliases ``sentence``,
  ``question``, ``content``) and an optional ``id``; every other field is the payload.
* ``.csv`` / ``.tsv``: a header row with a ``text`` column (same aliases), optional ``id``; the
  other columns are the payload.

Malformed lines are logged with their line number and skipped. Records without an id get
``"id": None``; :class:`~simsent.search.VectorIndex` then numbers them by position in the index, so
adding a second file never clashes with the first.

Example:
    >>> for rec in iter_corpus("faq.jsonl"):              # doctest: +SKIP
    ...     print(rec["id"], rec["text"], rec["payload"])
    q1 怎么开通花呗 {'answer': '...'}
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Iterator
from typing import Any

from simsent._io import check_input_file, open_text, table_dialect
from simsent.data.columns import ID_FIELDS, TEXT_FIELDS
from simsent.data.readers import LineCounts, json_object, parse_lines
from simsent.errors import DataError

logger = logging.getLogger(__name__)



def _record(obj: dict[str, Any]) -> dict[str, Any]:
    text_key = next((k for k in TEXT_FIELDS if k in obj), None)
    if text_key is None:
        raise ValueError(f"no text field (expected one of {', '.join(TEXT_FIELDS)})")
    text = obj[text_key]
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty or non-string text")
    id_key = next((k for k in ID_FIELDS if k in obj), None)
    rid = str(obj[id_key]) if id_key is not None and obj[id_key] not in (None, "") else None
    payload = {k: v for k, v in obj.items() if k not in (text_key, id_key)}
    return {"id": rid, "text": text.strip(), "payload": payload}


def iter_corpus(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """Yield ``{"id", "text", "payload"}`` records of a corpus file, one at a time."""
    path = check_input_file(path)
    counts = LineCounts(path)
    with open_text(path, newline="" if path.endswith((".csv", ".tsv")) else None) as f:
        if path.endswith((".csv", ".tsv")):
            reader = csv.DictReader(f, **table_dialect(path))
            if not reader.fieldnames or not any(k in reader.fieldnames for k in TEXT_FIELDS):
                raise DataError(f"{path}: the header needs a 'text' column (found: {reader.fieldnames})")
            for row in reader:
                try:
                    if None in row:
                        raise ValueError("wrong number of fields")
                    rec = _record(dict(row))
                except ValueError as exc:
                    counts.skip(reader.line_num, exc)
                    continue
                counts.kept += 1
                yield rec
        elif path.endswith((".jsonl", ".json")):
            yield from parse_lines(path, f, lambda line: _record(json_object(line)), counts)
        else:
            for line in f:
                text = line.strip()
                if text:
                    counts.kept += 1
                    yield {"id": None, "text": text, "payload": {}}
    counts.report("no usable line (empty file, or every line lacks a text)")


def count_lines(path: str | os.PathLike) -> int:
    """Number of lines (an upper bound on the records, for a progress bar)."""
    n = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            n += block.count(b"\n")
    return n
