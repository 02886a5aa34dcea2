"""Turn rows into tokenised batches for an objective.

For unsupervised SimCSE (``views=2``) each sentence appears twice in one batch,
``[s_1..s_N, s_1..s_N]``, so the two copies get their own dropout masks (the encoder may run the batch
in several chunks; every row is still encoded on its own).

Example:
    >>> fake_tokenize = lambda texts: {"input_ids": torch.zeros(len(texts), 3, dtype=torch.long)}
    >>> collate = TextBatchCollator(fake_tokenize, ("sentence",), views=2)
    >>> batch = collate([{"sentence": "你好"}, {"sentence": "再见"}])
    >>> batch["features"][0]["input_ids"].shape[0]
    4
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch


class TextBatchCollator:
    """Collate rows into ``{"features": [tokenised column, ...], "labels": tensor | None}``.

    Args:
        tokenize: the model's ``tokenize(list[str]) -> dict[str, Tensor]``.
        text_columns: columns to tokenise, one feature dict each.
        views: repeat each column this many times in its batch.
        label_column: column holding labels, or None.
        label_dtype: ``torch.float`` for scores, ``torch.long`` for classes.
    """

    def __init__(
        self,
        tokenize: Callable[[list[str]], dict[str, torch.Tensor]],
        text_columns: Sequence[str],
        views: int = 1,
        label_column: str | None = None,
        label_dtype: torch.dtype = torch.float,
    ) -> None:
        self.tokenize = tokenize
        self.text_columns = tuple(text_columns)
        self.views = views
        self.label_column = label_column
        self.label_dtype = label_dtype

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        features = []
        for col in self.text_columns:
            batch = self.tokenize([str(r[col]) for r in rows])
            if self.views > 1:  # tokenise once, repeat the tensors: same as tokenising texts * views
                batch = {k: torch.cat([v] * self.views) for k, v in batch.items()}
            if "attention_mask" in batch:  # the forward policy plans its chunks from these, on the host
                batch["row_lengths"] = batch["attention_mask"].sum(dim=1).tolist()
            features.append(batch)
        labels = None
        if self.label_column:
            labels = torch.tensor([r[self.label_column] for r in rows], dtype=self.label_dtype)
        return {"features": features, "labels": labels}
