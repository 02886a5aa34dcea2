"""Any Hugging Face ``AutoModel`` as an :class:`EncoderModule`.

Example:
    >>> enc = TransformerEncoder.from_pretrained("bert-base-chinese", dropout=0.3)  # doctest: +SKIP
    >>> out = enc(enc.tokenize(["今天天气不错"]))
    >>> out["token_embeddings"].shape                                                       # doctest: +SKIP
    torch.Size([1, 8, 768])
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import numpy as np
import torch

from simsent.errors import ModelLoadError, check_number
from simsent.modeling.encoders.base import EncoderModule

logger = logging.getLogger(__name__)

#: config attributes that hold dropout probabilities in common architectures
DROPOUT_KEYS = (
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "hidden_dropout",
    "attention_dropout",
    "dropout",
    "activation_dropout",
)
SIMSENT_ENCODER_CONFIG = "simsent_encoder.json"
#: architectures whose position ids start after the padding index (RoBERTa: pad_token_id + 1)
PADDING_OFFSET_MODELS = {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "longformer", "mpnet",
                         "data2vec-text", "ibert", "luke"}


def position_limit(config: Any) -> int | None:
    """Longest input in tokens the model's position table allows (``None``: no table, no limit).

    Example:
        >>> from types import SimpleNamespace
        >>> position_limit(SimpleNamespace(model_type="roberta", max_position_embeddings=514, pad_token_id=1))
        512
    """
    n = getattr(config, "max_position_embeddings", None)
    if not isinstance(n, int) or n <= 0:
        return None
    if getattr(config, "model_type", None) in PADDING_OFFSET_MODELS:
        n -= int(getattr(config, "pad_token_id", 1) or 0) + 1
    return max(1, n)


def _load_error(name: str, exc: Exception) -> ModelLoadError:
    hint = (
        "it is not a local folder and this machine cannot download it; pass a local model directory"
        if not os.path.isdir(name)
        else "the folder does not hold a Hugging Face model (config.json, weights, tokenizer)"
    )
    return ModelLoadError(
        f"cannot load model {name!r}: {hint} ({type(exc).__name__}: {str(exc).splitlines()[0]})"
    )


class TransformerEncoder(EncoderModule):
    """Wrap a Hugging Face model and its tokenizer.

    Args:
        model: a ``transformers.PreTrainedModel`` returning ``last_hidden_state``.
        tokenizer: its tokenizer.
        max_len: truncation length in tokens.
        jieba: segment texts into words with jieba before the tokenizer (word-level models such as
            WoBERT / RoFormer); the tokenizer then receives ``is_split_into_words=True``.
    """

    kind = "transformer"

    def __init__(self, model: Any, tokenizer: Any, max_len: int = 64, jieba: bool = False) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        limit = position_limit(getattr(model, "config", None))
        if limit is not None and int(max_len) > limit:
            logger.warning("max_len %d exceeds the model's %d positions; using %d", max_len, limit, limit)
            max_len = limit
        self.max_len = int(max_len)
        self.jieba = bool(jieba)
        self.output_hidden_states = False
        #: pad each batch to a multiple of this many tokens (set to 8 on a GPU; None on CPU)
        self.pad_to_multiple_of: int | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str,
        max_len: int = 64,
        dropout: float | None = None,
        jieba: bool = False,
        **model_kwargs: Any,
    ) -> TransformerEncoder:
        """Load model and tokenizer by hub id or local path; ``dropout`` overrides every dropout rate."""
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        name_or_path = os.fspath(name_or_path)
        check_number("dropout", dropout, minimum=0, maximum=1, optional=True)
        check_number("max_len", max_len, integer=True, minimum=1)
        looks_like_path = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1
        if looks_like_path and not os.path.isdir(name_or_path):
            raise ModelLoadError(f"model folder not found: {name_or_path}")
        try:
            config = AutoConfig.from_pretrained(name_or_path)
            if dropout is not None:
                for key in DROPOUT_KEYS:
                    if isinstance(getattr(config, key, None), float):
                        setattr(config, key, float(dropout))
            tok_kwargs = {"tokenize_chinese_chars": False} if jieba else {}
            tokenizer = AutoTokenizer.from_pretrained(name_or_path, **tok_kwargs)
            model = AutoModel.from_pretrained(name_or_path, config=config, **model_kwargs)
        except (OSError, ValueError) as exc:
            raise _load_error(name_or_path, exc) from exc
        enc = cls(model, tokenizer, max_len=max_len, jieba=jieba)
        if dropout is not None:
            enc.set_dropout(dropout)
        return enc

    @classmethod
    def load(cls, path: str, **kwargs: Any) -> TransformerEncoder:
        """Restore an encoder saved by :meth:`save` (extra keyword arguments override the saved ones)."""
        cfg: dict[str, Any] = {}
        cfg_file = os.path.join(path, SIMSENT_ENCODER_CONFIG)
        if os.path.isfile(cfg_file):
            with open(cfg_file, encoding="utf-8") as f:
                cfg = json.load(f)
        cfg.update({k: v for k, v in kwargs.items() if v is not None})
        return cls.from_pretrained(
            path, max_len=cfg.get("max_len", 64), dropout=cfg.get("dropout"), jieba=cfg.get("jieba", False)
        )

    # ------------------------------------------------------------------ contract
    def get_embedding_dimension(self) -> int:
        return int(self.model.config.hidden_size)

    def has_pooler(self) -> bool:
        return getattr(self.model, "pooler", None) is not None

    def set_dropout(self, p: float) -> None:
        super().set_dropout(p)
        for key in DROPOUT_KEYS:
            if isinstance(getattr(self.model.config, key, None), float):
                setattr(self.model.config, key, float(p))
        # attention implementations that read a float attribute instead of an nn.Dropout
        for module in self.model.modules():
            for attr in ("dropout_prob", "attention_dropout"):
                if isinstance(getattr(module, attr, None), float):
                    setattr(module, attr, float(p))

    def _pretokenize(self, texts: list[str]) -> list[list[str]]:
        """jieba words; a word missing from the vocabulary falls back to its characters (as WoBERT does)."""
        import jieba

        if not hasattr(self, "_vocab"):
            self._vocab = set(self.tokenizer.get_vocab())
        out = []
        for text in texts:
            pieces: list[str] = []
            for word in jieba.lcut(text):
                if not word.strip():
                    continue
                pieces.extend([word] if word in self._vocab else list(word))
            out.append(pieces)
        return out

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Padded ``input_ids`` / ``attention_mask`` (/ ``token_type_ids``) of ``texts``, int64 tensors.

        The tokenizer returns lists, turned into tensors through numpy here: its own ``return_tensors="pt"``
        took 20 ms instead of 7 for 256 short sentences (transformers 5.23, this project's CPU).
        """
        kwargs: dict[str, Any] = dict(padding=True, truncation="longest_first", max_length=self.max_len)
        if self.pad_to_multiple_of:  # few distinct shapes: a GPU tunes its kernels once per shape
            kwargs["pad_to_multiple_of"] = self.pad_to_multiple_of
        if self.jieba:
            batch = self.tokenizer(self._pretokenize(texts), is_split_into_words=True, **kwargs)
        else:
            batch = self.tokenizer(list(texts), **kwargs)
        n = len(texts)
        return {k: torch.from_numpy(np.asarray(v, dtype=np.int64).reshape(n, -1)) for k, v in batch.items()}

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        inputs = {k: v for k, v in features.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        out = self.model(**inputs, output_hidden_states=self.output_hidden_states, return_dict=True)
        features["token_embeddings"] = out.last_hidden_state
        if self.output_hidden_states:
            features["all_layer_embeddings"] = out.hidden_states
        pooled = getattr(out, "pooler_output", None)
        if pooled is not None:
            features["pooler_output"] = pooled
        return features

    def can_pack(self) -> bool:
        """Whether :meth:`forward_packed` applies (absolute positions, ``position_ids`` accepted)."""
        from simsent.modeling.packing import packable

        return not self.jieba and packable(self.model)

    def forward_packed(
        self, features: dict[str, torch.Tensor], lengths: list[int], row_tokens: int
    ) -> dict[str, torch.Tensor]:
        """:meth:`forward` with the real tokens packed into rows of ``row_tokens`` (no padding through
        the model; see :mod:`simsent.modeling.packing`); the same outputs except ``pooler_output``."""
        from simsent.modeling.packing import packed_forward

        features.update(packed_forward(self.model, features, lengths, row_tokens, self.output_hidden_states))
        return features

    def save(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)
        self.model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)
        dropout = getattr(self.model.config, "hidden_dropout_prob", None)
        with open(os.path.join(path, SIMSENT_ENCODER_CONFIG), "w", encoding="utf-8") as f:
            json.dump({"max_len": self.max_len, "jieba": self.jieba, "dropout": dropout}, f, indent=2)

    def pooler_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Weight and bias of the model's dense+tanh pooler (for the sentence-transformers export)."""
        dense = self.model.pooler.dense
        return dense.weight.detach().clone(), dense.bias.detach().clone()
