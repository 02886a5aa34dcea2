import math

import pytest
import torch

from simsent.errors import ConfigError
from simsent.losses.simcse import UnsupervisedSimCSELoss


def _cos(a, b):
    return float(torch.dot(a, b) / (a.norm() * b.norm()))


def direct_paper(z1, z2, t):
    n = len(z1)
    total = 0.0
    for i in range(n):
        denom = sum(math.exp(_cos(z1[i], z2[j]) / t) for j in range(n))
        total += -math.log(math.exp(_cos(z1[i], z2[i]) / t) / denom)
    return total / n


def direct_symmetric(z1, z2, t):
    z = torch.cat([z1, z2])
    n2, n = len(z), len(z1)
    total = 0.0
    for k in range(n2):
        pos = k + n if k < n else k - n
        denom = sum(math.exp(_cos(z[k], z[j]) / t) for j in range(n2) if j != k)
        total += -math.log(math.exp(_cos(z[k], z[pos]) / t) / denom)
    return total / n2


@pytest.mark.parametrize("variant,direct", [("paper", direct_paper), ("symmetric", direct_symmetric)])
def test_loss_matches_direct_formula(variant, direct):
    torch.manual_seed(0)
    z1, z2 = torch.randn(5, 7, dtype=torch.float64), torch.randn(5, 7, dtype=torch.float64)
    got = UnsupervisedSimCSELoss.compute(z1, z2, temperature=0.05, variant=variant).item()
    assert got == pytest.approx(direct(z1, z2, 0.05), rel=1e-9)


@pytest.mark.parametrize("variant", ["paper", "symmetric"])
def test_gradients_reach_both_views(variant):
    torch.manual_seed(0)
    z1 = torch.randn(4, 6, requires_grad=True)
    z2 = torch.randn(4, 6, requires_grad=True)
    UnsupervisedSimCSELoss.compute(z1, z2, 0.05, variant).backward()
    assert z1.grad.abs().sum() > 0 and z2.grad.abs().sum() > 0


def test_identical_views_with_orthogonal_sentences_give_low_loss():
    z = torch.eye(4)
    assert UnsupervisedSimCSELoss.compute(z, z.clone(), 0.05, "paper").item() < 1e-6


def test_one_forward_pass_of_the_duplicated_batch(tiny_bert):
    from simsent.data.collator import TextBatchCollator
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
    loss = UnsupervisedSimCSELoss(model)
    batch = TextBatchCollator(model.tokenize, loss.text_columns, loss.views)(
        [{"sentence": "今天天气"}, {"sentence": "北京"}]
    )
    assert batch["features"][0]["input_ids"].shape[0] == 4
    model.train()
    value = loss(batch["features"], None)
    value.backward()
    assert any(p.grad is not None for p in model.parameters())


def test_unknown_variant():
    with pytest.raises(ConfigError):
        UnsupervisedSimCSELoss(None, variant="both")


def test_the_mlp_head_is_trained_on_and_not_saved(tiny_bert, tmp_path):
    from simsent.losses.simcse import UnsupervisedSimCSELoss
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
    objective = UnsupervisedSimCSELoss(model, mlp_head=True)
    z = torch.randn(6, model.get_sentence_embedding_dimension())
    head = objective.head
    want = UnsupervisedSimCSELoss.compute(*head(z).chunk(2), 0.05, "paper")
    assert torch.allclose(objective.loss_from([z]), want)
    before = head[0].weight.detach().clone()
    args = TrainingArguments(output_dir=str(tmp_path / "o"), batch_size=4, eval_steps=0, checkpoint_steps=0,
                             show_progress_bar=False, lr=1e-3)
    Trainer(model, args, [f"句子{i}号" for i in range(8)], objective=objective).train()
    assert not torch.equal(head[0].weight, before)
    assert len(SentenceEncoder.from_pretrained(str(tmp_path / "o")).dense) == 0
