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
from collections.abc import Sequence
from typing import Any

from simsent._io import sha256_file
from simsent.data.sampling import dedup
from simsent.errors import DataError

logger = logging.getLogger(__name__)


def read_corpus(files: Sequence[str | os.PathLike]) -> tuple[list[str], dict[str, Any]]:
    """Read, concatenate and deduplicate the texts of ``files``.

    Returns:
        ``(texts, stats)`` where ``stats`` holds the files with their sha256 and text counts, the
        number of texts before and after deduplication and the number of characters.
    """
    from simsent.data.columns import sentences_of
    from simsent.data.readers import read_any

    if not files:
        raise DataError("no corpus file given; pass --corpus FILE [FILE ...]")
    raw: list[str] = []
    per_file = []
    for path in files:
        texts = sentences_of(read_any(path))
        per_file.append({"path": os.fspath(path), "sha256": sha256_file(path), "texts": len(texts)})
        raw.extend(texts)
    texts = dedup([t.strip() for t in raw if t.strip()])
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
