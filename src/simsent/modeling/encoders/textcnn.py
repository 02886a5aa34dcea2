"""A light TextCNN encoder: a vocabulary built from the training corpus, embeddings, parallel
1-D convolutions (kernel sizes 2, 3, 4 by default) with ReLU, and max-over-time pooling.

Tokens are characters by default (``jieba=True`` segments into words). Position 0 of the
vocabulary is ``[PAD]`` (a zero embedding), position 1 is ``[UNK]``. The convolutions use
"same" padding, so ``token_embeddings`` keep the input length (B, T, filters * len(kernels)); the
padded positions are masked out by the model's masked ``max`` pooling, and because ``[PAD]``
embeds to zeros exactly like the convolution's own zero padding, a sentence's vector does not
depend on how long the other sentences of its batch are.

Dropout is applied to the embeddings and to the convolution outputs, so unsupervised SimCSE
(dropout as the augmentation) works as with a transformer.

The embedding can be initialised from a teacher transformer's input embeddings
(:meth:`TextCNNEncoder.init_from_teacher`) for the tokens both vocabularies share. When the
teacher's embedding size differs, the teacher's rows are projected onto their top ``emb_dim``
principal directions (PCA; this needs ``teacher_dim >= emb_dim``) and rescaled to the standard
deviation of the random initialisation.

Saved as ``vocab.txt`` + ``textcnn_config.json`` + ``model.safetensors``.

Example:
    >>> enc = TextCNNEncoder.from_corpus(["今天天气不错", "今天天气很好"], emb_dim=16, filters=8)
    >>> feats = enc(enc.tokenize(["今天天气不错", "好"]))
    >>> feats["token_embeddings"].shape
    torch.Size([2, 6, 24])
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from simsent._constants import DEFAULT_MAX_LEN
from simsent.errors import ConfigError, DataError, ModelLoadError
from simsent.modeling.encoders.base import EncoderModule

logger = logging.getLogger(__name__)

PAD, UNK = "[PAD]", "[UNK]"
CONFIG_FILE = "textcnn_config.json"
VOCAB_FILE = "vocab.txt"
WEIGHTS_FILE = "model.safetensors"


def split_tokens(text: str, jieba: bool = False, lowercase: bool = True) -> list[str]:
    """Characters (whitespace dropped) or jieba words of ``text``.

    Example:
        >>> split_tokens("花呗 OK")
        ['花', '呗', 'o', 'k']
    """
    if lowercase:
        text = text.lower()
    if jieba:
        import jieba as _jieba

        return [w for w in _jieba.lcut(text) if w.strip()]
    return [c for c in text if not c.isspace()]


def build_vocab(
    texts: Iterable[str],
    min_freq: int = 1,
    jieba: bool = False,
    max_size: int | None = None,
    lowercase: bool = True,
) -> list[str]:
    """Tokens seen at least ``min_freq`` times, most frequent first, after ``[PAD]`` and ``[UNK]``.

    Example:
        >>> build_vocab(["aab", "b"], min_freq=2)
        ['[PAD]', '[UNK]', 'a', 'b']
    """
    counts: Counter[str] = Counter()
    for t in texts:
        counts.update(split_tokens(t, jieba=jieba, lowercase=lowercase))
    items = sorted(((tok, n) for tok, n in counts.items() if n >= min_freq), key=lambda x: (-x[1], x[0]))
    if max_size is not None:
        items = items[: max(0, max_size - 2)]
    return [PAD, UNK] + [tok for tok, _ in items if tok not in (PAD, UNK)]


class TextCNNEncoder(EncoderModule):
    """Embedding + parallel Conv1d (same padding) + ReLU; pooled by masked max over time.

    Args:
        vocab: tokens, ``[PAD]`` first and ``[UNK]`` second (see :func:`build_vocab`).
        emb_dim: embedding size.
        kernel_sizes: one convolution per kernel size.
        filters: output channels per convolution; the output size is ``filters * len(kernel_sizes)``.
        dropout: dropout on embeddings and convolution outputs (the SimCSE augmentation).
        max_len: truncation length in tokens.
        jieba: tokens are jieba words instead of characters.
        lowercase: lowercase the text before splitting.
    """

    kind = "textcnn"
    #: poolings that make sense over convolution features (no first / last token, no pooler)
    poolings = ("max", "mean", "last_avg", "mean_sqrt_len")
    #: sentence-transformers module written to modules.json (load with trust_remote_code=True)
    st_module_class = "simsent.modeling.encoders.textcnn_st.TextCNNModule"

    def __init__(
        self,
        vocab: Sequence[str],
        emb_dim: int = 128,
        kernel_sizes: Sequence[int] = (2, 3, 4),
        filters: int = 128,
        dropout: float = 0.1,
        max_len: int = DEFAULT_MAX_LEN,
        jieba: bool = False,
        lowercase: bool = True,
    ) -> None:
        super().__init__()
        vocab = list(vocab)
        if len(vocab) < 2 or vocab[0] != PAD or vocab[1] != UNK:
            raise ConfigError("a TextCNN vocabulary starts with [PAD], [UNK]; build it with build_vocab()")
        if not kernel_sizes or any(int(k) < 1 for k in kernel_sizes):
            raise ConfigError(f"kernel sizes must be positive integers, got {list(kernel_sizes)}")
        self.vocab = vocab
        self.index = {tok: i for i, tok in enumerate(vocab)}
        self.emb_dim = int(emb_dim)
        self.kernel_sizes = tuple(int(k) for k in kernel_sizes)
        self.filters = int(filters)
        self.max_len = int(max_len)
        self.jieba = bool(jieba)
        self.lowercase = bool(lowercase)
        self.embedding = nn.Embedding(len(vocab), self.emb_dim, padding_idx=0)
        self.convs = nn.ModuleList(
            nn.Conv1d(self.emb_dim, self.filters, k) for k in self.kernel_sizes
        )
        self.emb_dropout = nn.Dropout(dropout)
        self.out_dropout = nn.Dropout(dropout)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_corpus(
        cls,
        texts: Iterable[str],
        min_freq: int = 1,
        jieba: bool = False,
        max_vocab: int | None = None,
        lowercase: bool = True,
        **kwargs: Any,
    ) -> TextCNNEncoder:
        """Build the vocabulary from ``texts`` and a randomly initialised encoder."""
        vocab = build_vocab(texts, min_freq=min_freq, jieba=jieba, max_size=max_vocab, lowercase=lowercase)
        if len(vocab) <= 2:
            raise DataError("the corpus gives an empty TextCNN vocabulary: pass non-empty texts "
                            "or lower --min-freq")
        logger.info("TextCNN vocabulary: %d tokens (min_freq=%d, %s)", len(vocab), min_freq,
                    "jieba words" if jieba else "characters")
        return cls(vocab, jieba=jieba, lowercase=lowercase, **kwargs)

    def config(self) -> dict[str, Any]:
        """Constructor arguments (without the vocabulary), as saved in ``textcnn_config.json``."""
        return {
            "emb_dim": self.emb_dim, "kernel_sizes": list(self.kernel_sizes), "filters": self.filters,
            "dropout": self.emb_dropout.p, "max_len": self.max_len, "jieba": self.jieba,
            "lowercase": self.lowercase,
        }

    def init_from_teacher(self, teacher: str | Any) -> int:
        """Copy a transformer's input embeddings for the tokens both vocabularies share.

        Args:
            teacher: a hub id / folder, or a loaded :class:`TransformerEncoder`.

        Returns:
            the number of rows copied. Rows are PCA-projected when the teacher is wider than
            ``emb_dim``; a narrower teacher is an error.
        """
        if isinstance(teacher, str):
            from simsent.modeling.encoders.transformer import TransformerEncoder

            teacher = TransformerEncoder.from_pretrained(teacher)
        table = teacher.model.get_input_embeddings().weight.detach().float().cpu()
        tvocab = teacher.tokenizer.get_vocab()
        pairs = []
        for i, tok in enumerate(self.vocab[2:], start=2):
            j = tvocab.get(tok, tvocab.get(tok.lower()))
            if j is not None:
                pairs.append((i, j))
        if not pairs:
            logger.warning("no token shared with the teacher vocabulary; embeddings stay random")
            return 0
        rows = table[[j for _, j in pairs]]
        if rows.shape[1] < self.emb_dim:
            raise ConfigError(
                f"teacher embeddings have {rows.shape[1]} dims < TextCNN emb_dim {self.emb_dim}: "
                f"use an emb_dim <= {rows.shape[1]}"
            )
        if rows.shape[1] > self.emb_dim:
            centred = table - table.mean(0)
            # principal directions of the teacher's whole embedding table
            _, _, v = torch.linalg.svd(centred[: min(len(centred), 30000)], full_matrices=False)
            rows = (rows - table.mean(0)) @ v[: self.emb_dim].T
        rows = rows / rows.std().clamp(min=1e-8) * self.embedding.weight.detach()[2:].std()
        with torch.no_grad():
            self.embedding.weight[[i for i, _ in pairs]] = rows.to(self.embedding.weight.dtype)
        logger.info("initialised %d of %d TextCNN embeddings from the teacher", len(pairs),
                    len(self.vocab) - 2)
        return len(pairs)

    # ------------------------------------------------------------------ contract
    def get_embedding_dimension(self) -> int:
        return self.filters * len(self.kernel_sizes)

    def token_ids(self, text: str) -> list[int]:
        """Vocabulary ids of ``text`` (truncated to ``max_len``; ``[UNK]`` for an empty text)."""
        toks = split_tokens(text, jieba=self.jieba, lowercase=self.lowercase)[: self.max_len]
        return [self.index.get(t, 1) for t in toks] or [1]

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        ids = [self.token_ids(t) for t in texts]
        width = max((len(x) for x in ids), default=1)
        input_ids = torch.zeros(len(ids), width, dtype=torch.long)
        mask = torch.zeros(len(ids), width, dtype=torch.long)
        for row, x in enumerate(ids):
            input_ids[row, : len(x)] = torch.tensor(x, dtype=torch.long)
            mask[row, : len(x)] = 1
        return {"input_ids": input_ids, "attention_mask": mask}

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        mask = features["attention_mask"]
        x = self.embedding(features["input_ids"]) * mask.unsqueeze(-1).to(self.embedding.weight.dtype)
        x = self.emb_dropout(x).transpose(1, 2)  # (B, E, T)
        # "same" padding: k - 1 zeros split left (floor) / right, as [PAD] positions embed to zeros
        outs = []
        for k, conv in zip(self.kernel_sizes, self.convs, strict=True):
            left = (k - 1) // 2
            outs.append(torch.relu(conv(F.pad(x, (left, k - 1 - left)))))
        h = torch.cat(outs, dim=1)  # (B, F*K, T)
        features["token_embeddings"] = self.out_dropout(h.transpose(1, 2))
        return features

    # ------------------------------------------------------------------ persistence
    def save(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, VOCAB_FILE), "w", encoding="utf-8") as f:
            f.write("\n".join(self.vocab) + "\n")
        with open(os.path.join(path, CONFIG_FILE), "w", encoding="utf-8") as f:
            json.dump(self.config(), f, indent=2)
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        save_file(state, os.path.join(path, WEIGHTS_FILE))

    @classmethod
    def load(cls, path: str, **kwargs: Any) -> TextCNNEncoder:
        """Restore a saved encoder; non-None ``max_len``, ``dropout``, ``jieba`` override the saved ones."""
        try:
            with open(os.path.join(path, CONFIG_FILE), encoding="utf-8") as f:
                cfg = json.load(f)
            with open(os.path.join(path, VOCAB_FILE), encoding="utf-8") as f:
                vocab = [line.rstrip("\n") for line in f]
            state = load_file(os.path.join(path, WEIGHTS_FILE))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelLoadError(f"cannot load a TextCNN encoder from {path!r}: {exc}") from exc
        if vocab and vocab[-1] == "":
            vocab = vocab[:-1]
        cfg.update(
            {k: v for k, v in kwargs.items() if k in ("max_len", "dropout", "jieba") and v is not None}
        )
        enc = cls(vocab, **cfg)
        enc.load_state_dict(state)
        return enc


def build_textcnn_model(
    corpus_texts: Iterable[str],
    *,
    min_freq: int = 1,
    jieba: bool = False,
    max_vocab: int | None = None,
    emb_dim: int = 128,
    kernel_sizes: Sequence[int] = (2, 3, 4),
    filters: int = 128,
    dropout: float | None = 0.1,
    max_len: int | None = DEFAULT_MAX_LEN,
    teacher: str | Any | None = None,
    seed: int | None = None,
    **unknown: Any,
):
    """A :class:`~simsent.SentenceEncoder` (TextCNN + masked max pooling) with a corpus vocabulary.

    Args:
        corpus_texts: the training texts the vocabulary is built from.
        teacher: optional transformer (hub id, folder or TransformerEncoder) whose input embeddings
            initialise the shared tokens (see :meth:`TextCNNEncoder.init_from_teacher`).
        seed: seeds the random initialisation.
        Other arguments: see :class:`TextCNNEncoder`. ``None`` for dropout / max_len keeps the default.

    Example:
        >>> model = build_textcnn_model(["今天天气不错", "今天天气很好"], emb_dim=16, filters=8)
        >>> model.encode(["今天天气不错"]).shape
        (1, 24)
    """
    from simsent.modeling.sentence_encoder import SentenceEncoder

    if unknown:
        known = ("min_freq", "jieba", "max_vocab", "emb_dim", "kernel_sizes", "filters", "dropout", "max_len",
                 "teacher", "seed")
        raise ConfigError(
            f"unknown TextCNN option(s) {', '.join(sorted(unknown))} (--model-arg); known: {', '.join(known)}"
        )
    if seed is not None:
        torch.manual_seed(seed)
    enc = TextCNNEncoder.from_corpus(
        list(corpus_texts), min_freq=min_freq, jieba=bool(jieba), max_vocab=max_vocab, emb_dim=emb_dim,
        kernel_sizes=kernel_sizes, filters=filters, dropout=0.1 if dropout is None else dropout,
        max_len=DEFAULT_MAX_LEN if max_len is None else max_len,
    )
    if teacher is not None:
        enc.init_from_teacher(teacher)
    return SentenceEncoder(enc, pooling="max")
