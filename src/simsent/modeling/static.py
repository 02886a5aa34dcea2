"""A static sentence encoder: one vector a vocabulary piece, a sentence the mean of its pieces' vectors
(no transformer at all: tens of thousands of sentences a second on a CPU). The folder is
sentence-transformers' ``StaticEmbedding`` format (``model.safetensors`` with ``embedding.weight`` and a
``tokenizer.json``, then ``Normalize``), so ``SentenceTransformer(path)`` gives the same vectors; simsent
reads such folders written by others (model2vec-style folders with ``embeddings`` are refused in one
line).

Example:
    >>> model = StaticSentenceEncoder.load("runs/static")                         # doctest: +SKIP
    >>> model.encode(["花呗怎么还款"], normalize_embeddings=True).shape           # doctest: +SKIP
    (1, 256)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from simsent._io import read_json, write_json
from simsent.errors import ConfigError, DataError, ModelLoadError

STATIC_TYPES = ("sentence_transformers.models.StaticEmbedding",
                "sentence_transformers.sentence_transformer.modules.static_embedding.StaticEmbedding")
_NORMALIZE = "sentence_transformers.models.Normalize"


class StaticSentenceEncoder:
    """``weights[i]`` is piece i's vector; a text is the mean of its pieces' rows (special tokens not
    added), as ``torch.nn.EmbeddingBag(mode="mean")``; an empty text is the zero vector."""

    backend = "static"
    precision = "fp32"

    def __init__(self, tokenizer: Any, weights: np.ndarray, normalize: bool = True,
                 extra_config: dict[str, Any] | None = None) -> None:
        self.tokenizer = tokenizer
        self.tokenizer.no_padding()
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)
        if self.weights.ndim != 2 or self.weights.shape[0] < tokenizer.get_vocab_size():
            raise ModelLoadError(f"a static model needs one row a vocabulary piece "
                                 f"({tokenizer.get_vocab_size()}); its weights are {self.weights.shape}")
        self.normalize = normalize
        self.extra_config = dict(extra_config or {})

    def to(self, device: Any) -> StaticSentenceEncoder:
        """Stays on the CPU whatever ``device`` says: a table lookup gains nothing from an accelerator."""
        return self

    def eval(self) -> StaticSentenceEncoder:
        return self

    def get_sentence_embedding_dimension(self) -> int:
        return int(self.weights.shape[1])

    def fingerprint(self) -> str:
        """sha256 of the vectors, the vocabulary and whether it normalises (an index checks it)."""
        import hashlib

        h = hashlib.sha256(self.weights.tobytes())
        h.update(json.dumps(sorted(self.tokenizer.get_vocab().items()), ensure_ascii=False).encode())
        h.update(str(self.normalize).encode())
        return h.hexdigest()

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def encode(self, sentences: str | Sequence[str], batch_size: int = 1024,
               show_progress_bar: bool | None = None, convert_to_numpy: bool = True,
               normalize_embeddings: bool = False, **_: Any) -> np.ndarray:
        """Embed sentences (keywords as ``SentenceTransformer.encode``); one string gives a 1-D vector."""
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        out = np.zeros((len(texts), self.weights.shape[1]), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            for i, ids in enumerate(self.token_ids(texts[start : start + batch_size]), start):
                if ids:
                    out[i] = self.weights[ids].mean(axis=0)
        if normalize_embeddings or self.normalize:
            out /= np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
        return out[0] if single else out

    def save(self, path: str) -> None:
        """A sentence-transformers folder: StaticEmbedding at the root, then Normalize when it normalises."""
        from safetensors.numpy import save_file

        os.makedirs(path, exist_ok=True)
        save_file({"embedding.weight": self.weights}, os.path.join(path, "model.safetensors"))
        self.tokenizer.save(os.path.join(path, "tokenizer.json"))
        modules = [{"idx": 0, "name": "0", "path": "", "type": STATIC_TYPES[0]}]
        if self.normalize:
            os.makedirs(os.path.join(path, "1_Normalize"), exist_ok=True)
            modules.append({"idx": 1, "name": "1", "path": "1_Normalize", "type": _NORMALIZE})
        write_json(os.path.join(path, "modules.json"), modules)
        write_json(os.path.join(path, "config_sentence_transformers.json"),
                    {"prompts": {}, "default_prompt_name": None, "similarity_fn_name": "cosine"})
        write_json(os.path.join(path, "simsent_config.json"),
                    {"encoder": "static", "normalize": self.normalize, **self.extra_config})

    @classmethod
    def load(cls, path: str) -> StaticSentenceEncoder:
        """A static folder written by simsent or sentence-transformers (StaticEmbedding [+ Normalize])."""
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        modules = read_json(os.path.join(path, "modules.json"), "model config")
        types = [m.get("type") for m in modules]
        if not types or types[0] not in STATIC_TYPES or any(not str(t).endswith("Normalize")
                                                             for t in types[1:]):
            raise ModelLoadError(f"{path}: simsent reads StaticEmbedding followed by Normalize only, not "
                                 f"{', '.join(str(t).rsplit('.', 1)[-1] for t in types)}")
        folder = os.path.join(path, modules[0].get("path") or "")
        weights = load_file(os.path.join(folder, "model.safetensors"))
        if "embedding.weight" not in weights:
            raise ModelLoadError(f"{path}: a model2vec-style weight file ({', '.join(weights)}); re-save it "
                                 "with sentence-transformers (StaticEmbedding) first")
        config = read_json(os.path.join(path, "simsent_config.json"), "model config") if os.path.isfile(
            os.path.join(path, "simsent_config.json")) else {}
        extra = {k: v for k, v in config.items() if k not in ("encoder", "normalize")}
        return cls(Tokenizer.from_file(os.path.join(folder, "tokenizer.json")), weights["embedding.weight"],
                   normalize=len(types) > 1, extra_config=extra)


def is_static_folder(path: str) -> bool:
    """Whether ``path`` holds a sentence-transformers folder whose first module is a StaticEmbedding."""
    file = os.path.join(path, "modules.json")
    if not os.path.isfile(file):
        return False
    try:
        modules = read_json(file, "model config")
    except DataError:
        return False
    return bool(modules) and isinstance(modules, list) and modules[0].get("type") in STATIC_TYPES


def refuse_training(path: str) -> None:
    raise ConfigError(f"{path} is a static model: encode, eval, index and serve take it; training it is "
                      "`simsent distill --student static` from a transformer teacher")

