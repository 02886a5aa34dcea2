"""A corpus encoded into shards: ``shard-00000.npy``, ... plus ``shards.json`` (the model's identity, the
input file's sha256, and each shard's row range and checksum), written shard by shard.

Row ``i`` of the corpus (its ``i``-th record, as :func:`~simsent.search.corpus.iter_corpus` reads it)
is row ``i - start`` of the shard whose range holds it. A rerun skips every shard that is complete
and whose checksum matches, so an interrupted encode resumes where it stopped; a folder holding shards
of another model, another input or other settings is refused in one line. Memory holds one shard.
:func:`~simsent.scale.index_build.index_from_shards` builds an index from the shards, one at a time.

Example:
    >>> manifest = encode_to_shards(model, "queries.txt", "runs/vecs", shard_rows=100_000)  # doctest: +SKIP
    >>> for start, vectors in iter_shards("runs/vecs"): ...                                 # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent._io import atomic_path, read_json, sha256_file, write_json
from simsent.errors import DataError
from simsent.scale.memory import bound_heap, trim_heap

if TYPE_CHECKING:
    from simsent.modeling.inputs import Embedder

logger = logging.getLogger(__name__)

MANIFEST = "shards.json"
FORMAT = "simsent-shards"


def _batches(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, n)):
        yield chunk


def shard_settings(identity: dict[str, Any], corpus: str, shard_rows: int, precision: str) -> dict[str, Any]:
    """What a folder's shards must have been made with to be reused (``identity``: the model's, see
    :func:`simsent.modeling.sentence_encoder.model_identity`)."""
    return {
        "format": FORMAT,
        "model": identity,
        "input": {"path": os.path.abspath(corpus), "sha256": sha256_file(corpus)},
        "shard_rows": shard_rows,
        "precision": precision,
    }


def _open_manifest(folder: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The folder's manifest, checked against ``settings`` (a new one for an empty folder)."""
    path = os.path.join(folder, MANIFEST)
    if not os.path.isfile(path):
        if os.path.isdir(folder) and os.listdir(folder):
            raise DataError(f"{folder} holds other files and no {MANIFEST}; give an empty or new --output")
        return {**settings, "shards": [], "complete": False}
    manifest = read_json(path, what="shard manifest")
    changed = [k for k in ("model", "input", "shard_rows", "precision") if manifest.get(k) != settings[k]]
    same_weights = manifest.get("model", {}).get("fingerprint") == settings["model"]["fingerprint"]
    if "model" in changed and same_weights:  # the path may differ; the weights must not
        changed.remove("model")
    if changed:
        what = {"model": "another model", "input": "another input (or the input changed since)",
                "shard_rows": "another --shard-rows", "precision": "another --precision-out"}
        raise DataError(f"{folder} holds shards of {', '.join(what[k] for k in changed)}; use a new --output "
                        "(or delete the folder to start over)")
    return manifest


#: ``(shard index, texts) -> (shard index, unit vectors)`` over a stream of shards, in any order
EncodeShards = Callable[[Iterator[tuple[int, list[str]]]], Iterator[tuple[int, np.ndarray]]]


def local_encoder(model: Embedder, batch_size: int = 64, show_progress_bar: bool = True) -> EncodeShards:
    """Encode the shards one after the other in this process."""

    def run(jobs: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, np.ndarray]]:
        for i, texts in jobs:
            yield i, model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                  show_progress_bar=show_progress_bar)

    return run


def encode_to_shards(
    model: Embedder | None,
    corpus: str,
    folder: str,
    shard_rows: int = 100_000,
    batch_size: int = 64,
    precision: str = "float32",
    show_progress_bar: bool = True,
    encode_shards: EncodeShards | None = None,
) -> dict[str, Any]:
    """Encode ``corpus`` (unit vectors) into shards of ``shard_rows`` rows in ``folder``; resumes.

    ``encode_shards`` does the encoding (default: ``model`` in this process; :func:`simsent.scale.
    ray_encode.ray_encoder` spreads the shards over Ray workers, whose model's ``identity`` it carries:
    then ``model`` may be None and this process loads none).
    """
    from simsent._io import check_input_file
    from simsent.modeling.sentence_encoder import model_identity
    from simsent.search.corpus import iter_corpus

    corpus = check_input_file(corpus)
    identity = getattr(encode_shards, "identity", None) or model_identity(model)
    manifest = _open_manifest(folder, shard_settings(identity, corpus, shard_rows, precision))
    os.makedirs(folder, exist_ok=True)
    done = {s["index"] for s in manifest["shards"] if _intact(folder, s)}
    manifest["shards"] = [s for s in manifest["shards"] if s["index"] in done]
    for key in ("rows", "input_rows"):
        manifest.pop(key, None)
    manifest["complete"] = False  # on disk before any shard is rewritten: a kill never leaves "complete"
    write_json(os.path.join(folder, MANIFEST), manifest)
    counted = [0]
    jobs = (
        (i, [r["text"] for r in records])
        for i, records in enumerate(_batches(_counting(iter_corpus(corpus), counted), shard_rows))
        if i not in done
    )
    encode_shards = encode_shards or local_encoder(model, batch_size, show_progress_bar)
    bound_heap()  # see simsent.scale.memory: otherwise freed activations stay resident, shard after shard
    for i, vecs in encode_shards(jobs):
        _write_shard(folder, manifest, i, vecs, shard_rows, precision)
        del vecs
        trim_heap()  # a shard's freed tensors go back to the OS: memory stays that of one shard
    manifest["input_rows"] = counted[0]
    check_coverage(folder, manifest, files=False)  # each shard's file was checked or written above
    manifest["rows"] = counted[0]
    manifest["complete"] = True
    write_json(os.path.join(folder, MANIFEST), manifest)
    return manifest


