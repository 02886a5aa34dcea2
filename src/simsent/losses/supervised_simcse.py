"""Supervised SimCSE (Gao et al., EMNLP 2021, section 4): (anchor, positive, hard negative) rows.

For a batch of N triplets with embeddings ``h_i`` (anchor), ``h_i+`` (positive), ``h_i-``
(hard negative), row i is classified against the N positives *and the N hard negatives of all
rows* (in-batch negatives plus hard negatives)::

    loss_i = -log  e^{s(h_i, h_i+)/t} / sum_j ( e^{s(h_i, h_j+)/t} + a^{[j=i]} e^{s(h_i, h_j-)/t} )

``false_negative_margin`` (off by default) guards against false negatives, as GISTEmbed and
sentence-transformers' cached losses do with a guide model (here the model itself, without gradient):
an in-batch positive or hard negative ``c`` of another row with ``s(h_i, c) > s(h_i, h_i+) - margin``
(a duplicate or paraphrase of the positive) is masked out of row i's denominator instead of pushed away.

``hard_negative_weight`` is ``w = log a`` as in the SimCSE code (``hard_negative_weight``):
``w`` is *added to the logit* of row i's own hard negative (the diagonal of the hard-negative
block), so ``w = 0`` (default, the paper's a = 1) treats it like any other negative and ``w > 0``
up-weights it by ``e^w``.

Inputs: columns ``anchor, positive, negative`` (aliases ``query, pos, neg``); JSONL rows
``{"query", "pos": [...], "neg": [...]}`` are expanded to one row per positive; rows with no
negative borrow a random other row's positive (see :mod:`simsent.data.triplets`). No labels.

Example:
    >>> import torch
    >>> a, p, n = torch.randn(4, 8), torch.randn(4, 8), torch.randn(4, 8)
    >>> SupervisedSimCSELoss.compute(a, p, n, temperature=0.05).shape
    torch.Size([])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from simsent.data.triplets import expand_triplets
from simsent.losses.base import Objective
from simsent.losses.functional import cosine_matrix, gather_with_grad


class SupervisedSimCSELoss(Objective):
    """InfoNCE over in-batch positives and all rows' hard negatives.

    Args:
        model: the :class:`~simsent.SentenceEncoder` being trained.
        temperature: softmax temperature (paper: 0.05).
        hard_negative_weight: log-weight added to each row's own hard-negative logit (0 = plain).
        seed: seed for the random negatives of rows that have none.
    """

    name = "supervised_simcse"
    trains_on = "queries"
    sweepable = True
    text_columns = ("anchor", "positive", "negative")
    views = 1
    cacheable = True
    streams = False  # rows without a hard negative draw one from the other rows

    def __init__(
        self,
        model,
        temperature: float = 0.05,
        hard_negative_weight: float = 0.0,
        seed: int = 42,
        false_negative_margin: float | None = None,
    ) -> None:
        super().__init__(model)
        self.temperature = float(temperature)
        self.hard_negative_weight = float(hard_negative_weight)
        self.seed = seed
        self.false_negative_margin = None if false_negative_margin is None else float(false_negative_margin)

    @classmethod
    def default_kwargs(cls, args) -> dict:
        return {"temperature": args.temperature, "seed": args.seed}

    @staticmethod
    def compute(
        anchor: torch.Tensor,
        positive: torch.Tensor,
        negative: torch.Tensor,
        temperature: float = 0.05,
        hard_negative_weight: float = 0.0,
        false_negative_margin: float | None = None,
    ) -> torch.Tensor:
        """The loss for (N, d) anchors, positives and hard negatives (row i's target is positive i)."""
        n = anchor.shape[0]
        cos = torch.cat([cosine_matrix(anchor, positive), cosine_matrix(anchor, negative)], dim=1)
        logits = cos / temperature
        if hard_negative_weight:
            own_negative = torch.eye(n, cos.shape[1] - positive.shape[0], device=cos.device, dtype=cos.dtype)
            zeros = torch.zeros_like(own_negative)
            logits = logits + hard_negative_weight * torch.cat([zeros, own_negative], dim=1)
        target = torch.arange(n, device=anchor.device)
        if false_negative_margin is not None:
            logits = logits.masked_fill(false_negatives(cos.detach(), false_negative_margin), float("-inf"))
        return F.cross_entropy(logits, target)

    def expand_rows(self, rows):
        return expand_triplets(rows, seed=self.seed, source=f"{self.name} training data")

    def forward(self, features, labels=None):
        return self.loss_from([self.embed(f) for f in features], labels)

    def loss_from(self, embeddings, labels=None):
        a, p, n = (gather_with_grad(e) for e in embeddings)
        return self.compute(a, p, n, self.temperature, self.hard_negative_weight, self.false_negative_margin)


def false_negatives(cos: torch.Tensor, margin: float) -> torch.Tensor:
    """Mask of the candidates of each row (columns of ``cos``, row i's positive in column i) scoring above
    its positive minus ``margin``; the positive itself is never masked.

    Example:
        >>> false_negatives(torch.tensor([[0.8, 0.79, 0.2]]), 0.05).tolist()
        [[False, True, False]]
    """
    own = cos.diagonal().unsqueeze(1)
    mask = cos > own - margin
    mask[torch.arange(cos.shape[0]), torch.arange(cos.shape[0])] = False
    return mask
