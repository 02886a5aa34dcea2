"""Raw-text corpus for pretraining: every text of the given files, stripped and deduplicated.

Any format of :func:`simsent.data.readers.read_any` is accepted; paired files (senteval ``.data``,
CSV/JSONL with ``sentence1, sentence2``) give both sentences, and labels are ignored.

Example:
    >>> texts, stats = read_corpus(["STS-B.train.data", "extra.txt"])   # doctest: +SKIP
    >>> stats["sentences"], stats["duplicates_removed"]                  # doctest: +SKIP
    (10040, 422)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any

from simsent.errors import DataError

logger = logging.getLogger(__name__)


def dedup(texts: Iterable[str]) -> list[str]:
    """Stripped, non-empty texts in first-seen order, each once.

    Example:
        >>> dedup([" a ", "b", "a", ""])
        ['a', 'b']
    """
    seen: set[str] = set()
    out: list[str] = []
    for t in texts:
        t = t.strip()
        if t and t not in seen:
            seen.add(t)
            out.append(t)
    return out


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    from simsent.experiments.provenance import sha256_file

    return sha256_file(os.fspath(path))


def read_corpus(files: Sequence[str | os.PathLike]) -> tuple[list[str], dict[str, Any]]:
    """Read, concatenate and deduplicate the texts of ``files``.

    Returns:
        ``(texts, stats)`` where ``stats`` holds the files with their sha256 and text counts, the
        number of texts before and after deduplication and the number of characters.
    """
    from simsent.data.readers import read_any, sentences_of

    if not files:
        raise DataError("no corpus file given; pass --corpus FILE [FILE ...]")
    raw: list[str] = []
    per_file = []
    for path in files:
        texts = sentences_of(read_any(path))
        per_file.append({"path": os.fspath(path), "sha256": sha256_of(path), "texts": len(texts)})
        raw.extend(texts)
    texts = dedup(raw)
    if not texts:
        raise DataError(f"the corpus ({', '.join(map(os.fspath, files))}) holds no text")
    stats = {
        "files": per_file,
        "texts_read": len(raw),
        "sentences": len(texts),
        "duplicates_removed": len(raw) - len(texts),
        "characters": sum(len(t) for t in texts),
    }
    logger.info("corpus: %d texts read, %d unique, %d characters", len(raw), len(texts), stats["characters"])
    return texts, stats
