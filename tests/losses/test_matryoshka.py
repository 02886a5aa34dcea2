"""Matryoshka: the wrapped loss against a loop over prefix dimensions, the refusals in one line, and a
training through the Trainer that records its dimensions in the saved model."""

from __future__ import annotations

import pytest
import torch

from simsent.errors import ConfigError
from simsent.losses.matryoshka import MatryoshkaLoss, check_dims
from simsent.losses.simcse import UnsupervisedSimCSELoss
from simsent.losses.supervised_simcse import SupervisedSimCSELoss


class _Model(torch.nn.Module):
    """What an objective needs of its model here: a dimension."""

    def get_sentence_embedding_dimension(self) -> int:
        return 8


def test_the_loss_is_the_sum_of_the_objective_at_each_prefix():
    torch.manual_seed(0)
    z = torch.randn(12, 8)  # two views of 6 sentences
    simcse = UnsupervisedSimCSELoss(_Model(), temperature=0.05, variant="symmetric")
    wrapped = MatryoshkaLoss(simcse, [2, 8, 4])
    direct = sum(UnsupervisedSimCSELoss.compute(*z[:, :d].chunk(2), 0.05, "symmetric") for d in (8, 4, 2))
    assert wrapped.loss_from([z]).item() == pytest.approx(direct.item(), rel=1e-6)
    assert wrapped.dims == [8, 4, 2] and wrapped.name == "simcse" and wrapped.cacheable
    weighted = MatryoshkaLoss(simcse, [8, 4], weights=[1.0, 0.5])
    direct = sum(w * UnsupervisedSimCSELoss.compute(*z[:, :d].chunk(2), 0.05, "symmetric")
                 for d, w in ((8, 1.0), (4, 0.5)))
    assert weighted.loss_from([z]).item() == pytest.approx(direct.item(), rel=1e-6)
    a, p, n = torch.randn(3, 5, 8).unbind(0)
    mnrl = SupervisedSimCSELoss(_Model())
    both = MatryoshkaLoss(mnrl, [8, 3]).loss_from([a, p, n])
    assert both.item() == pytest.approx((mnrl.loss_from([a, p, n]) + mnrl.loss_from(
        [a[:, :3], p[:, :3], n[:, :3]])).item(), rel=1e-6)


def test_bad_dimensions_and_objectives_are_refused_in_one_line():
    from simsent.losses.cosent import CoSENTLoss
    from simsent.training.arguments import TrainingArguments

    with pytest.raises(ConfigError, match="exceeds the model's 8"):
        MatryoshkaLoss(UnsupervisedSimCSELoss(_Model()), [16, 8])
    with pytest.raises(ConfigError, match="in-batch embeddings"):
        MatryoshkaLoss(CoSENTLoss(_Model()), [8, 4])
    with pytest.raises(ConfigError, match="MLP head"):
        MatryoshkaLoss(UnsupervisedSimCSELoss(_Model(), mlp_head=True), [8, 4])
    with pytest.raises(ConfigError, match="positive"):
        check_dims([8, 0])
    with pytest.raises(ConfigError, match="integers separated by commas"):
        TrainingArguments(matryoshka_dims="384,half")
    assert TrainingArguments(matryoshka_dims="64, 384,128").matryoshka_dims == [384, 128, 64]


def test_train_with_matryoshka_dims_records_them_in_the_saved_model(tiny_bert, tmp_path, cli):
    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(f"今天天气{'很好不错'[i % 4]}我想去北京{i}" for i in range(24)) + "\n",
                     encoding="utf-8")
    out = tmp_path / "m"
    r = cli("-q", "train", "--model", tiny_bert, "--train-file", str(texts), "--output", str(out),
            "--batch-size", "8", "--matryoshka-dims", "32,16,8", "--eval-steps", "0", "--cache-chunk", "4")
    assert r.code == 0, r.err
    from simsent.modeling.sentence_encoder import SentenceEncoder

    assert SentenceEncoder.load(str(out)).extra_config["matryoshka_dims"] == [32, 16, 8]
    r = cli("-q", "train", "--model", tiny_bert, "--train-file", str(texts), "--output", str(tmp_path / "x"),
            "--objective", "cosent", "--matryoshka-dims", "16")
    assert r.code == 2 and "in-batch embeddings" in r.err and len(r.err.strip().splitlines()) == 1
