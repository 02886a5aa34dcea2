"""Distillation: the student's sentence vector regresses a fixed target vector (the teacher's).

Losses (``loss=``): ``mse`` (mean squared error over all coordinates), ``cosine``
(``1 - cos(student, target)``, averaged over the batch) or ``both`` (their sum).

Rows carry ``sentence`` and ``target_index``, the row of the target matrix held by the
objective; the trainer's collator turns the indices into a long tensor (``label_dtype``), so the
targets are never copied into the data rows. A float (batch, d) tensor of target vectors passed
as ``labels`` is used as is.

Example:
    >>> import torch
    >>> pred, target = torch.zeros(2, 3), torch.ones(2, 3)
    >>> float(DistillationLoss.compute(pred, target, "mse"))
    1.0
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from simsent.errors import ConfigError
from simsent.losses.base import Objective

LOSSES = ("mse", "cosine", "both")


class DistillationLoss(Objective):
    """Regress fixed target vectors.

    Args:
        model: the student :class:`~simsent.SentenceEncoder`; its output size must equal the
            targets' (add a projection ``DenseLayer`` to ``model.dense`` when it does not).
        targets: (N, d) target vectors (tensor, array, or the path of a ``.npy`` file).
        loss: ``mse``, ``cosine`` or ``both``.

    Inputs: columns ``sentence`` and ``target_index`` (int row of ``targets``).
    """

    name = "distill"
    text_columns = ("sentence",)
    label_column = "target_index"
    label_dtype = "long"

    def __init__(self, model, targets=None, loss: str = "mse") -> None:
        super().__init__(model)
        if loss not in LOSSES:
            raise ConfigError(f"unknown distillation loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if targets is None:
            raise ConfigError("the distill objective needs target vectors: use `simsent distill`, or pass "
                              "objective_kwargs targets=<file.npy> with rows holding target_index")
        if isinstance(targets, str):
            targets = np.load(targets)
        targets = torch.as_tensor(np.asarray(targets), dtype=torch.float32)
        self.register_buffer("targets", targets, persistent=False)
        self.loss = loss

    @staticmethod
    def compute(pred: torch.Tensor, target: torch.Tensor, loss: str = "mse") -> torch.Tensor:
        """The loss between student vectors ``pred`` and ``target`` (both (B, d))."""
        if pred.shape != target.shape:
            raise ConfigError(f"student vectors {tuple(pred.shape)} and targets {tuple(target.shape)} "
                              "differ in shape: add a projection layer")
        out = pred.new_zeros(())
        if loss in ("mse", "both"):
            out = out + F.mse_loss(pred, target)
        if loss in ("cosine", "both"):
            out = out + (1 - F.cosine_similarity(pred, target, dim=-1)).mean()
        return out

    def forward(self, features, labels=None):
        pred = self.embed(features[0])
        if labels is None:
            raise ConfigError("the distill objective needs a target_index (or target vector) per row")
        target = self.targets[labels.long()] if labels.dim() == 1 else labels.to(pred.dtype)
        return self.compute(pred, target.to(pred.device), self.loss)
