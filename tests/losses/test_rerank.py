"""The rerank objectives against their formulas, their row shaping, and one training of each through the
Trainer (checkpoints and resume are the Trainer's)."""

from __future__ import annotations

import math

import pytest
import torch

from simsent.errors import ConfigError, DataError
from simsent.losses.rerank import RerankBCELoss, RerankListwiseLoss, RerankMSELoss
from simsent.modeling.cross_encoder import PAIR_SEP


def test_each_loss_equals_its_formula():
    z, y = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([1.0, 0.0, 1.0])
    bce = -sum(yi * math.log(1 / (1 + math.exp(-zi))) + (1 - yi) * math.log(1 - 1 / (1 + math.exp(-zi)))
               for zi, yi in zip(z.tolist(), y.tolist(), strict=True)) / 3
    assert RerankBCELoss.compute(z, y).item() == pytest.approx(bce, rel=1e-6)
    logits = torch.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0]])
    listwise = -sum(math.log(math.exp(r[0]) / sum(math.exp(v) for v in r)) for r in logits.tolist()) / 2
    assert RerankListwiseLoss.compute(logits).item() == pytest.approx(listwise, rel=1e-6)
    t = torch.tensor([0.9, 0.1, 0.4])
    mse = sum((1 / (1 + math.exp(-zi)) - ti) ** 2 for zi, ti in zip(z.tolist(), t.tolist(), strict=True)) / 3
    assert RerankMSELoss.compute(z, t).item() == pytest.approx(mse, rel=1e-6)


def test_rows_are_joined_pairs_with_labels_on_their_scale():
    pairs = [{"text_a": "a", "text_b": "b", "label": 5}, {"text_a": "c", "text_b": "d", "label": 1}]
    bce = RerankBCELoss.prepare_rows(RerankBCELoss.__new__(RerankBCELoss), pairs)
    assert bce == [{"pair0": f"a{PAIR_SEP}b", "score": 1.0}, {"pair0": f"c{PAIR_SEP}d", "score": 0.0}]
    mse = RerankMSELoss.prepare_rows(RerankMSELoss.__new__(RerankMSELoss), pairs)
    assert [r["score"] for r in mse] == [1.0, 0.2]
    rows = [{"query": "q", "pos": "p", "neg": "n"}]
    listwise = RerankListwiseLoss(None).prepare_rows(rows)
    assert listwise == [{"pair0": f"q{PAIR_SEP}p", "pair1": f"q{PAIR_SEP}n"}]
    with pytest.raises(DataError, match="negative"):
        RerankListwiseLoss(None).prepare_rows([{"query": "q", "pos": "p"}])


def test_a_listwise_group_takes_a_rows_negatives_in_turn_to_fill_it():
    loss = RerankListwiseLoss(None, group_size=4)
    assert loss.text_columns == ("pair0", "pair1", "pair2", "pair3")
    rows = [{"query": "q", "pos": "p", "negatives": ["a", "b"]}, {"anchor": "r", "positive": "s", "neg": "n"}]
    first, second = loss.prepare_rows(rows)
    assert [first[f"pair{k}"] for k in range(4)] == [f"q{PAIR_SEP}{t}" for t in "paba"]
    assert [second[f"pair{k}"] for k in range(4)] == [f"r{PAIR_SEP}{t}" for t in "snnn"]
    with pytest.raises(ConfigError, match="group_size"):
        RerankListwiseLoss(None, group_size=1)


@pytest.mark.parametrize("loss", ["bce", "listwise", "mse"])
def test_the_trainer_trains_a_reranker_toward_its_labels(tiny_bert, tmp_path, loss):
    from simsent.modeling.cross_encoder import CrossEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    good = [("花呗怎么还款", "如何还花呗的钱"), ("银行卡密码忘了", "怎么找回银行卡密码"),
            ("今天天气不错", "今天天气很好")]
    bad = [("花呗怎么还款", "我想去北京"), ("银行卡密码忘了", "今天天气很好"), ("今天天气不错", "怎么还花呗")]
    if loss == "listwise":
        rows = [{"query": q, "pos": p, "negatives": [n, b]}
                for (q, p), (_, n), b in zip(good, bad, ("今天天气很好", "我想去北京", "我想去北京"),
                                             strict=True)] * 8
    else:
        labelled = ((good, 1), (bad, 0))
        rows = [{"text_a": a, "text_b": b, "label": y} for pairs, y in labelled for a, b in pairs] * 4
    ce = CrossEncoder.from_pretrained(tiny_bert, max_len=32, seed=0)
    before = ce.predict(good).mean() - ce.predict(bad).mean()
    args = TrainingArguments(output_dir=str(tmp_path / loss), objective=f"rerank_{loss}", epochs=10,
                             batch_size=6, lr=3e-3, show_progress_bar=False, eval_steps=0, device="cpu",
                             objective_kwargs={"group_size": 3} if loss == "listwise" else {})
    Trainer(ce, args, rows).train()
    trained = CrossEncoder.load(str(tmp_path / loss))
    assert trained.predict(good).mean() - trained.predict(bad).mean() > before + 0.02
    assert (tmp_path / loss / "config_sentence_transformers.json").exists()
