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
