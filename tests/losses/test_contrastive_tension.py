import math

import pytest
import torch

from simsent.losses import objective_class
from simsent.losses.contrastive_tension import ContrastiveTensionLoss


def _cos(a, b):
    return float(torch.dot(a, b) / (a.norm() * b.norm()))


def direct(z, w, s):
    """Mean over both directions of -log softmax of the matching pair, written out term by term."""
    n, total = len(z), 0.0
    for i in range(n):
        row = [math.exp(s * _cos(z[i], w[j])) for j in range(n)]
        col = [math.exp(s * _cos(z[j], w[i])) for j in range(n)]
        total += -math.log(row[i] / sum(row)) - math.log(col[i] / sum(col))
    return total / (2 * n)


def test_loss_matches_direct_formula():
    torch.manual_seed(0)
    z, w = torch.randn(5, 7, dtype=torch.float64), torch.randn(5, 7, dtype=torch.float64)
    got = ContrastiveTensionLoss.compute(z, w, scale=20.0).item()
    assert got == pytest.approx(direct(z, w, 20.0), rel=1e-9)
    assert objective_class("ct") is ContrastiveTensionLoss


def test_both_copies_train_and_only_the_model_is_saved(tiny_bert, tmp_path):
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
    objective = ContrastiveTensionLoss(model)
    assert objective.twin is not model
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    assert all(torch.equal(p, start[n]) for n, p in objective.twin.named_parameters())
    assert any(k.startswith("twin.") for k in objective.state_dict())  # in the checkpoint: exact resume
    args = TrainingArguments(output_dir=str(tmp_path / "o"), batch_size=4, eval_steps=0, checkpoint_steps=0,
                             show_progress_bar=False, lr=1e-3)
    Trainer(model, args, [f"句子{i}号" for i in range(8)], objective=objective).train()
    moved = [n for n, p in model.named_parameters() if not torch.equal(p, start[n])]
    twin_moved = [n for n, p in objective.twin.named_parameters() if not torch.equal(p, start[n])]
    assert moved and twin_moved
    pairs = zip(model.parameters(), objective.twin.parameters(), strict=True)
    assert any(not torch.equal(p, q) for p, q in pairs)
    saved = SentenceEncoder.from_pretrained(str(tmp_path / "o"))
    texts = ["今天天气", "北京"]
    torch.testing.assert_close(torch.as_tensor(saved.encode(texts)), torch.as_tensor(model.encode(texts)))


def test_train_objective_ct_from_the_cli(tiny_bert, tmp_path, cli):
    data = tmp_path / "s.txt"
    data.write_text("".join(f"句子{i}号\n" for i in range(12)), encoding="utf-8")
    r = cli("train", "--model", tiny_bert, "--train-file", data, "--objective", "ct",
            "--output", tmp_path / "m", "--batch-size", "4", "--epochs", "1")
    assert r.code == 0, r.err
    bad = cli("train", "--model", tiny_bert, "--train-file", data, "--objective", "ct",
              "--output", tmp_path / "x", "--objective-arg", "temperature=0.05")
    assert bad.code == 2 and "scale" in bad.err
