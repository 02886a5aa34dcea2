"""A static student distilled from a transformer (model2vec's recipe, our own code): each vocabulary piece
goes through the teacher alone (``[CLS] piece [SEP]``, the teacher's pooling), the vectors are reduced
with PCA to ``dim``, and each is weighted by SIF, ``a / (a + p(piece))`` with ``p`` the piece's frequency
in the user's text, so frequent pieces weigh less. A sentence is then the mean of its pieces' rows
(:class:`~simsent.modeling.static.StaticSentenceEncoder`).

Pieces the text never uses get a zero row with ``vocabulary="corpus"`` (fast: only the pieces of your
domain go through the teacher); ``vocabulary="all"`` embeds every piece.

Example:
    >>> student = distill_static(teacher, my_texts, dim=256)          # doctest: +SKIP
    >>> student.save("runs/static")                                    # doctest: +SKIP
"""

from __future__ import annotations

import copy
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from simsent.errors import ConfigError

logger = logging.getLogger(__name__)


def distill_static(teacher: Any, texts: Sequence[str] = (), dim: int | None = 256, sif: float = 1e-4,
                   vocabulary: str = "corpus", batch_size: int = 256) -> Any:
    """The static student of ``teacher`` (a :class:`~simsent.SentenceEncoder` with a fast tokenizer)."""
    from simsent.modeling.static import StaticSentenceEncoder

    tokenizer = _backend_tokenizer(teacher)
    counts = Counter(i for e in tokenizer.encode_batch(list(texts), add_special_tokens=False) for i in e.ids)
    if vocabulary not in ("corpus", "all"):
        raise ConfigError(f"unknown vocabulary {vocabulary!r}; use corpus or all")
    if vocabulary == "corpus" and not counts:
        raise ConfigError("a static student of the corpus's pieces needs text (--train-file), or all pieces")
    ids = sorted(counts) if vocabulary == "corpus" else list(range(tokenizer.get_vocab_size()))
    width = teacher.get_sentence_embedding_dimension()
    if dim is not None and not 0 < dim <= width:
        raise ConfigError(f"--dim {dim}: the teacher gives {width}-dimensional vectors")
    vectors = reduce_dim(piece_vectors(teacher, ids, batch_size), dim)
    rows = np.zeros((tokenizer.get_vocab_size(), vectors.shape[1]), dtype=np.float32)
    rows[ids] = vectors * sif_weights(counts, ids, sif)[:, None]
    logger.info("static student: %d pieces through the teacher, %d dimensions", len(ids), vectors.shape[1])
    return StaticSentenceEncoder(tokenizer, rows, normalize=True,
                                 extra_config={"teacher": getattr(teacher, "name_or_path", None),
                                               "static": {"dim": int(vectors.shape[1]), "sif": sif,
                                                          "vocabulary": vocabulary, "pieces": len(ids)}})


def _backend_tokenizer(teacher: Any) -> Any:
    hf = getattr(getattr(teacher, "encoder", None), "tokenizer", None)
    backend = getattr(hf, "backend_tokenizer", None)
    if backend is None:
        raise ConfigError("a static student needs a teacher with a fast (Rust) tokenizer")
    return copy.deepcopy(backend)


def piece_vectors(teacher: Any, ids: Sequence[int], batch_size: int = 256) -> np.ndarray:
    """Each piece's vector: ``[CLS] piece [SEP]`` through ``teacher`` (its pooling and heads; not
    normalised)."""
    import torch

    hf = teacher.encoder.tokenizer
    first, last = hf.cls_token_id, hf.sep_token_id
    if first is None or last is None:
        raise ConfigError("the teacher's tokenizer has no CLS / SEP tokens to frame a piece with")
    keys = set(teacher.tokenize(["a"]))
    teacher.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(ids), batch_size):
            framed = [[first, i, last] for i in ids[start : start + batch_size]]
            chunk = torch.tensor(framed, dtype=torch.long)
            features = {"input_ids": chunk, "attention_mask": torch.ones_like(chunk)}
            if "token_type_ids" in keys:
                features["token_type_ids"] = torch.zeros_like(chunk)
            out.append(teacher({k: v.to(teacher.device) for k, v in features.items()}).float().cpu().numpy())
    width = teacher.get_sentence_embedding_dimension()
    return np.concatenate(out) if out else np.zeros((0, width), np.float32)


def reduce_dim(vectors: np.ndarray, dim: int | None) -> np.ndarray:
    """PCA of ``vectors`` to ``dim`` components (centred; as they are when ``dim`` is None or not smaller).

    Example:
        >>> reduce_dim(np.random.default_rng(0).normal(size=(10, 4)), 2).shape
        (10, 2)
    """
    if dim is None or dim >= vectors.shape[1]:
        return vectors.astype(np.float32)
    if dim > len(vectors):
        raise ConfigError(f"--dim {dim} needs at least {dim} pieces for PCA; the text uses {len(vectors)}")
    centred = vectors - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return (centred @ vt[:dim].T).astype(np.float32)


def sif_weights(counts: Counter, ids: Sequence[int], a: float) -> np.ndarray:
    """``a / (a + p)`` of each id, ``p`` its share of the pieces counted (1 for a piece never seen).

    Example:
        >>> sif_weights(Counter({5: 3, 7: 1}), [5, 7, 9], 0.25).round(3).tolist()
        [0.25, 0.5, 1.0]
    """
    total = sum(counts.values()) or 1
    p = np.array([counts.get(i, 0) / total for i in ids], dtype=np.float64)
    return (a / (a + p)).astype(np.float32)
