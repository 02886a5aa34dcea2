"""Canonical column names and the ONE table of aliases that maps user columns onto them.

Canonical columns: ``sentence`` | ``sentence1, sentence2, score`` | ``anchor, positive, negative``;
search and mining records use ``id, text, label`` (+ payload).

One documented rule sits beside the table: a row with a ``sent0`` column is in SimCSE's triplet
format (``nli_for_simcse.csv``: ``sent0, sent1, hard_neg``), so there ``sent1`` is the positive;
elsewhere ``sent1``/``sent2`` are the two sentences of a pair. An explicit ``mapping`` (user column
-> canonical column) always wins over the table.

Example:
    >>> canonical({"text_a": "a", "text_b": "b", "label": "1"})
    {'sentence1': 'a', 'sentence2': 'b', 'score': '1'}
    >>> canonical({"sent0": "a", "sent1": "b", "hard_neg": "c"})
    {'anchor': 'a', 'positive': 'b', 'negative': 'c'}
    >>> canonical({"q": "a"}, mapping={"q": "sentence"})
    {'sentence': 'a'}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from simsent.errors import DataError


def finite_label(value: Any) -> float:
    """``value`` as a finite float; ValueError for text, null, NaN and infinities.

    Example:
        >>> finite_label("4.5"), finite_label(1)
        (4.5, 1.0)
    """
    if value is None or isinstance(value, bool):
        raise ValueError(f"label {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"label {value!r} is not a number") from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"label {value!r} is not a finite number")
    return number

SENTENCE_COLUMNS = ("sentence", "sentence1", "sentence2", "anchor", "positive", "negative")

#: accepted column names -> canonical name, for training and evaluation rows (here ``label`` is a
#: score). Search and mining records are matched by :data:`TEXT_FIELDS` / :data:`LABEL_FIELDS` below,
#: where ``label`` names a class.
ALIASES: dict[str, str] = {
    "text": "sentence",
    "sent": "sentence",
    "query": "anchor",
    "text_a": "sentence1",
    "text_b": "sentence2",
    "sent1": "sentence1",
    "sent2": "sentence2",
    "sentence_a": "sentence1",
    "sentence_b": "sentence2",
    "premise": "sentence1",
    "hypothesis": "sentence2",
    "label": "score",
    "gold_label": "score",
    "similarity": "score",
    "pos": "positive",
    "neg": "negative",
    "hard_negative": "negative",
    "hard_neg": "negative",
    "sent0": "anchor",
}
#: SimCSE's triplet files (sent0, sent1, hard_neg): there sent1 is the positive
SIMCSE_TRIPLET_ALIASES = {"sent1": "positive"}

#: fields of search / mining records
TEXT_FIELDS = ("text", "sentence", "question", "content", "query")
ID_FIELDS = ("id", "_id", "qid")
LABEL_FIELDS = ("label", "class", "intent", "category")


def canonical_name(column: str, triplet_format: bool = False) -> str:
    """The canonical name of one column (unchanged when it has no alias)."""
    if triplet_format and column in SIMCSE_TRIPLET_ALIASES:
        return SIMCSE_TRIPLET_ALIASES[column]
    return ALIASES.get(column, column)


def canonical(row: Mapping[str, Any], mapping: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Rename the columns of ``row`` to canonical names (``mapping`` first, then the alias table)."""
    triplet = "sent0" in row
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = mapping[key] if mapping and key in mapping else canonical_name(key, triplet)
        out[name] = value
    return out


def rows_for_columns(
    rows: Sequence[dict[str, Any]] | Sequence[str],
    text_columns: Sequence[str],
    label_column: str | None = None,
    source: str = "data",
    mapping: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Shape rows for an objective's columns, or raise a one-line error naming what is expected.

    Plain strings become ``{"sentence": s}``. When only ``sentence`` is wanted, paired rows give
    both of their sentences (text only, labels ignored). Labels become floats.

    Example:
        >>> rows_for_columns([{"text_a": "a", "text_b": "b", "label": 1}], ["sentence"])
        [{'sentence': 'a'}, {'sentence': 'b'}]
    """
    out: list[dict[str, Any]] = []
    want = list(text_columns) + ([label_column] if label_column else [])
    for number, row in enumerate(rows, 1):
        if isinstance(row, str):
            row = {"sentence": row}
        row = canonical(row, mapping)
        if list(text_columns) == ["sentence"] and "sentence" not in row and "sentence1" in row:
            out.extend({"sentence": row[c]} for c in ("sentence1", "sentence2") if row.get(c))
            continue
        missing = [c for c in want if c not in row]
        if missing:
            raise DataError(
                f"{source}: missing column(s) {', '.join(missing)}; this objective expects columns "
                f"{', '.join(want)} (found: {', '.join(map(str, row)) or 'none'})"
            )
        shaped = {c: row[c] for c in want}
        if label_column:
            try:
                shaped[label_column] = finite_label(shaped[label_column])
            except ValueError as exc:
                raise DataError(f"{source}: row {number}: {exc}; fix or remove the row") from exc
        out.append(shaped)
    if not out:
        raise DataError(f"{source}: no rows")
    return out


def sentences_of(rows: Iterable[dict[str, Any]] | Iterable[str]) -> list[str]:
    """All texts of rows (both sides of pairs, every side of triplets), in order.

    Example:
        >>> sentences_of(["a", {"sentence1": "b", "sentence2": "c", "score": 1}])
        ['a', 'b', 'c']
    """
    out: list[str] = []
    for row in rows:
        if isinstance(row, str):
            out.append(row)
            continue
        row = canonical(row)
        for c in SENTENCE_COLUMNS:
            if isinstance(row.get(c), str) and row[c]:
                out.append(row[c])
    return out
