"""Matryoshka representation learning (Kusupati et al., NeurIPS 2022) for any in-batch objective: the loss
is taken on the first d dimensions of every embedding for each d of ``dims`` and summed (with
``weights``, 1 each by default), so the leading dimensions carry a usable vector on their own and a user
can keep 128 of 384 dimensions for search.

It wraps an objective that computes its loss from embeddings (``loss_from``: simcse and
supervised_simcse, the objectives ``--cache-chunk`` also takes); the batch is embedded once.

Example:
    >>> import torch
    >>> class Mean:                                   # a stand-in objective: the mean of the embeddings
    ...     def loss_from(self, embeddings, labels=None):
    ...         return embeddings[0].mean()
    >>> z = torch.tensor([[1.0, 2.0, 3.0, 6.0]])
    >>> float(prefix_loss(Mean(), [z], None, dims=[4, 2], weights=[1.0, 1.0]))  # 3.0 + 1.5
    4.5
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from simsent.errors import ConfigError


def check_dims(dims: Sequence[int], model_dim: int | None = None) -> list[int]:
    """``dims`` as a list of distinct positive ints, largest first; each at most ``model_dim``.

    Example:
        >>> check_dims([64, 384, 128], 384)
        [384, 128, 64]
    """
    out = sorted({int(d) for d in dims}, reverse=True)
    if not out or out[-1] < 1:
        raise ConfigError(f"matryoshka dimensions must be positive integers, got {list(dims)}")
    if model_dim is not None and out[0] > model_dim:
        raise ConfigError(f"matryoshka dimension {out[0]} exceeds the model's {model_dim} dimensions")
    return out


def prefix_loss(objective: Any, embeddings: list[torch.Tensor], labels: torch.Tensor | None,
                dims: Sequence[int], weights: Sequence[float]) -> torch.Tensor:
    """``sum_d w_d * objective.loss_from(embeddings cut to their first d dimensions)``."""
    total = None
    for d, w in zip(dims, weights, strict=True):
        loss = w * objective.loss_from([e[..., :d] for e in embeddings], labels)
        total = loss if total is None else total + loss
    return total


class MatryoshkaLoss(nn.Module):
    """``objective`` taken at every prefix dimension of ``dims`` (see the module docstring); everything
    else (its name, columns, rows, facts) is the wrapped objective's."""

    def __init__(self, objective: Any, dims: Sequence[int], weights: Sequence[float] | None = None) -> None:
        super().__init__()
        if not getattr(objective, "cacheable", False):
            raise ConfigError(f"--matryoshka-dims needs an objective that learns from in-batch embeddings "
                              f"(simcse, supervised_simcse), not {objective.name}")
        if getattr(objective, "head", None) is not None and not isinstance(objective.head, nn.Identity):
            raise ConfigError("--matryoshka-dims cannot be combined with the SimCSE MLP head")
        self.objective = objective
        self.dims = check_dims(dims, objective.model.get_sentence_embedding_dimension())
        self.weights = [1.0] * len(self.dims) if weights is None else [float(w) for w in weights]
        if len(self.weights) != len(self.dims):
            raise ConfigError(f"{len(self.weights)} matryoshka weights for {len(self.dims)} dimensions")

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("objective"), name)

    def loss_from(self, embeddings: list[torch.Tensor], labels: torch.Tensor | None = None) -> torch.Tensor:
        return prefix_loss(self.objective, embeddings, labels, self.dims, self.weights)

    def forward(self, features: list[dict[str, torch.Tensor]], labels: torch.Tensor | None = None
                ) -> torch.Tensor:
        return self.loss_from([self.objective.embed(f) for f in features], labels)
