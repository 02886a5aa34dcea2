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


@pytest.mark.parametrize("shape", ["query_tsv", "query_header_csv", "flag_jsonl"])
def test_supervised_simcse_trains_on_faq_query_files(shape, tiny_bert, tmp_path, cli):
    """FAQ-shaped data (query<TAB>positive, with or without a header, and FlagEmbedding's JSONL with
    pos/neg lists) trains supervised SimCSE / MNRL as it is, one row per positive."""
    import json

    qs = [("花呗怎么还款", "花呗如何还钱"), ("借呗额度多少", "借呗能借多少"),
          ("银行卡怎么办理", "如何办银行卡"), ("今天天气好吗", "今天天气怎么样")] * 4
    path = tmp_path / {"query_tsv": "q.tsv", "query_header_csv": "q.csv", "flag_jsonl": "q.jsonl"}[shape]
    if shape == "query_tsv":
        path.write_text("".join(f"{q}\t{p}\n" for q, p in qs), encoding="utf-8")
    elif shape == "query_header_csv":
        path.write_text("query,positive\n" + "".join(f"{q},{p}\n" for q, p in qs), encoding="utf-8")
    else:
        path.write_text("".join(json.dumps({"query": q, "pos": [p, p + "呢"], "neg": ["不相关的话"]},
                                           ensure_ascii=False) + "\n" for q, p in qs), encoding="utf-8")
    out = tmp_path / "out"
    r = cli("train", "--model", tiny_bert, "--train-file", str(path), "--objective", "supervised_simcse",
            "--output", str(out), "--epochs", "1", "--batch-size", "4", "--max-len", "16")
    assert r.code == 0, r.err
    assert (out / "model.safetensors").is_file() or any(out.rglob("model.safetensors"))
