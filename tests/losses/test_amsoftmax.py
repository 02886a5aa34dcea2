"""AM-Softmax multi-dropout objective: formula, SimCSE equivalence, training."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from simsent.errors import ConfigError
from simsent.losses import objective_class
from simsent.losses.amsoftmax import AMSoftmaxLoss
from simsent.losses.simcse import UnsupervisedSimCSELoss


def reference(z: torch.Tensor, views: int, margin: float, scale: float) -> float:
    """The documented formula, with plain loops."""
    n = z.shape[0] // views
    z = F.normalize(z, dim=-1)
    sent = [i % n for i in range(len(z))]
    losses = []
    for a in range(len(z)):
        negs = [scale * float(z[a] @ z[b]) for b in range(len(z)) if sent[b] != sent[a]]
        for p in range(len(z)):
            if p == a or sent[p] != sent[a]:
                continue
            pos = scale * (float(z[a] @ z[p]) - margin)
            losses.append(-pos + math.log(math.exp(pos) + sum(math.exp(x) for x in negs)))
    return sum(losses) / len(losses)


@pytest.mark.parametrize("views,margin", [(2, 0.0), (3, 0.2), (4, 0.35)])
def test_matches_reference_formula(views, margin):
    torch.manual_seed(views)
    z = torch.randn(views * 5, 8)
    got = AMSoftmaxLoss.compute(z, views=views, margin=margin, scale=10.0)
    assert got.item() == pytest.approx(reference(z, views, margin, 10.0), rel=1e-4)


def test_k2_m0_equals_symmetric_simcse():
    torch.manual_seed(0)
    z1, z2 = torch.randn(6, 16), torch.randn(6, 16)
    t = 0.05
    am = AMSoftmaxLoss.compute(torch.cat([z1, z2]), views=2, margin=0.0, scale=1 / t)
    sim = UnsupervisedSimCSELoss.compute(z1, z2, temperature=t, variant="symmetric")
    assert am.item() == pytest.approx(sim.item(), rel=1e-5)


def test_margin_raises_the_loss():
    torch.manual_seed(1)
    z = torch.randn(12, 8)
    assert AMSoftmaxLoss.compute(z, 3, 0.3, 20.0) > AMSoftmaxLoss.compute(z, 3, 0.0, 20.0)


def test_registry_views_and_errors():
    cls = objective_class("amsoftmax")
    assert cls is AMSoftmaxLoss
    obj = AMSoftmaxLoss(torch.nn.Identity(), views=4)
    assert obj.views == 4 and AMSoftmaxLoss(torch.nn.Identity()).views == 3
    with pytest.raises(ConfigError):
        AMSoftmaxLoss(torch.nn.Identity(), views=1)


def test_from_args_scale_follows_temperature():
    from simsent.training.arguments import TrainingArguments

    args = TrainingArguments(temperature=0.1, objective="amsoftmax",
                             objective_kwargs={"views": 2, "margin": 0.0})
    obj = AMSoftmaxLoss.from_args(torch.nn.Identity(), args)
    assert obj.scale == pytest.approx(10.0) and obj.views == 2 and obj.margin == 0.0


def test_trains_textcnn_with_k_views(tmp_path):
    from simsent.modeling.encoders.textcnn import build_textcnn_model
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    corpus = ["今天天气不错", "今天天气很好", "我想去北京", "花呗额度为何不能用", "怎么办理银行卡",
              "借钱还款"]
    model = build_textcnn_model(corpus, emb_dim=8, filters=4, dropout=0.2, seed=0)
    args = TrainingArguments(output_dir=str(tmp_path / "am"), objective="amsoftmax", batch_size=3, lr=1e-2,
                             eval_steps=0, checkpoint_steps=0, show_progress_bar=False,
                             objective_kwargs={"views": 3, "margin": 0.1})
    trainer = Trainer(model, args, corpus)
    assert trainer.objective.views == 3
    out = trainer.train()
    assert out["global_step"] == 2
