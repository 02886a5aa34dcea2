"""Optimiser and learning-rate schedule shared by SimCSE training and masked-LM pretraining.

Example:
    >>> s = LinearSchedule(total_steps=100, warmup_ratio=0.1)
    >>> [round(s(i), 2) for i in (0, 5, 10, 55, 100)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


class LinearSchedule:
    """Learning-rate factor: linear warm-up over ``warmup_ratio`` of ``total_steps``, then linear decay to 0.

    A callable object (not a lambda) so that ``LambdaLR.state_dict`` saves ``total_steps``: a
    time-budgeted run re-plans it from its measured speed.
    """

    def __init__(self, total_steps: int, warmup_ratio: float = 0.0) -> None:
        self.total_steps = max(1, int(total_steps))
        self.warmup_ratio = float(warmup_ratio)

    def __call__(self, step: int) -> float:
        warmup = self.warmup_ratio * self.total_steps
        if step < warmup:
            return step / warmup
        return max(0.0, (self.total_steps - step) / max(1.0, self.total_steps - warmup))


def make_optimizer(
    params: Iterable[torch.nn.Parameter] | Iterable[dict[str, Any]], lr: float, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """AdamW, fused into one kernel where this torch build supports it (CPU since torch 2.4), else foreach."""
    params = list(params)
    try:
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def linear_scheduler(
    optimizer: torch.optim.Optimizer, schedule: LinearSchedule
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` driven by ``schedule``."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
