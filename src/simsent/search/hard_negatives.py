"""Hard negatives for (anchor, positive) rows, mined from a user's own unlabelled text with a model.

For each anchor, the corpus is ranked by cosine with the anchor; the negative is the best-ranked
sentence that is

* at rank ``range_min`` or lower (the very top are often paraphrases of the anchor),
* within the first ``range_max`` ranks,
* not the anchor or the positive themselves (after whitespace is stripped), and
* scored below the positive's cosine minus ``margin`` (a sentence as close to the anchor as its own
  positive is probably one too: a false negative, not a hard one).

This is what sentence-transformers' ``mine_hard_negatives`` (``range_min`` / ``range_max`` /
``absolute_margin``, sampling "top") and FlagEmbedding's ``hn_mine`` (a rank range) do. Anchors
with no candidate left keep ``negative: None`` (supervised SimCSE then borrows another row's positive).

Example:
    >>> rows = [{"anchor": "花呗怎么还款", "positive": "花呗如何还钱"}]
    >>> mined, counts = mine_hard_negatives(model, rows, corpus, range_min=2)    # doctest: +SKIP
    >>> mined[0]["negative"], counts                                             # doctest: +SKIP
    ('借呗怎么还款', {'rows': 1, 'mined': 1, 'none': 0})
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent.errors import ConfigError

if TYPE_CHECKING:
    from simsent.modeling.inputs import Embedder

logger = logging.getLogger(__name__)


def mine_hard_negatives(
    model: Embedder,
    rows: Sequence[dict[str, Any]],
    corpus: Sequence[str],
    range_min: int = 3,
    range_max: int = 50,
    margin: float = 0.05,
    batch_size: int = 64,
    exclude: Sequence[Sequence[str]] | None = None,
    num_negatives: int = 1,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """``rows`` with a ``negative`` mined from ``corpus`` by ``model`` (see the module doc), and counts.
    ``exclude[i]`` are more texts row i never takes as its negative (e.g. its query's other positives).
    With ``num_negatives`` > 1 each row also gets ``negatives``: up to that many, best-ranked first
    (``negative`` is the first of them), as a reranker's listwise groups want."""
    if not 0 <= range_min < range_max:
        raise ConfigError(f"hard negatives: need 0 <= range_min < range_max, got {range_min}, {range_max}")
    if num_negatives < 1:
        raise ConfigError(f"hard negatives: num_negatives must be 1 or more, got {num_negatives}")
    corpus = list(dict.fromkeys(t for t in corpus if t.strip()))
    if not rows or not corpus:
        unchanged = [{**r, "negative": r.get("negative")} for r in rows]
        return unchanged, {"rows": len(rows), "mined": 0, "none": len(rows)}
    from simsent.modeling.inputs import unit_rows
    from simsent.search.backends import numpy_search

    vec = unit_rows(model.encode(corpus, batch_size=batch_size))
    anchors = unit_rows(model.encode([r["anchor"] for r in rows], batch_size=batch_size))
    positives = unit_rows(model.encode([r["positive"] for r in rows], batch_size=batch_size))

    scores, ids = numpy_search(vec, anchors, min(range_max, len(corpus)))
    own = (anchors * positives).sum(axis=1)
    out, mined = [], 0
    for i, row in enumerate(rows):
        also = exclude[i] if exclude else ()
        taken = {row["anchor"].strip(), row["positive"].strip(), *(t.strip() for t in also)}
        found = _eligible(scores[i], ids[i], corpus, taken, range_min, own[i] - margin, num_negatives)
        mined += bool(found)
        out.append({**row, "negative": found[0] if found else None,
                    **({"negatives": found} if num_negatives > 1 else {})})
    counts = {"rows": len(rows), "mined": mined, "none": len(rows) - mined}
    logger.info("hard negatives: %d of %d anchors got one (ranks %d-%d, margin %.2f)", mined, len(rows),
                range_min, range_max, margin)
    return out, counts


def _eligible(scores: np.ndarray, ids: np.ndarray, corpus: Sequence[str], taken: set[str], range_min: int,
              below: float, limit: int) -> list[str]:
    """The best-ranked corpus texts (at most ``limit``) from rank ``range_min`` on that score under
    ``below`` and are none of ``taken``."""
    found: list[str] = []
    for rank, (s, j) in enumerate(zip(scores, ids, strict=True)):
        if rank >= range_min and j >= 0 and s < below and corpus[j].strip() not in taken:
            found.append(corpus[j])
            if len(found) == limit:
                break
    return found
