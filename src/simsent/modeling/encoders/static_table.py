"""A trainable table of piece vectors: the static student while it is fine-tuned. Its token features are
the rows of its pieces, so the :class:`~simsent.SentenceEncoder`'s mean pooling gives exactly what
:class:`~simsent.modeling.static.StaticSentenceEncoder` computes (the mean of the text's rows, no special
tokens); the Trainer trains it like any other encoder, and :meth:`StaticTableEncoder.to_static` hands the
rows back to the fast numpy encoder.

Example:
    >>> encoder = StaticTableEncoder.from_static(student)                      # doctest: +SKIP
    >>> model = SentenceEncoder(encoder, pooling="mean")                       # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch
from torch import nn

from simsent.errors import ModelLoadError
from simsent.modeling.encoders.base import EncoderModule

_CONFIG = "static_table_config.json"
_WEIGHTS = "static_table.safetensors"
_TOKENIZER = "tokenizer.json"


class StaticTableEncoder(EncoderModule):
    """``embedding.weight[i]`` is piece i's vector; ``tokenize`` uses a ``tokenizers.Tokenizer`` without
    special tokens, truncating at ``max_len`` pieces."""

    kind = "static_table"
    poolings = ("mean",)

    def __init__(self, tokenizer: Any, weights: torch.Tensor, max_len: int = 512) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.tokenizer.no_padding()
        self.embedding = nn.Embedding.from_pretrained(torch.as_tensor(weights, dtype=torch.float32).clone(),
                                                      freeze=False)
        self.max_len = int(max_len)

    @classmethod
    def from_static(cls, student: Any, max_len: int = 512) -> StaticTableEncoder:
        """The table of a :class:`~simsent.modeling.static.StaticSentenceEncoder` (its rows copied)."""
        import copy

        return cls(copy.deepcopy(student.tokenizer), torch.from_numpy(student.weights), max_len)

    def to_static(self, normalize: bool = True, extra_config: dict[str, Any] | None = None) -> Any:
        """The rows as a numpy :class:`~simsent.modeling.static.StaticSentenceEncoder`."""
        import copy

        from simsent.modeling.static import StaticSentenceEncoder

        rows = self.embedding.weight.detach().float().cpu().numpy().copy()
        return StaticSentenceEncoder(copy.deepcopy(self.tokenizer), rows, normalize, extra_config)

    def get_embedding_dimension(self) -> int:
        return int(self.embedding.embedding_dim)

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        encoded = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        ids = [e.ids[: self.max_len] for e in encoded]
        width = max((len(x) for x in ids), default=0) or 1
        input_ids = torch.zeros(len(ids), width, dtype=torch.long)
        mask = torch.zeros(len(ids), width, dtype=torch.long)
        for row, x in enumerate(ids):
            input_ids[row, : len(x)] = torch.tensor(x, dtype=torch.long)
            mask[row, : len(x)] = 1  # an empty text: no position, so mean pooling gives the zero vector
        return {"input_ids": input_ids, "attention_mask": mask}

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        features["token_embeddings"] = self.embedding(features["input_ids"])
        return features

    def save(self, path: str) -> None:
        from safetensors.torch import save_file

        os.makedirs(path, exist_ok=True)
        save_file({"embedding.weight": self.embedding.weight.detach().cpu().contiguous()},
                  os.path.join(path, _WEIGHTS))
        self.tokenizer.save(os.path.join(path, _TOKENIZER))
        with open(os.path.join(path, _CONFIG), "w", encoding="utf-8") as f:
            json.dump({"max_len": self.max_len}, f)

    @classmethod
    def load(cls, path: str, **kwargs: Any) -> StaticTableEncoder:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        try:
            with open(os.path.join(path, _CONFIG), encoding="utf-8") as f:
                cfg = json.load(f)
            weights = load_file(os.path.join(path, _WEIGHTS))["embedding.weight"]
            tokenizer = Tokenizer.from_file(os.path.join(path, _TOKENIZER))
        except Exception as exc:  # a missing or unreadable file, the tokenizer's own errors
            raise ModelLoadError(f"cannot load a static table encoder from {path!r}: {exc}") from exc
        return cls(tokenizer, weights, kwargs.get("max_len") or cfg.get("max_len", 512))
