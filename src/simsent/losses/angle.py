"""AnglE (Li & Li, 2023): CoSENT plus a ranking of the pairs' angle differences in complex space.

Cosine saturates near 1 and -1, where its gradient vanishes; AnglE reads each vector of dimension
``2k`` as ``k`` complex numbers ``z = a + ib`` (first half real parts, second half imaginary) and ranks
the pairs also by

    angle(u, v) = | sum_k Re(z_u,k conj(z_v,k)) + Im(z_u,k conj(z_v,k)) | / (|u| |v|)

(the real part of the sum is the cosine; the imaginary part is the pair's rotation), with the same
ranking loss as CoSENT::

    loss = cosine_weight * rank(scale * cos) + angle_weight * rank(scale * angle)

Inputs: columns ``sentence1, sentence2`` and a numeric ``score`` (binary or graded), as CoSENT.

Example:
    >>> import torch
    >>> u = torch.randn(4, 8)
    >>> round(AnglELoss.angle_scores(u, u).mean().item(), 4)  # a vector with itself: cosine 1, no rotation
    1.0
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from simsent.errors import ConfigError
from simsent.losses.base import Objective
from simsent.losses.functional import rank_loss


class AnglELoss(Objective):
    """AnglE: CoSENT on the cosines plus CoSENT's ranking on the angle scores.

    Args:
        model: the :class:`~simsent.SentenceEncoder` being trained.
        scale: multiplier of both scores before ranking (CoSENT's 20).
        cosine_weight: weight of the cosine ranking term.
        angle_weight: weight of the angle ranking term.
    """

    name = "angle"
    trains_on = "pairs"
    sweepable = True
    text_columns = ("sentence1", "sentence2")
    label_column = "score"
    needs_varied_labels = True

    def __init__(
        self, model, scale: float = 20.0, cosine_weight: float = 1.0, angle_weight: float = 1.0
    ) -> None:
        super().__init__(model)
        self.scale = float(scale)
        self.cosine_weight, self.angle_weight = float(cosine_weight), float(angle_weight)

    @staticmethod
    def angle_scores(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``|sum_k (Re + Im)(z_u,k conj(z_v,k))| / (|u| |v|)`` for (N, 2k) rows, in real arithmetic."""
        if u.shape[-1] % 2:
            raise ConfigError(f"the angle objective needs an even embedding size, got {u.shape[-1]}")
        a, b = u.chunk(2, dim=-1)
        c, d = v.chunk(2, dim=-1)
        real = (a * c + b * d).sum(-1)
        imag = (b * c - a * d).sum(-1)
        return (real + imag).abs() / (u.norm(dim=-1) * v.norm(dim=-1)).clamp_min(1e-12)

    @classmethod
    def compute(cls, u: torch.Tensor, v: torch.Tensor, labels: torch.Tensor, scale: float = 20.0,
                cosine_weight: float = 1.0, angle_weight: float = 1.0) -> torch.Tensor:
        """The loss for (N, d) pair sides ``u, v`` and (N,) labels."""
        loss = u.new_zeros(())
        if cosine_weight:
            loss = loss + cosine_weight * rank_loss(F.cosine_similarity(u, v, dim=-1) * scale, labels)
        if angle_weight:
            loss = loss + angle_weight * rank_loss(cls.angle_scores(u, v) * scale, labels)
        return loss

    def forward(self, features, labels=None):
        u, v = self.embed(features[0]), self.embed(features[1])
        return self.compute(u, v, labels.to(u.device), self.scale, self.cosine_weight, self.angle_weight)
