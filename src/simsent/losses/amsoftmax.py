"""AM-Softmax over K dropout views: each sentence of the batch is a class, its K dropout views
are K samples of that class, and every pair of views of one sentence is pushed together with an
additive margin, as in face recognition (Wang et al., 2018, "Additive Margin Softmax").

For a batch of N sentences the encoder runs once on the K-times repeated batch, giving M = K*N
unit vectors ``z_a``. For an anchor ``a`` (sentence i) and each of its K-1 other views ``p``:

    loss(a, p) = -log( exp(s*(cos(z_a, z_p) - m)) /
                       (exp(s*(cos(z_a, z_p) - m)) + sum_{n: sentence(n) != i} exp(s*cos(z_a, z_n))) )

averaged over all (a, p) pairs. Each positive is contrasted against the K*(N-1) views of the
other sentences; the remaining K-2 views of sentence i are left out of that softmax (they are
neither negatives nor competing positives).

Relation to SimCSE: with K=2, m=0 and s = 1/temperature this is exactly the ``symmetric``
unsupervised SimCSE loss (every one of the 2N vectors against the other 2N-1, target its other
view), which the tests check numerically. SimCSE's ``paper`` variant differs: it scores only
view-1 rows against the N view-2 rows (N-1 negatives per anchor, one direction).

Example:
    >>> import torch
    >>> z = torch.randn(3 * 4, 8)                      # K=3 views of N=4 sentences, view-major
    >>> AMSoftmaxLoss.compute(z, views=3, margin=0.1, scale=20.0).shape
    torch.Size([])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from simsent.errors import ConfigError
from simsent.losses.base import Objective
from simsent.losses.functional import gather_with_grad


class AMSoftmaxLoss(Objective):
    """Additive-margin softmax with K dropout views per sentence and in-batch classes.

    Args:
        model: the :class:`~simsent.SentenceEncoder` being trained (dropout must be on).
        views: K >= 2 forward passes (dropout views) per sentence.
        margin: additive margin m subtracted from the positive cosine.
        scale: logit scale s (SimCSE's 1/temperature; 20 matches temperature 0.05).

    Inputs: one text column ``sentence``; no labels. ``views`` is an instance attribute read
    by the trainer's collator, which repeats the batch K times.
    """

    name = "amsoftmax"
    text_columns = ("sentence",)

    def __init__(self, model, views: int = 3, margin: float = 0.1, scale: float = 20.0) -> None:
        super().__init__(model)
        if int(views) < 2:
            raise ConfigError(f"amsoftmax needs views >= 2 (got {views}): pass views=2 or more")
        self.views = int(views)
        self.margin = float(margin)
        self.scale = float(scale)

    @classmethod
    def default_kwargs(cls, args) -> dict:
        return {"scale": 1.0 / args.temperature}

    @staticmethod
    def compute(z: torch.Tensor, views: int, margin: float = 0.1, scale: float = 20.0) -> torch.Tensor:
        """The loss for view-major embeddings ``z`` (K*N, d): rows ``k*N + i`` are view k of sentence i."""
        m_total = z.shape[0]
        if m_total % views:
            raise ConfigError(f"{m_total} vectors are not {views} views of whole sentences")
        n = m_total // views
        zn = F.normalize(z, dim=-1)
        cos = zn @ zn.T
        sentence = torch.arange(n, device=z.device).repeat(views)
        same = sentence[:, None] == sentence[None, :]
        eye = torch.eye(m_total, dtype=torch.bool, device=z.device)
        logits = scale * cos
        neg_lse = torch.logsumexp(logits.masked_fill(same, float("-inf")), dim=1, keepdim=True)  # (M, 1)
        pos_logit = scale * (cos - margin)  # only read where positive
        per_pair = torch.logaddexp(pos_logit, neg_lse) - pos_logit  # -log softmax of each positive
        positive = same & ~eye
        return per_pair[positive].mean()

    def forward(self, features, labels=None):
        z = self.embed(features[0])
        chunks = [gather_with_grad(c) for c in z.chunk(self.views)]
        return self.compute(torch.cat(chunks), self.views, self.margin, self.scale)
