"""A smaller copy of a model with a SentencePiece-unigram vocabulary (e.g. ``e5-small-zh``): only the pieces
a corpus uses, the highest-scoring ``keep_top`` others and the special tokens keep their rows of the
embedding table. Texts of that corpus tokenise and embed exactly as before; other text may split into
other pieces (a piece it needs can be gone). An option, never the default.

Example:
    >>> prune_vocabulary("e5-small-zh-folder", texts, "runs/e5-zh-pruned")  # doctest: +SKIP
    {'pieces': 250002, 'kept': 20525, 'bytes_before': 470637416, 'bytes_after': 118106672}
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from typing import Any

from simsent._io import read_json, write_json
from simsent.errors import ConfigError

EMBEDDINGS = "embeddings.word_embeddings.weight"


def kept_ids(tokenizer_json: dict[str, Any], used: set[int], keep_top: int) -> list[int]:
    """The piece ids to keep, in their original order: ``used`` ones, the special tokens, the ``keep_top``
    best-scoring others and the lowest-scoring piece (the unknown-piece penalty is counted from it).

    Example:
        >>> tj = {"model": {"vocab": [["<unk>", 0.0], ["a", -1.0], ["b", -2.0], ["c", -9.0]], "unk_id": 0},
        ...       "added_tokens": [{"id": 0}]}
        >>> kept_ids(tj, {2}, keep_top=1)
        [0, 1, 2, 3]
    """
    vocab = tokenizer_json["model"]["vocab"]
    special = {t["id"] for t in tokenizer_json.get("added_tokens", [])} | {tokenizer_json["model"]["unk_id"]}
    others = sorted((i for i in range(len(vocab)) if i not in special), key=lambda i: -vocab[i][1])
    lowest = min(range(len(vocab)), key=lambda i: vocab[i][1])
    return sorted(special | set(used) | set(others[:keep_top]) | {lowest})


def prune_vocabulary(folder: str, texts: Sequence[str], output: str, keep_top: int = 20000) -> dict[str, int]:
    """Write the pruned copy of model ``folder`` (a Hugging Face BERT folder, sentence-transformers files
    beside it, a unigram ``tokenizer.json``) to ``output``; the counts."""
    from tokenizers import Tokenizer

    from simsent._io import replace_dir

    tokenizer_path = os.path.join(folder, "tokenizer.json")
    tj = read_json(tokenizer_path, "tokenizer")
    if tj.get("model", {}).get("type") != "Unigram":
        raise ConfigError(f"{folder}: pruning takes a SentencePiece-unigram tokenizer (e.g. e5-small-zh)")
    tokenizer = Tokenizer.from_file(tokenizer_path)
    used = {i for enc in tokenizer.encode_batch(list(texts)) for i in enc.ids}
    keep = kept_ids(tj, used, keep_top)
    pieces = len(tj["model"]["vocab"])
    tmp = output.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(folder, tmp, ignore=shutil.ignore_patterns("simsent_builtin.json", "model.safetensors"))
    before = os.path.getsize(os.path.join(folder, "model.safetensors"))
    _write_weights(folder, tmp, keep)
    _write_tokenizer(tj, tmp, keep)
    replace_dir(tmp, output)
    return {"pieces": pieces, "kept": len(keep), "bytes_before": before,
            "bytes_after": os.path.getsize(os.path.join(output, "model.safetensors"))}


def _write_weights(folder: str, out: str, keep: list[int]) -> None:
    import numpy as np
    from safetensors.numpy import load_file, save_file

    tensors = load_file(os.path.join(folder, "model.safetensors"))
    if EMBEDDINGS not in tensors:
        raise ConfigError(f"{folder}: no {EMBEDDINGS} to prune")
    tensors[EMBEDDINGS] = np.ascontiguousarray(tensors[EMBEDDINGS][keep])
    save_file(tensors, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    config_path = os.path.join(out, "config.json")
    config = read_json(config_path, "model config")
    config["vocab_size"] = len(keep)
    write_json(config_path, config)
    write_json(os.path.join(out, "kept_ids.json"), keep, indent=None)


def _write_tokenizer(tj: dict[str, Any], out: str, keep: list[int]) -> None:
    """tokenizer.json with the kept pieces, renumbered; special-token ids everywhere they appear."""
    new_id = {old: new for new, old in enumerate(keep)}
    tj["model"]["vocab"] = [tj["model"]["vocab"][i] for i in keep]
    tj["model"]["unk_id"] = new_id[tj["model"]["unk_id"]]
    for token in tj.get("added_tokens", []):
        token["id"] = new_id[token["id"]]
    for spec in ((tj.get("post_processor") or {}).get("special_tokens") or {}).values():
        spec["ids"] = [new_id[i] for i in spec["ids"]]
    write_json(os.path.join(out, "tokenizer.json"), tj, indent=None)
    config_path = os.path.join(out, "tokenizer_config.json")
    if os.path.isfile(config_path):  # transformers rebuilds the added tokens from tokenizer.json
        config = read_json(config_path, "tokenizer config")
        config.pop("added_tokens_decoder", None)
        write_json(config_path, config)