def _counting(items: Iterable[Any], counter: list[int]) -> Iterator[Any]:
    for item in items:
        counter[0] += 1
        yield item


def check_coverage(folder: str, manifest: dict[str, Any], files: bool = True) -> None:
    """Refuse (one-line DataError naming the first missing rows) a manifest whose shards do not cover rows
    ``0 .. input_rows - 1`` exactly, each shard where its index puts it and of its recorded size, or
    (``files``) whose files are missing or changed.

    Example:
        >>> check_coverage("vecs", {"shard_rows": 2, "input_rows": 4, "shards": [
        ...     {"index": 0, "file": "a", "start": 0, "rows": 2, "sha256": ""}]})
        Traceback (most recent call last):
        ...
        simsent.errors.DataError: vecs: rows 2-3 have no shard; rerun the same `simsent encode` to finish
    """
    expected, step = 0, manifest["shard_rows"]
    for shard in sorted(manifest["shards"], key=lambda s: s["index"]):
        start, rows = shard["start"], shard["rows"]
        if start != expected or start != shard["index"] * step or not 0 < rows <= step:
            first = min(start, expected)
            raise DataError(f"{folder}: rows {first}-{max(start, expected + 1) - 1} have no shard (or an "
                            "overlapping one); rerun the same `simsent encode` to finish")
        expected = start + rows
    total = manifest.get("input_rows", manifest.get("rows"))
    if total is None or expected != total:
        known = total is not None and expected < total
        missing = f"rows {expected}-{total - 1}" if known else "the row count"
        raise DataError(f"{folder}: {missing} have no shard; rerun the same `simsent encode` to finish")
    for shard in manifest["shards"] if files else []:
        if not _intact(folder, shard):
            raise DataError(f"{folder}/{shard['file']} is missing or changed; rerun `simsent encode` to redo")


def _write_shard(folder: str, manifest: dict[str, Any], i: int, vecs: np.ndarray, shard_rows: int,
                 precision: str) -> None:
    """Shard ``i`` written atomically, then recorded in the manifest (written atomically too)."""
    from simsent.search.quantize import int8_ranges, quantize

    if precision == "int8" and "int8_ranges" not in manifest:
        manifest["int8_ranges"] = int8_ranges(vecs).tolist()  # calibrated on the first shard
    ranges = np.asarray(manifest["int8_ranges"], np.float32) if precision == "int8" else None
    name = f"shard-{i:05d}.npy"
    data = quantize(vecs, precision, ranges)
    with atomic_path(os.path.join(folder, name), data.nbytes) as tmp, open(tmp, "wb") as f:
        np.save(f, data)
    entry = {"index": i, "file": name, "start": i * shard_rows, "rows": len(vecs),
             "sha256": sha256_file(os.path.join(folder, name))}
    manifest["shards"] = sorted([*manifest["shards"], entry], key=lambda s: s["index"])
    write_json(os.path.join(folder, MANIFEST), manifest)
    logger.info("shard %d: rows %d-%d written", i, entry["start"], entry["start"] + len(vecs) - 1)


def _intact(folder: str, shard: dict[str, Any]) -> bool:
    path = os.path.join(folder, shard["file"])
    return os.path.isfile(path) and sha256_file(path) == shard["sha256"]


def read_manifest(folder: str) -> dict[str, Any]:
    """The manifest of a complete shard folder (a one-line DataError otherwise)."""
    path = os.path.join(folder, MANIFEST)
    if not os.path.isfile(path):
        raise DataError(f"no shards at {folder} (missing {MANIFEST}); write them with `simsent encode "
                        "--shard-rows N`")
    manifest = read_json(path, what="shard manifest")
    if manifest.get("format") != FORMAT or not manifest.get("complete"):
        raise DataError(f"{folder}: the shards are incomplete; rerun the same `simsent encode` to finish")
    check_coverage(folder, manifest)
    return manifest


def iter_shards(folder: str, manifest: dict[str, Any] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """``(start row, vectors)`` of each shard in order, memory-mapped; ``manifest``: the folder's, as
    :func:`read_manifest` gave it (read and checked here when not given)."""
    manifest = manifest or read_manifest(folder)
    for shard in sorted(manifest["shards"], key=lambda s: s["index"]):
        yield shard["start"], np.load(os.path.join(folder, shard["file"]), mmap_mode="r")
