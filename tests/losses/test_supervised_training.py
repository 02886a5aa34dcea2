"""Every supervised objective trains from Python on tiny data (CLI: tests/cli/test_train_objectives.py)."""

import json

import pytest
import torch

from simsent.modeling.sentence_encoder import SentenceEncoder
from simsent.training.arguments import TrainingArguments
from simsent.training.trainer import Trainer

PAIRS = [
    ("今天天气不错", "今天天气很好", 1),
    ("我想去北京", "花呗额度", 0),
    ("怎么修改密码", "密码怎么修改", 1),
    ("银行卡还款", "手机号码", 0),
    ("花呗为何不能用", "花呗怎么不能用了", 1),
    ("我想吃饭", "上海天气", 0),
]
TRIPLETS = [
    {"query": a, "pos": [b], "neg": [PAIRS[(i + 1) % len(PAIRS)][1]]} for i, (a, b, _) in enumerate(PAIRS)
]


def _rows(objective):
    if objective == "supervised_simcse":
        return TRIPLETS
    if objective == "simcse_mlm":
        return [a for a, _, _ in PAIRS]
    return [{"sentence1": a, "sentence2": b, "label": y} for a, b, y in PAIRS]


def _write(objective, tmp_path):
    if objective == "supervised_simcse":
        path = tmp_path / "train.jsonl"
        path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in TRIPLETS), encoding="utf-8")
    elif objective == "simcse_mlm":
        path = tmp_path / "train.txt"
        path.write_text("\n".join(a for a, _, _ in PAIRS) + "\n", encoding="utf-8")
    else:
        path = tmp_path / "train.tsv"
        path.write_text(
            "sentence1\tsentence2\tlabel\n" + "".join(f"{a}\t{b}\t{y}\n" for a, b, y in PAIRS),
            encoding="utf-8",
        )
    return str(path)


OBJECTIVES = ["supervised_simcse", "sbert_softmax", "cosent", "simcse_mlm"]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_python_training_changes_weights_and_saves_encoder_only(objective, tiny_bert, tmp_path):
    model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        objective=objective,
        batch_size=3,
        epochs=1,
        lr=1e-3,
        eval_steps=0,
        checkpoint_steps=0,
        show_progress_bar=False,
    )
    result = Trainer(model, args, _rows(objective)).train()
    assert result["global_step"] == 2
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert changed
    saved = SentenceEncoder.from_pretrained(args.output_dir)
    assert len(saved.dense) == 0  # classifier / MLM head are not part of the model


def test_frozen_encoder_trains_only_the_head(tiny_bert, tmp_path):
    from simsent.modeling.dense import add_trainable_head

    model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
    add_trainable_head(model)
    enc_before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        objective="cosent",
        batch_size=3,
        lr=1e-2,
        eval_steps=0,
        checkpoint_steps=0,
        show_progress_bar=False,
    )
    Trainer(model, args, _rows("cosent")).train()
    assert all(torch.equal(v, enc_before[k]) for k, v in model.encoder.state_dict().items())
    assert not torch.equal(model.dense[0].linear.weight, torch.eye(model.dense[0].linear.in_features))
    assert len(SentenceEncoder.from_pretrained(args.output_dir).dense) == 1
