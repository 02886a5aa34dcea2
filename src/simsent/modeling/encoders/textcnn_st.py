"""A sentence-transformers input module wrapping :class:`~simsent.modeling.encoders.textcnn.TextCNNEncoder`.

A saved TextCNN model lists this class in its ``modules.json`` (followed by the standard
``Pooling`` max, ``Dense`` and ``Normalize`` modules), so sentence-transformers can load it. Its
class lives outside the ``sentence_transformers.*`` namespace, so sentence-transformers 6.x
imports it only with ``trust_remote_code=True`` (and simsent must be installed).

Example:
    >>> from sentence_transformers import SentenceTransformer
    >>> st = SentenceTransformer("runs/textcnn", trust_remote_code=True)   # doctest: +SKIP
    >>> st.encode(["今天天气不错"]).shape                                  # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from simsent.modeling.encoders.textcnn import TextCNNEncoder

try:  # sentence-transformers >= 6
    from sentence_transformers.base.modules.input_module import InputModule
except ImportError:  # pragma: no cover - sentence-transformers 4.x / 5.x
    from sentence_transformers.models import InputModule


class TextCNNModule(InputModule):
    """sentence-transformers view of a TextCNN encoder (tokenisation + token features)."""

    config_keys: list[str] = []
    save_in_root: bool = False

    def __init__(self, encoder: TextCNNEncoder) -> None:
        super().__init__()
        self.encoder = encoder

    @property
    def max_seq_length(self) -> int:
        return self.encoder.max_len

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        self.encoder.max_len = int(value)

    def preprocess(
        self, inputs: Sequence[Any], prompt: str | None = None, **kwargs: Any
    ) -> dict[str, torch.Tensor]:
        texts = [str(t) for t in inputs]
        if prompt:
            texts = [prompt + t for t in texts]
        return self.encoder.tokenize(texts)

    def tokenize(self, texts: list[str], **kwargs: Any) -> dict[str, torch.Tensor]:
        return self.preprocess(texts, **kwargs)

    def forward(self, features: dict[str, torch.Tensor], **kwargs: Any) -> dict[str, torch.Tensor]:
        return self.encoder(features)

    def get_embedding_dimension(self) -> int:
        return self.encoder.get_embedding_dimension()

    def get_word_embedding_dimension(self) -> int:
        return self.encoder.get_embedding_dimension()

    def save(self, output_path: str, *args: Any, safe_serialization: bool = True, **kwargs: Any) -> None:
        self.encoder.save(output_path)

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", token: bool | str | None = None,
             cache_folder: str | None = None, revision: str | None = None, local_files_only: bool = False,
             **kwargs: Any) -> TextCNNModule:
        path = cls.load_dir_path(model_name_or_path, subfolder=subfolder, token=token,
                                 cache_folder=cache_folder, revision=revision,
                                 local_files_only=local_files_only)
        return cls(TextCNNEncoder.load(path))
