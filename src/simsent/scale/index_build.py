"""An index built from a folder of shards (:mod:`simsent.scale.shards`), one shard at a time.

Example:
    >>> index = index_from_shards("runs/vecs", backend="hnsw")     # doctest: +SKIP
    >>> index.save("runs/ix")                                       # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from itertools import islice
from typing import Any

import numpy as np

from simsent._io import sha256_file
from simsent.errors import ConfigError, DataError
from simsent.scale.shards import iter_shards, read_manifest
from simsent.search.corpus import iter_corpus
from simsent.search.index import VectorIndex
from simsent.search.quantize import dequantize_int8

logger = logging.getLogger(__name__)


def index_from_shards(folder: str | os.PathLike, backend: str = "exact", **params: Any) -> VectorIndex:
    """An index of the vectors written by :func:`simsent.scale.shards.encode_to_shards`, added shard by
    shard in row order with their records re-read from the input (which must not have changed).

    Memory holds the index and one shard (float32 or int8 shards; int8 ones are dequantised).
    """
    folder = os.fspath(folder)
    manifest = read_manifest(folder)
    if manifest["precision"] not in ("float32", "int8"):
        raise ConfigError(f"{folder} holds {manifest['precision']} shards; an index takes float32 or int8")
    corpus = manifest["input"]["path"]
    if not os.path.isfile(corpus) or sha256_file(corpus) != manifest["input"]["sha256"]:
        raise DataError(f"{corpus}, the input of the shards in {folder}, is missing or changed since; "
                        "encode it again")
    index = VectorIndex(manifest["model"]["dim"], backend=backend, model_info=manifest["model"], **params)
    index.expect_rows(manifest["rows"])
    ranges = np.asarray(manifest.get("int8_ranges", []), np.float32)
    records = iter_corpus(corpus)
    for start, shard in iter_shards(folder, manifest):
        texts = list(islice(records, len(shard)))
        if len(texts) < len(shard):
            raise DataError(f"{corpus} has {start + len(texts)} rows, the shards in {folder} more; encode it "
                            "again")
        vecs = dequantize_int8(shard, ranges) if manifest["precision"] == "int8" else np.asarray(shard)
        index.add_records(vecs, texts)
    left = sum(1 for _ in records)
    if left:
        raise DataError(f"{folder}: rows {len(index)}-{len(index) + left - 1} of {corpus} have no shard; "
                        "rerun the same `simsent encode` to finish")
    logger.info("indexed %d rows from the shards in %s", len(index), folder)
    return index
