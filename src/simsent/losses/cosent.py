"""CoSENT (Su Jianlin, 2022): a ranking loss over cosine differences of scored pairs.

For pairs with cosine ``s_i`` and gold label ``y_i``, every ordered couple with ``y_i > y_j``
should have ``s_i > s_j``::

    loss = log( 1 + sum_{(i, j): y_i > y_j} exp( scale * (s_j - s_i) ) )

Works on binary labels (0/1) and graded scores (e.g. STS-B 0-5) alike: only the order matters.

Inputs: columns ``sentence1, sentence2`` and a numeric ``score`` (alias ``label``).

Example:
    >>> import torch
    >>> u, v = torch.randn(4, 8), torch.randn(4, 8)
    >>> CoSENTLoss.compute(u, v, torch.tensor([1.0, 0.0, 1.0, 0.0])).shape
    torch.Size([])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from simsent.losses.base import Objective
from simsent.losses.functional import rank_loss


class CoSENTLoss(Objective):
    """CoSENT ranking loss.

    Args:
        model: the :class:`~simsent.SentenceEncoder` being trained.
        scale: multiplier of the cosine differences (Su: 20).
    """

    name = "cosent"
    trains_on = "pairs"
    sweepable = True
    text_columns = ("sentence1", "sentence2")
    label_column = "score"
    needs_varied_labels = True

    def __init__(self, model, scale: float = 20.0) -> None:
        super().__init__(model)
        self.scale = float(scale)

    @staticmethod
    def compute(u: torch.Tensor, v: torch.Tensor, labels: torch.Tensor, scale: float = 20.0) -> torch.Tensor:
        """The loss for (N, d) pair sides ``u, v`` and (N,) labels."""
        return rank_loss(F.cosine_similarity(u, v, dim=-1) * scale, labels)

    def forward(self, features, labels=None):
        u, v = self.embed(features[0]), self.embed(features[1])
        return self.compute(u, v, labels.to(u.device), self.scale)
