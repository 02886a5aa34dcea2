"""``simsent train`` with every supervised objective on tiny data, and its one-line input errors."""

import json
import os

import pytest
import torch

from simsent.modeling.sentence_encoder import SentenceEncoder

OBJECTIVES = ["supervised_simcse", "sbert_softmax", "cosent", "simcse_mlm"]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_cli_training(objective, tiny_bert, tmp_path, cli, objective_data):

    out = tmp_path / "out"
    argv = [
        "train",
        "--model",
        tiny_bert,
        "--train-file",
        objective_data.write(objective, tmp_path),
        "--objective",
        objective,
        "--output",
        str(out),
        "--batch-size",
        "3",
        "--eval-steps",
        "0",
        "--checkpoint-steps",
        "0",
    ]
    if objective == "sbert_softmax":
        argv += ["--objective-arg", "num_labels=2"]
    r = cli(*argv)
    assert r.code == 0, r.err
    assert os.path.isfile(out / "modules.json")
    assert json.loads((out / "training_args.json").read_text())["objective"] == objective


def test_cli_wrong_input_is_one_line_error(tiny_bert, tmp_path, cli):

    txt = tmp_path / "s.txt"
    txt.write_text("今天天气不错\n我想去北京\n", encoding="utf-8")
    r = cli(
        *[
            "train",
            "--model",
            tiny_bert,
            "--train-file",
            str(txt),
            "--objective",
            "cosent",
            "--output",
            str(tmp_path / "o"),
        ]
    )
    assert r.code == 2
    err = r.err.strip()
    assert (
        err.startswith("error: cosent training data: missing column") and "sentence1, sentence2, score" in err
    )
    assert len(err.splitlines()) == 1


def test_cli_freeze_encoder(tiny_bert, tmp_path, cli, objective_data):

    out = tmp_path / "out"
    argv = [
        "train",
        "--model",
        tiny_bert,
        "--train-file",
        objective_data.write("cosent", tmp_path),
        "--objective",
        "cosent",
        "--output",
        str(out),
        "--batch-size",
        "3",
        "--eval-steps",
        "0",
        "--checkpoint-steps",
        "0",
        "--freeze-encoder",
        "--lr",
        "0.01",
    ]
    r = cli(*argv)
    assert r.code == 0, r.err
    saved = SentenceEncoder.from_pretrained(str(out))
    assert len(saved.dense) == 1 and saved.extra_config.get("frozen_encoder") is True
    base = SentenceEncoder.from_pretrained(tiny_bert)
    assert all(torch.equal(v, base.encoder.state_dict()[k]) for k, v in saved.encoder.state_dict().items())
