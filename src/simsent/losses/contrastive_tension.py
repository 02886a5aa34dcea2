"""Contrastive Tension with in-batch negatives (Carlsson et al., ICLR 2021): two copies of the encoder.

The model being trained (kept and saved) and an independent twin, a copy of it at the start, both
encode the same batch; sentence i through the model and sentence i through the twin are the positive
pair, every other sentence through the twin a negative. Both copies are trained; the twin is used
during training only (its weights live in the checkpoint, so resume is exact, but not in the saved
model). With scale ``s`` (a temperature of ``1/s``), for the (N, d) outputs ``z`` of the model and
``w`` of the twin::

    logits = s * cos(z_i, w_j)
    loss = ( CE(logits, i) + CE(logits^T, i) ) / 2

Unlike SimCSE, the positive pair is not two dropout views of one network: the two networks drift
apart, so the task does not become trivial for an encoder that was already trained contrastively.

Inputs: one text column ``sentence``; no labels.

Example:
    >>> import torch
    >>> z = torch.randn(4, 8)
    >>> ContrastiveTensionLoss.compute(z, z, scale=20.0) < ContrastiveTensionLoss.compute(z, -z, scale=20.0)
    tensor(True)
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from simsent.losses.base import Objective
from simsent.losses.functional import cosine_matrix, gather_with_grad


class ContrastiveTensionLoss(Objective):
    """Symmetric InfoNCE between the model's and its twin's vectors of the same sentences.

    Args:
        model: the :class:`~simsent.SentenceEncoder` being trained (the one saved).
        scale: multiplier of the cosines (20, as sentence-transformers' in-batch CT; temperature 0.05).
    """

    name = "ct"
    text_columns = ("sentence",)
    views = 1

    def __init__(self, model, scale: float = 20.0) -> None:
        super().__init__(model)
        self.scale = float(scale)
        self.twin = copy.deepcopy(model)

    @staticmethod
    def compute(z: torch.Tensor, w: torch.Tensor, scale: float = 20.0) -> torch.Tensor:
        """The loss for the model's (N, d) vectors ``z`` and the twin's ``w`` of the same N sentences."""
        logits = cosine_matrix(z, w) * scale
        targets = torch.arange(z.shape[0], device=z.device)
        return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2

    def forward(self, features, labels=None):
        z = gather_with_grad(self.embed(features[0]))
        w = gather_with_grad(self.twin.forward_batch(features[0]))
        return self.compute(z, w, self.scale)
