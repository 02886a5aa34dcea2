"""Token counts for ``/v1/embeddings`` usage, taken from the one tokenisation ``encode`` does.

:class:`TokenTally` wraps the model's tokenizer once: while a tally is open on a thread, every batch it
tokenises records each text's tokens (its attention mask's sum, special tokens and prompt included,
truncated as the model truncates). The micro-batcher's encode function opens one around ``encode`` and
returns the counts beside the vectors, so a request is never tokenised twice.

Example:
    >>> tally = TokenTally(model)                                          # doctest: +SKIP
    >>> vectors, tokens = tally.encode(["你好", "今天天气不错"], batch_size=32)  # doctest: +SKIP
    >>> tokens.tolist()                                                    # doctest: +SKIP
    [4, 8]
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from simsent.modeling.prompts import default_prompt


class TokenTally:
    """Counts the tokens of what ``model.encode`` tokenises (see the module docstring)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self._open = threading.local()
        # the SentenceEncoder tokenises through ``tokenize``, the ONNX encoder through ``tokenizer``, a static
        # model through ``token_ids`` (lists of piece ids)
        name = "tokenizer" if hasattr(model, "session") else "token_ids" if hasattr(model, "token_ids") \
            else "tokenize"
        self._wrap(name, getattr(model, name, None))

    def _wrap(self, name: str, tokenize: Callable | None) -> None:
        if not callable(tokenize):
            return

        def counted(texts: Sequence[str]) -> Any:
            feats = tokenize(texts)
            counts = getattr(self._open, "counts", None)
            if isinstance(feats, list):  # piece ids a text
                lengths = [len(ids) for ids in feats]
            else:
                mask = feats.get("attention_mask") if hasattr(feats, "get") else None
                lengths = None if mask is None else np.asarray(mask).sum(axis=1).tolist()
            if counts is not None and lengths is not None:
                counts.update(zip(texts, lengths, strict=True))
            return feats

        setattr(self.model, name, counted)

    def encode(self, texts: list[str], **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
        """``model.encode(texts, **kwargs)`` and each text's token count (characters where the model's
        tokenizer gives no attention mask)."""
        self._open.counts = counts = {}
        try:
            vectors = self.model.encode(texts, **kwargs)
        finally:
            self._open.counts = None
        prompt = default_prompt(self.model)
        tokens = [counts.get(prompt + t, len(prompt + t)) for t in texts]
        return vectors, np.asarray(tokens, dtype=np.int64)
