"""Unsupervised SimCSE (Gao et al., EMNLP 2021): dropout is the only augmentation.

Two views of each sentence come from encoding the duplicated batch (two dropout masks); view 1 of
sentence i and view 2 of sentence i are the positive pair, every other sentence is a negative.

Variants:

* ``paper``: row i of view 1 against all N rows of view 2 (N-1 negatives), cross-entropy with
  target i: ``-log exp(s(z1_i, z2_i)/t) / sum_j exp(s(z1_i, z2_j)/t)``.
* ``symmetric``: all 2N vectors against the other 2N-1 (2N-2 negatives, both directions), the
  variant of Su's Chinese experiments: the target of row k is its other view.

Example:
    >>> import torch
    >>> z1, z2 = torch.randn(4, 8), torch.randn(4, 8)
    >>> UnsupervisedSimCSELoss.compute(z1, z2, temperature=0.05, variant="paper").shape
    torch.Size([])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from simsent.errors import ConfigError
from simsent.losses.base import Objective
from simsent.losses.functional import cosine_matrix, gather_with_grad

VARIANTS = ("paper", "symmetric")


def check_variant(variant: str) -> str:
    """Return ``variant``, or raise a one-line ConfigError naming the known variants."""
    if variant not in VARIANTS:
        raise ConfigError(f"unknown SimCSE variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    return variant


class UnsupervisedSimCSELoss(Objective):
    """InfoNCE over in-batch negatives on cosine similarity / temperature.

    Args:
        model: the :class:`~simsent.SentenceEncoder` being trained.
        temperature: softmax temperature (paper: 0.05).
        variant: ``paper`` or ``symmetric`` (see the module docstring).
        mlp_head: the SimCSE paper's unsupervised setting: a dense + tanh layer over the pooled vectors
            during training only (the loss is taken on its outputs; it is not part of the saved model).

    Inputs: one text column ``sentence``; no labels.
    """

    name = "simcse"
    sweepable = True
    text_columns = ("sentence",)
    views = 2
    cacheable = True

    def __init__(
        self, model, temperature: float = 0.05, variant: str = "paper", mlp_head: bool = False
    ) -> None:
        super().__init__(model)
        self.temperature = temperature
        self.variant = check_variant(variant)
        self.head: torch.nn.Module = torch.nn.Identity()
        if mlp_head:
            dim = model.get_sentence_embedding_dimension()
            self.head = torch.nn.Sequential(torch.nn.Linear(dim, dim), torch.nn.Tanh())

    @staticmethod
    def compute(
        z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.05, variant: str = "paper"
    ) -> torch.Tensor:
        """The loss for two views (N, d) of the same N sentences."""
        n = z1.shape[0]
        if variant == "paper":
            logits = cosine_matrix(z1, z2) / temperature
            return F.cross_entropy(logits, torch.arange(n, device=z1.device))
        z = torch.cat([z1, z2])
        logits = cosine_matrix(z, z) / temperature
        logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
        targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
        return F.cross_entropy(logits, targets)

    @classmethod
    def default_kwargs(cls, args) -> dict:
        return {"temperature": args.temperature, "variant": args.simcse_variant}

    def forward(self, features, labels=None):
        return self.loss_from([self.embed(features[0])], labels)

    def loss_from(self, embeddings, labels=None):
        z1, z2 = self.head(embeddings[0]).chunk(2)
        z1, z2 = gather_with_grad(z1), gather_with_grad(z2)
        return self.compute(z1, z2, self.temperature, self.variant)
