"""Mine an unlabelled pool for look-alikes of labelled seed texts, class by class.

For every class, a pool text's score is its highest cosine to that class's seeds; texts at or
above the threshold are listed (best first) with the score and the nearest seed, for a person to
label. A pool text may appear under several classes; pool texts identical to a seed are skipped.

Example:
    >>> seeds = [{"text": "花呗怎么还款", "label": "repay"}, {"text": "怎么修改密码", "label": "password"}]
    >>> found = mine(model, seeds, ["花呗如何还钱", "今天天气不错"], threshold=0.8)   # doctest: +SKIP
    >>> found["repay"][0]                                                            # doctest: +SKIP
    {'text': '花呗如何还钱', 'score': 0.91, 'nearest_seed': '花呗怎么还款'}
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent.data.columns import LABEL_FIELDS, TEXT_FIELDS
from simsent.errors import ConfigError, DataError

if TYPE_CHECKING:
    from simsent.modeling.inputs import Embedder

logger = logging.getLogger(__name__)


def parse_seeds(rows: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """``(text, label)`` pairs from rows with a text and a label field (clear error otherwise)."""
    out = []
    for i, row in enumerate(rows, 1):
        tk = next((k for k in TEXT_FIELDS if k in row), None)
        lk = next((k for k in LABEL_FIELDS if k in row), None)
        if tk is None or lk is None or not str(row[tk]).strip():
            raise DataError(f"seed row {i} needs a 'text' and a 'label' field; got {sorted(row)}")
        label = row[lk]
        if label is None or (isinstance(label, float) and label != label) or not str(label).strip():
            raise DataError(f"seed row {i}: the label is empty (null); give every seed a class")
        out.append((str(row[tk]).strip(), str(label)))
    if not out:
        raise DataError("no seed rows")
    return out


def mine(
    model: Embedder,
    seeds: Sequence[dict[str, Any] | tuple[str, str]],
    pool: Iterable[str],
    threshold: float | None = None,
    top_k: int | None = None,
    batch_size: int = 64,
    chunk_size: int = 4096,
) -> dict[str, list[dict[str, Any]]]:
    """Per class, the pool texts whose best cosine to the class's seeds is >= ``threshold``.

    Args:
        model: anything with ``encode(texts, normalize_embeddings=True)``.
        seeds: ``{"text", "label"}`` rows or ``(text, label)`` tuples.
        pool: unlabelled texts (streamed in chunks of ``chunk_size``).
        threshold: cosine cut-off; default the model's calibrated threshold.
        top_k: keep at most this many texts per class.
    """
    pairs = [(str(s[0]), str(s[1])) if isinstance(s, (tuple, list)) else parse_seeds([s])[0] for s in seeds]
    if not pairs:
        raise DataError("no seed rows")
    if threshold is None:
        from simsent.modeling.sentence_encoder import model_threshold

        threshold = model_threshold(model)
        if threshold is None:
            raise ConfigError("no threshold: pass --threshold, or run `simsent calibrate` on the model first")
    labels = sorted({lab for _, lab in pairs})
    seed_texts = [t for t, _ in pairs]
    seed_label = np.array([labels.index(lab) for _, lab in pairs])
    seed_vecs = np.asarray(model.encode(seed_texts, batch_size=batch_size, normalize_embeddings=True))
    seed_set = set(seed_texts)
    found: dict[str, list[dict[str, Any]]] = {lab: [] for lab in labels}
    seen: set[str] = set()
    n_pool = 0

    def process(chunk: list[str]) -> None:
        vecs = np.asarray(model.encode(chunk, batch_size=batch_size, normalize_embeddings=True))
        sims = vecs @ seed_vecs.T  # (chunk, seeds)
        for c, lab in enumerate(labels):
            cols = np.flatnonzero(seed_label == c)
            sub = sims[:, cols]
            best = sub.argmax(axis=1)
            best_s = sub[np.arange(len(chunk)), best]
            for i in np.flatnonzero(best_s >= threshold):
                found[lab].append(
                    {"text": chunk[i], "score": float(best_s[i]), "nearest_seed": seed_texts[cols[best[i]]]}
                )

    chunk: list[str] = []
    for text in pool:
        text = text.strip()
        if not text or text in seed_set or text in seen:
            continue
        seen.add(text)
        n_pool += 1
        chunk.append(text)
        if len(chunk) >= chunk_size:
            process(chunk)
            chunk = []
    if chunk:
        process(chunk)
    if n_pool == 0:
        raise DataError("the pool has no text that is not a seed")
    for lab in labels:
        found[lab].sort(key=lambda r: -r["score"])
        if top_k is not None:
            found[lab] = found[lab][:top_k]
    logger.info(
        "mined %d pool texts at threshold %.3f: %s",
        n_pool,
        threshold,
        {lab: len(v) for lab, v in found.items()},
    )
    return found
