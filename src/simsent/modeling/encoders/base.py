"""The contract every encoder module (transformer, TextCNN, ...) fulfils.

An encoder turns texts into token-level features; pooling, dense layers and normalisation are
applied by :class:`simsent.modeling.sentence_encoder.SentenceEncoder` on top.

Example:
    >>> enc = SomeEncoder(...)                       # doctest: +SKIP
    >>> feats = enc.tokenize(["你好", "今天天气不错"])    # doctest: +SKIP
    >>> out = enc(feats)                             # adds "token_embeddings" (B, T, H)    # doctest: +SKIP
    >>> out["token_embeddings"].shape[-1] == enc.get_embedding_dimension()    # doctest: +SKIP
    True
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import nn


class EncoderModule(nn.Module, ABC):
    """Abstract encoder.

    ``forward(features)`` receives the dict from :meth:`tokenize` (tensors on the model's device)
    and returns the same dict updated with at least:

    * ``token_embeddings``: float tensor (batch, seq, dim)
    * ``attention_mask``: long/bool tensor (batch, seq), 1 for real tokens

    and optionally ``all_layer_embeddings`` (tuple of (batch, seq, dim), index 0 = embeddings
    output, index i = output of layer i) and ``pooler_output`` (batch, dim).
    """

    #: short name stored in the saved config, e.g. "transformer" or "textcnn"
    kind: str = "base"
    #: the poolings that make sense for this encoder (``None``: every one)
    poolings: tuple[str, ...] | None = None

    @abstractmethod
    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Tokenise a batch of texts into padded tensors (CPU)."""

    @abstractmethod
    def get_embedding_dimension(self) -> int:
        """Dimension of ``token_embeddings``."""

    @abstractmethod
    def save(self, path: str) -> None:
        """Write weights, vocabulary/tokeniser and config under ``path``."""

    @classmethod
    @abstractmethod
    def load(cls, path: str, **kwargs: Any) -> EncoderModule:
        """Restore an encoder written by :meth:`save`."""

    def has_pooler(self) -> bool:
        """Whether ``forward`` returns a ``pooler_output`` (dense+tanh over CLS)."""
        return False

    def set_dropout(self, p: float) -> None:
        """Set every dropout probability of the encoder to ``p``."""
        for module in self.modules():
            if isinstance(module, nn.Dropout):
                module.p = p
