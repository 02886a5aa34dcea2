"""simsent: sentence embeddings with SimCSE-style contrastive learning, Chinese first.

Example:
    >>> from simsent import SentenceEncoder
    >>> model = SentenceEncoder.load("runs/stsb")                       # doctest: +SKIP
    >>> model.encode(["今天天气不错"], normalize_embeddings=True).shape  # doctest: +SKIP
    (1, 768)

Names are imported lazily, so ``import simsent`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "SentenceEncoder": "simsent.modeling.sentence_encoder",
    "CrossEncoder": "simsent.modeling.cross_encoder",
    "Pooling": "simsent.modeling.pooling",
    "DenseLayer": "simsent.modeling.dense",
    "TrainingArguments": "simsent.training.arguments",
    "Trainer": "simsent.training.trainer",
    "SimsentError": "simsent.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'simsent' has no attribute {name!r}")
