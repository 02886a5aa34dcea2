"""Distillation objective: loss formulas, target lookup by index, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from simsent.errors import ConfigError
from simsent.losses import objective_class
from simsent.losses.distill import DistillationLoss


class _Fixed(torch.nn.Module):
    """A 'model' returning the features' ``x`` tensor."""

    def forward(self, features):
        return features["x"]

    forward_batch = forward  # the SentenceEncoder method objectives call


def test_formulas():
    torch.manual_seed(0)
    p, t = torch.randn(4, 6), torch.randn(4, 6)
    mse = ((p - t) ** 2).mean()
    cos = (1 - (F.normalize(p, dim=-1) * F.normalize(t, dim=-1)).sum(-1)).mean()
    assert DistillationLoss.compute(p, t, "mse").item() == pytest.approx(mse.item(), rel=1e-6)
    assert DistillationLoss.compute(p, t, "cosine").item() == pytest.approx(cos.item(), rel=1e-6)
    assert DistillationLoss.compute(p, t, "both").item() == pytest.approx((mse + cos).item(), rel=1e-6)
    assert DistillationLoss.compute(t, t, "both").item() == pytest.approx(0.0, abs=1e-6)


def test_targets_by_index_or_vectors(tmp_path):
    targets = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "t.npy", targets)
    obj = DistillationLoss(_Fixed(), targets=str(tmp_path / "t.npy"), loss="mse")
    x = torch.tensor(targets[[2, 0]])
    assert obj([{"x": x}], torch.tensor([2, 0])).item() == pytest.approx(0.0)
    assert obj([{"x": x}], torch.tensor([0, 2])).item() > 0
    assert obj([{"x": x}], torch.tensor(targets[[2, 0]])).item() == pytest.approx(0.0)


def test_errors_and_registry():
    assert objective_class("distill") is DistillationLoss
    with pytest.raises(ConfigError):
        DistillationLoss(_Fixed(), targets=None)
    with pytest.raises(ConfigError):
        DistillationLoss(_Fixed(), targets=np.zeros((2, 3)), loss="l1")
    with pytest.raises(ConfigError):
        DistillationLoss.compute(torch.zeros(2, 3), torch.zeros(2, 4))
