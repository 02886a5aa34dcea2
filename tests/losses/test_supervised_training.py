"""Every supervised objective trains from Python on tiny data (CLI: tests/cli/test_train_objectives.py)."""


import pytest
import torch

from simsent.modeling.sentence_encoder import SentenceEncoder
from simsent.training.arguments import TrainingArguments
from simsent.training.trainer import Trainer

OBJECTIVES = ["supervised_simcse", "sbert_softmax", "cosent", "angle", "simcse_mlm"]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_python_training_changes_weights_and_saves_encoder_only(
    objective, tiny_bert, tmp_path, objective_data
):
    model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
    before = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
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
    result = Trainer(model, args, objective_data.rows(objective)).train()
    assert result["global_step"] == 2
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v.cpu(), before[k])]
    assert changed
    saved = SentenceEncoder.from_pretrained(args.output_dir)
    assert len(saved.dense) == 0  # classifier / MLM head are not part of the model


def test_frozen_encoder_trains_only_the_head(tiny_bert, tmp_path, objective_data):
    from simsent.modeling.dense import add_trainable_head

    model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
    add_trainable_head(model)
    enc_before = {k: v.detach().cpu().clone() for k, v in model.encoder.state_dict().items()}
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        objective="cosent",
        batch_size=3,
        lr=1e-2,
        eval_steps=0,
        checkpoint_steps=0,
        show_progress_bar=False,
    )
    Trainer(model, args, objective_data.rows("cosent")).train()
    assert all(torch.equal(v.cpu(), enc_before[k]) for k, v in model.encoder.state_dict().items())
    assert not torch.equal(model.dense[0].linear.weight.cpu(), torch.eye(model.dense[0].linear.in_features))
    assert len(SentenceEncoder.from_pretrained(args.output_dir).dense) == 1
