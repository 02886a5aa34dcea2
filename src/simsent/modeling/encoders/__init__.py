"""Encoder modules: a transformer (any Hugging Face AutoModel) and a light TextCNN.

``ENCODER_CLASSES`` maps the ``kind`` stored in a saved model to the class that loads it; classes
are imported on demand so importing :mod:`simsent` stays cheap.
"""

from __future__ import annotations

import importlib

from simsent.modeling.encoders.base import EncoderModule

ENCODER_CLASSES = {
    "transformer": "simsent.modeling.encoders.transformer:TransformerEncoder",
    "textcnn": "simsent.modeling.encoders.textcnn:TextCNNEncoder",
}


def encoder_class(kind: str) -> type[EncoderModule]:
    """Import and return the encoder class registered under ``kind``."""
    from simsent.errors import ConfigError

    if kind not in ENCODER_CLASSES:
        raise ConfigError(f"unknown encoder kind {kind!r}; known: {', '.join(ENCODER_CLASSES)}")
    module, name = ENCODER_CLASSES[kind].split(":")
    return getattr(importlib.import_module(module), name)


__all__ = ["ENCODER_CLASSES", "EncoderModule", "encoder_class"]
