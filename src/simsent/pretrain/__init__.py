"""Pretraining a small encoder from raw text by masked language modelling.

Names are imported lazily, so ``from simsent.pretrain.config import PretrainConfig`` does not
import torch.

Example:
    >>> from simsent.pretrain import PretrainConfig, pretrain, read_corpus
    >>> texts, stats = read_corpus(["corpus.txt"])                                  # doctest: +SKIP
    >>> pretrain(texts, PretrainConfig(output_dir="runs/mlm", max_minutes=60), stats)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PretrainConfig": "simsent.pretrain.config",
    "read_corpus": "simsent.pretrain.corpus",
    "pretrain": "simsent.pretrain.mlm",
    "build_tokenizer": "simsent.pretrain.tokenizer_builder",
    "save_tokenizer": "simsent.pretrain.tokenizer_builder",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'simsent.pretrain' has no attribute {name!r}")
