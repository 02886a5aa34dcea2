"""Cached contrastive steps (GradCache, Gao et al. 2021; sentence-transformers'
``CachedMultipleNegativesRankingLoss``): the in-batch-negative batch size no longer bounded by memory.

One step on a batch of any size:

1. embed every text column ``chunk`` rows at a time **without** an autograd graph, keeping each chunk's
   random state (CPU and CUDA);
2. compute the objective's loss on those embeddings (leaf tensors) and back-propagate it to them only;
3. re-embed each chunk **with** a graph under its saved random state (the same dropout masks: SimCSE's
   augmentation is dropout) and back-propagate the chunk's slice of the embedding gradient.

Peak memory is that of one chunk's graph plus the embeddings; the loss and every parameter gradient
equal those of the plain step on the whole batch (tested with dropout off; with dropout on, the second
pass reproduces the first pass's embeddings exactly).

Example:
    >>> loss = cached_step(objective, batch["features"], batch["labels"], chunk=64)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch


class RandomState:
    """The CPU and CUDA random states at construction, restored inside :meth:`replay`."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cpu = torch.get_rng_state()
        self.cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None

    @contextlib.contextmanager
    def replay(self) -> Iterator[None]:
        """A block in which the random state is the saved one (the outer state is restored after)."""
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.set_rng_state(self.cpu)
            if self.cuda is not None:
                torch.cuda.set_rng_state(self.cuda, self.device)
            yield


def slice_rows(features: dict[str, Any], start: int, stop: int) -> dict[str, Any]:
    """Rows ``start:stop`` of a tokenised batch (tensors and the collator's ``row_lengths`` list)."""
    return {k: v[start:stop] for k, v in features.items()}


def _rows(features: dict[str, Any]) -> int:
    return len(next(iter(features.values())))


def cached_step(
    objective: Any,
    features: list[dict[str, Any]],
    labels: torch.Tensor | None,
    chunk: int,
    backward: Callable[[torch.Tensor], None] | None = None,
    autocast: Callable[[], Any] | None = None,
) -> torch.Tensor:
    """Loss of ``objective`` on the batch, its gradient already accumulated into the parameters.

    ``objective`` must be cacheable (``objective.loss_from(embeddings, labels)``); ``backward`` runs the
    loss's backward pass (``accelerator.backward`` for mixed precision; default ``loss.backward()``) and
    ``autocast`` gives the mixed-precision context of the forward passes (default none).
    """
    autocast = autocast or contextlib.nullcontext

    def embed(feats: dict[str, Any]) -> torch.Tensor:
        with autocast():
            return objective.embed(feats)

    device = next(objective.model.parameters()).device
    states: list[list[RandomState]] = []
    reps = []
    with torch.no_grad():
        for feats in features:
            column_states, parts = [], []
            for start in range(0, _rows(feats), chunk):
                column_states.append(RandomState(device))
                parts.append(embed(slice_rows(feats, start, start + chunk)))
            states.append(column_states)
            reps.append(torch.cat(parts).detach().requires_grad_(True))
    with autocast():
        loss = objective.loss_from(reps, labels)
    (backward or torch.Tensor.backward)(loss)
    for feats, column_states, rep in zip(features, states, reps, strict=True):
        for i, state in enumerate(column_states):
            start = i * chunk
            with state.replay():
                emb = embed(slice_rows(feats, start, start + chunk))
                emb.backward(rep.grad[start : start + len(emb)].to(emb.dtype))
    return loss.detach()
