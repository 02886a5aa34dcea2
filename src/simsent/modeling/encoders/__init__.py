"""Encoder modules: a transformer (any Hugging Face AutoModel) and a light TextCNN.

``ENCODER_CLASSES`` maps the ``kind`` stored in a saved model to the class that loads it; classes
are imported on demand so importing :mod:`simsent` stays cheap.
"""

from __future__ import annotations

from simsent._registry import load_registered
from simsent.modeling.encoders.base import EncoderModule

ENCODER_CLASSES = {
    "transformer": "simsent.modeling.encoders.transformer:TransformerEncoder",
    "textcnn": "simsent.modeling.encoders.textcnn:TextCNNEncoder",
    "static_table": "simsent.modeling.encoders.static_table:StaticTableEncoder",
}


def encoder_class(kind: str) -> type[EncoderModule]:
    """Import and return the encoder class registered under ``kind``."""
    return load_registered(ENCODER_CLASSES, kind, "encoder kind")


__all__ = ["ENCODER_CLASSES", "EncoderModule", "encoder_class"]
