"""NLI pairs -> supervised SimCSE triplets (entailment as positive, contradiction as hard negative).

Input rows: ``sentence1``/``premise``, ``sentence2``/``hypothesis``, ``label``. Labels are the
strings ``entailment``, ``neutral``, ``contradiction`` (also ``e``/``n``/``c``, any case) or the
integers of the Hugging Face SNLI/MNLI/XNLI convention: **0 = entailment, 1 = neutral,
2 = contradiction** (see :data:`NLI_LABELS`). Rows with other labels (e.g. ``-`` or ``-1``,
no gold label) are skipped and counted.

For each premise, its entailed hypotheses are the positives and its contradicted hypotheses the
hard negatives; positive ``i`` is paired with negative ``i mod n`` (the SimCSE NLI recipe: one
triplet per entailment). Premises without a contradiction give no triplet (counted); neutral
pairs are dropped.

Example:
    >>> rows = [{"premise": "p", "hypothesis": "e", "label": "entailment"},
    ...         {"premise": "p", "hypothesis": "c", "label": 2}]
    >>> triplets, counts = nli_to_triplets(rows)
    >>> triplets
    [{'anchor': 'p', 'positive': 'e', 'negative': 'c'}]
    >>> counts
    {'pairs': 2, 'triplets': 1, 'skipped_labels': 0, 'no_negative': 0}
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from typing import Any

from simsent.data.columns import canonical
from simsent.data.readers import read_any
from simsent.errors import DataError

logger = logging.getLogger(__name__)

#: label spelling -> class id (HF SNLI/MNLI/XNLI convention)
NLI_LABELS: dict[str, int] = {
    "entailment": 0,
    "e": 0,
    "0": 0,
    "neutral": 1,
    "n": 1,
    "1": 1,
    "contradiction": 2,
    "c": 2,
    "2": 2,
}
NLI_NAMES = ("entailment", "neutral", "contradiction")


def nli_label(value: Any) -> int | None:
    """Class id of an NLI label (``None`` for a label that is not one of the three)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return NLI_LABELS.get(str(value).strip().lower())


def nli_to_triplets(
    rows: Sequence[dict[str, Any]], source: str = "NLI data"
) -> tuple[list[dict], dict[str, int]]:
    """Group NLI pairs by premise into ``anchor, positive, negative`` triplets; returns (triplets, counts)."""
    by_premise: dict[str, tuple[list[str], list[str]]] = {}
    skipped = 0
    for row in rows:
        if not isinstance(row, dict):
            raise DataError(
                f"{source}: expected rows with columns premise/sentence1, hypothesis/sentence2, label"
            )
        row = canonical(row)
        premise = row.get("sentence1")
        hypothesis = row.get("sentence2")
        label = row.get("score")
        if premise is None or hypothesis is None or label is None:
            raise DataError(
                f"{source}: expected columns premise (or sentence1), hypothesis (or sentence2), label; "
                f"found: {', '.join(map(str, row))}"
            )
        cls = nli_label(label)
        if cls is None:
            skipped += 1
            continue
        pos, neg = by_premise.setdefault(str(premise), ([], []))
        if cls == 0:
            pos.append(str(hypothesis))
        elif cls == 2:
            neg.append(str(hypothesis))
    triplets, no_negative = [], 0
    for premise, (pos, neg) in by_premise.items():
        if not neg:
            no_negative += len(pos)
            continue
        triplets.extend(
            {"anchor": premise, "positive": p, "negative": neg[i % len(neg)]} for i, p in enumerate(pos)
        )
    counts = {
        "pairs": len(rows),
        "triplets": len(triplets),
        "skipped_labels": skipped,
        "no_negative": no_negative,
    }
    logger.info("%s: %s", source, counts)
    if not triplets:
        raise DataError(
            f"{source}: no triplet could be built (need premises with both an entailment and a "
            "contradiction hypothesis)"
        )
    return triplets, counts


def write_triplets(triplets: Sequence[dict[str, str]], path: str) -> None:
    """Write triplets as JSONL (``.jsonl``/``.json``) or a TSV with header ``anchor, positive, negative``."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        if path.endswith((".jsonl", ".json")):
            for t in triplets:
                f.write(json.dumps(t, ensure_ascii=False) + "\n")
        else:
            f.write("anchor\tpositive\tnegative\n")
            for t in triplets:
                f.write(
                    "\t".join(
                        t[c].replace("\t", " ").replace("\n", " ") for c in ("anchor", "positive", "negative")
                    )
                    + "\n"
                )


def convert_nli_file(input_path: str, output_path: str) -> dict[str, int]:
    """Read an NLI file (csv/tsv/jsonl), write triplets; returns the counts."""
    rows = read_any(input_path)
    triplets, counts = nli_to_triplets(rows, source=os.fspath(input_path))
    write_triplets(triplets, output_path)
    return counts
