"""Retrieval-shaped data: queries with the texts they should find (a FAQ's standard questions), and the
corpus they are searched in.

A queries file is one of:

* ``query<TAB>positive`` lines (``.tsv``/``.txt``; ``.csv`` comma-separated), with or without a header
  naming the columns (``query``/``anchor``, ``positive``/``pos``); a third numeric column makes a scored
  pair: a positive at or above ``positive_threshold``, else a negative of that query;
* JSONL rows ``{"query": str, "pos": [str, ...], "neg": [str, ...]}`` (FlagEmbedding's and
  sentence-transformers' shape; ``neg`` optional; a string stands for a list of one).

:func:`retrieval_data` joins them with a corpus (a FAQ base; without one, every distinct text of the
file): positives missing from the corpus are added, a positive equal to its query is dropped (a query
never finds itself), duplicate queries are merged, queries left without a positive are skipped. Each
of these is counted and logged; nothing is dropped silently.

Example:
    >>> rows = [QueryRow("怎么还款", ["如何还款"]), QueryRow("怎么还款", ["还款方式"])]
    >>> data = retrieval_data(rows, corpus=["如何还款", "花呗额度"])
    >>> data.queries, sorted(data.gold[0]), sorted(data.corpus.values())
    (['怎么还款'], ['0', '2'], ['如何还款', '花呗额度', '还款方式'])
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from simsent._io import check_input_file, open_text, table_dialect
from simsent.data.columns import canonical_name
from simsent.errors import DataError

logger = logging.getLogger(__name__)


@dataclass
class QueryRow:
    """A query, the texts it should find, and texts it should not."""

    query: str
    positives: list[str]
    negatives: list[str] = field(default_factory=list)


@dataclass
class RetrievalData:
    """Queries, their gold corpus ids, and the corpus (id -> text)."""

    queries: list[str]
    gold: list[set[str]]
    corpus: dict[str, str]


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    return [str(v).strip() for v in values if isinstance(v, (str, int, float)) and str(v).strip()]


def _from_json(row: Any, where: str) -> QueryRow:
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected a JSON object with query and pos, got {type(row).__name__}")
    named = {canonical_name(k): v for k, v in row.items()}
    if "anchor" not in named:
        raise DataError(f"{where}: no query field (query or anchor); fields: {', '.join(map(str, row))}")
    query = _texts(named["anchor"])
    return QueryRow(query[0] if query else "", _texts(named.get("positive")), _texts(named.get("negative")))


def _score(cell: str, where: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise DataError(f"{where}: third column {cell!r} is not a score; a queries file has "
                        "query<TAB>positive lines, optionally with a numeric score") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise DataError(f"{where}: score {cell!r} is not a finite number")
    return value


def _table_rows(path: str, positive_threshold: float) -> Iterable[QueryRow]:
    with open_text(path, newline="") as f:
        reader = csv.reader(f, **table_dialect(path))
        for line_no, cells in enumerate(reader, 1):
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue
            where = f"{path}:{line_no}"
            if line_no == 1 and {canonical_name(c) for c in cells[:2]} == {"anchor", "positive"}:
                continue  # a header
            if len(cells) < 2:
                raise DataError(f"{where}: one column; a queries file has query<TAB>positive lines")
            if len(cells) >= 3 and cells[2]:
                good = _score(cells[2], where) >= positive_threshold
                yield QueryRow(cells[0], [cells[1]] if good else [], [] if good else [cells[1]])
            else:
                yield QueryRow(cells[0], _texts(cells[1]))


def read_queries(path: str | os.PathLike, positive_threshold: float = 1.0) -> list[QueryRow]:
    """The rows of a queries file (see the module docstring); a one-line DataError for a file that is not
    one.

    Example:
        >>> read_queries("faq_queries.tsv")[0]        # doctest: +SKIP
        QueryRow(query='花呗怎么还', positives=['花呗如何还款'], negatives=[])
    """
    from simsent.data.readers import read_jsonl

    path = check_input_file(path, "--queries")
    if os.fspath(path).lower().endswith(".jsonl"):
        rows = [_from_json(r, f"{path}:{i}") for i, r in enumerate(read_jsonl(path), 1)]
    else:
        rows = list(_table_rows(path, positive_threshold))
    if not rows:
        raise DataError(f"{path} holds no query (expected query<TAB>positive lines or JSONL "
                        '{"query", "pos", "neg"} rows)')
    return rows


def _merged(rows: Iterable[QueryRow]) -> tuple[dict[str, QueryRow], dict[str, int]]:
    """Rows by query text (duplicates merged), with the counts of what was changed on the way."""
    counts = {"duplicate queries merged": 0, "positives equal to their query dropped": 0, "blank queries": 0}
    merged: dict[str, QueryRow] = {}
    for row in rows:
        if not row.query.strip():
            counts["blank queries"] += 1
            continue
        keep = [p for p in row.positives if p != row.query]
        counts["positives equal to their query dropped"] += len(row.positives) - len(keep)
        if row.query in merged:
            counts["duplicate queries merged"] += 1
            old = merged[row.query]
            old.positives += [p for p in keep if p not in old.positives]
            old.negatives += [n for n in row.negatives if n not in old.negatives]
        else:
            negatives = list(dict.fromkeys(row.negatives))
            merged[row.query] = QueryRow(row.query, list(dict.fromkeys(keep)), negatives)
    return merged, counts


def faq_rows(rows: Sequence[QueryRow], corpus: Sequence[str] | None = None,
             source: str = "the queries") -> tuple[list[QueryRow], list[str], dict[str, int]]:
    """The queries that have a positive (duplicates merged), the corpus texts (``corpus``: the FAQ base's
    texts, every positive missing from it added; ``None``: every distinct text of ``rows``), and the
    counts of what was merged, dropped, skipped and added (each also logged). See the module docstring.

    Example:
        >>> kept, texts, counts = faq_rows([QueryRow("a", ["b"]), QueryRow("c", [])], corpus=["d"])
        >>> [r.query for r in kept], texts, counts["queries without a positive skipped"]
        (['a'], ['d', 'b'], 1)
    """
    merged, counts = _merged(rows)
    if corpus is not None:
        texts = list(dict.fromkeys(t for t in corpus if t.strip()))
        if not texts:
            raise DataError("the corpus (--corpus) holds no text")
    else:
        texts = list(dict.fromkeys(t for r in merged.values() for t in (r.query, *r.positives, *r.negatives)))
    known = set(texts)
    kept = [r for r in merged.values() if r.positives]
    counts["queries without a positive skipped"] = len(merged) - len(kept)
    added = [p for p in dict.fromkeys(p for r in kept for p in r.positives) if p not in known]
    counts["positives missing from the corpus added to it"] = len(added)
    for what, n in counts.items():
        if n:
            logger.warning("%s: %d %s", source, n, what)
    if not kept:
        raise DataError(f"{source}: no query with a positive to evaluate (every query lacked one, or its "
                        "only positive was the query itself)")
    return kept, texts + added, counts


def retrieval_data(rows: Sequence[QueryRow], corpus: Sequence[str] | None = None,
                   source: str = "the queries") -> RetrievalData:
    """Queries and their gold ids in a corpus (``corpus``: the FAQ base's texts; ``None``: every distinct
    text of ``rows``). See the module docstring for what is added, merged, dropped and refused."""
    kept, texts, _ = faq_rows(rows, corpus, source)
    ids = {t: str(i) for i, t in enumerate(texts)}
    return RetrievalData([r.query for r in kept], [{ids[p] for p in r.positives} for r in kept],
                         {i: t for t, i in ids.items()})


def queries_from_pairs(pairs: Iterable[dict[str, Any]], positive_threshold: float = 1.0) -> list[QueryRow]:
    """Scored pairs as query rows: ``sentence1`` is the query; ``sentence2`` a positive when the score is at
    or above ``positive_threshold``, else a negative (duplicate queries are merged by :func:`faq_rows`).

    Example:
        >>> queries_from_pairs([{"sentence1": "a", "sentence2": "b", "score": 1},
        ...                     {"sentence1": "a", "sentence2": "c", "score": 0}])
        ... # doctest: +NORMALIZE_WHITESPACE
        [QueryRow(query='a', positives=['b'], negatives=[]),
         QueryRow(query='a', positives=[], negatives=['c'])]
    """
    out = []
    for p in pairs:
        good = float(p["score"]) >= positive_threshold
        text = [p["sentence2"]]
        out.append(QueryRow(p["sentence1"], text if good else [], [] if good else text))
    return out


def is_queries_file(path: str | os.PathLike) -> bool:
    """Whether a dev file is retrieval-shaped: JSONL rows with a ``pos`` (or ``positive``) field, or a table
    whose first data row has two columns (``query<TAB>positive``); scored pairs (3 columns) are not.

    Example:
        >>> is_queries_file("faq_queries.tsv")        # doctest: +SKIP
        True
    """
    from simsent.data.readers import positional_columns, read_jsonl

    path = os.fspath(path)
    if path.lower().endswith(".jsonl"):
        first = next(iter(read_jsonl(path)), {})
        return isinstance(first, dict) and "positive" in {canonical_name(k) for k in first}
    if path.lower().endswith(".json"):
        return False
    with open_text(path, newline="") as f:
        for cells in csv.reader(f, **table_dialect(path)):
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue
            if {canonical_name(c) for c in cells[:2]} == {"anchor", "positive"}:
                return True
            return positional_columns(cells) == ("anchor", "positive")
    return False
