"""TrainingArguments: only what the trainer reads, validated on construction, old configs still load."""

import math

import pytest

from simsent.errors import ConfigError
from simsent.training.arguments import TrainingArguments


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"lr": math.nan}, "lr"),
        ({"lr": -1e-5}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 1.5}, "epochs"),
        ({"temperature": 0.0}, "temperature"),
        ({"warmup_ratio": 1.5}, "warmup_ratio"),
        ({"max_train_samples": 0}, "max_train_samples"),
        ({"eval_steps": -1}, "eval_steps"),
        ({"precision": "fp8"}, "precision"),
        ({"simcse_variant": "magic"}, "variant"),
    ],
)
def test_invalid_values_are_one_clear_error(kwargs, name):
    with pytest.raises(ConfigError, match=name) as info:
        TrainingArguments(**kwargs)
    assert "\n" not in str(info.value)


def test_round_trip_and_settings_of_older_versions_load():
    args = TrainingArguments(output_dir="runs/x", epochs=2, lr=1e-5)
    assert TrainingArguments.from_dict(args.to_dict()) == args
    old = {**args.to_dict(), "max_len": 32, "pooling": "cls", "dev_task": "STS-B", "dropout": 0.3}
    assert TrainingArguments.from_dict(old) == args  # v0.1 keys the trainer never read are ignored
    del old["precision"]
    assert TrainingArguments.from_dict({**old, "mixed_precision": "bf16"}).precision == "bf16"
    assert TrainingArguments.from_dict({**old, "mixed_precision": "no"}).precision == "fp32"


def test_holds_only_what_the_trainer_reads():
    names = set(TrainingArguments().to_dict())
    unused = {"max_len", "dropout", "pooling", "dev_task", "dev_split", "data_dir", "max_eval_pairs"}
    assert not names & unused


def test_a_new_field_is_in_the_resume_key_unless_it_says_it_does_not_change_the_run(tiny_bert, tmp_path):
    from dataclasses import dataclass

    from simsent._fields import setting
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.trainer import Trainer

    @dataclass
    class WithNewFields(TrainingArguments):
        new_knob: float = 0.5
        new_report_every: int = setting(1, changes_run=False)

    args = WithNewFields(output_dir=str(tmp_path / "o"), show_progress_bar=False)
    key = Trainer(SentenceEncoder.from_pretrained(tiny_bert, dropout=0.2), args, ["a", "b"])._resume_key()
    assert key["new_knob"] == 0.5 and "new_report_every" not in key
    assert key["dropout"] == 0.2 and "logging_steps" not in key and key["lr"] == args.lr


def test_a_checkpoint_of_an_older_key_resumes_checking_what_it_recorded(caplog):
    from simsent.training.checkpoint import check_same_run

    current = {"lr": 1e-5, "dropout": 0.1, "key_version": 2}
    check_same_run({"lr": 1e-5}, current, "ck")  # written before dropout was recorded: resumes
    assert "did not record dropout, key_version" in caplog.text
    with pytest.raises(ConfigError, match="lr 3e-05 -> 1e-05"):
        check_same_run({"lr": 3e-5}, current, "ck")
    with pytest.raises(ConfigError, match="dropout 0.3 -> 0.1"):
        check_same_run({"lr": 1e-5, "dropout": 0.3, "key_version": 2}, current, "ck")
