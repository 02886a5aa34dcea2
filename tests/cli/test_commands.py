import json

import numpy as np
import pytest


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    (d / "STS-B").mkdir()
    rows = [
        "今天天气不错\t今天天气很好\t5",
        "我想去北京\t花呗额度\t0",
        "怎么修改密码\t密码怎么修改\t4",
        "银行卡还款\t手机号码\t1",
        "我想吃饭\t我想喝水\t2",
    ]
    (d / "STS-B" / "STS-B.valid.data").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (d / "sents.txt").write_text(("\n".join(r.split("\t")[0] for r in rows) + "\n") * 3, encoding="utf-8")
    return d


def test_train_eval_encode_similarity(tiny_bert, data_dir, tmp_path, cli):
    out = tmp_path / "run"
    r = cli(
        "-q",
        "train",
        "--model",
        tiny_bert,
        "--train-file",
        str(data_dir / "sents.txt"),
        "--output",
        str(out),
        "--dev-task",
        "STS-B",
        "--data-dir",
        str(data_dir),
        "--batch-size",
        "4",
        "--eval-steps",
        "2",
        "--dropout",
        "0.1",
    )
    assert r.code == 0, r.err
    assert "STS-B spearman: before" in r.out
    r = cli(
        "-q",
        "eval",
        str(out),
        "--tasks",
        "STS-B",
        "--data-dir",
        str(data_dir),
        "--output",
        str(tmp_path / "ev.json"),
    )
    assert r.code == 0, r.err
    assert "| STS-B | 5 |" in r.out
    metrics = json.loads((tmp_path / "ev.json").read_text())
    assert set(metrics["tasks"]["STS-B"]) >= {"spearman", "pearson", "alignment", "uniformity"}
    assert (tmp_path / "ev.md").exists()
    r = cli(
        "-q", "encode", str(out), "--input", str(data_dir / "sents.txt"), "--output", str(tmp_path / "v.npy")
    )
    assert r.code == 0, r.err
    assert np.load(tmp_path / "v.npy").shape == (15, 32)
    r = cli("-q", "similarity", str(out), "今天天气不错", "今天天气很好")
    assert r.code == 0 and -1.0 <= float(r.out.split()[0]) <= 1.0


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["train", "--model", "/no/such/model", "--train-file", "{sents}", "--output", "{tmp}/x"],
            "model folder not found",
        ),
        (
            ["train", "--model", "{bert}", "--train-file", "{tmp}/missing.txt", "--output", "{tmp}/x"],
            "file not found",
        ),
        (["train", "--model", "{bert}", "--train-file", "{empty}", "--output", "{tmp}/x"], "file is empty"),
        (
            [
                "train",
                "--model",
                "{bert}",
                "--train-file",
                "{sents}",
                "--output",
                "{tmp}/x",
                "--pooling",
                "avg",
            ],
            "unknown pooling",
        ),
        (["eval", "{bert}", "--tasks", "MNLI", "--data-dir", "{data}"], "unknown task"),
        (
            ["train", "--model", "bert-base-chinese", "--train-file", "{sents}", "--output", "{tmp}/x"],
            "cannot load model",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tiny_bert, data_dir, tmp_path, args, message, cli):
    (tmp_path / "empty.txt").write_text("")
    fill = {
        "sents": str(data_dir / "sents.txt"),
        "tmp": str(tmp_path),
        "bert": tiny_bert,
        "empty": str(tmp_path / "empty.txt"),
        "data": str(data_dir),
    }
    r = cli(*[a.format(**fill) for a in args])
    assert r.code == 2
    assert r.err.strip().startswith("error:") and message in r.err
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1


def test_help_lists_commands(cli):
    r = cli("--help")
    assert r.code == 0
    for cmd in ("train", "eval", "encode", "similarity", "demo"):
        assert cmd in r.out


@pytest.mark.slow
def test_demo_runs_offline_on_the_built_in_chinese_model(e5_small_zh, tmp_path, cli):
    r = cli("-q", "demo", "--output", str(tmp_path / "demo"))
    assert r.code == 0, r.err
    assert "start model: e5-small-zh" in r.out and "leaderboard" in r.out and "what it means" in r.out
    assert "on the held-out queries" in r.out and "search with the saved model" in r.out
    assert (tmp_path / "demo" / "modules.json").is_file() and (
        tmp_path / "demo" / "leaderboard.png"
    ).is_file()


def test_demo_teaches_the_choice_with_any_model(tiny_bert, tmp_path, cli):
    r = cli("-q", "demo", "--model", tiny_bert, "--output", str(tmp_path / "demo"), "--max-minutes", "0.3")
    assert r.code == 0, r.err
    assert "chosen:" in r.out and "what it means" in r.out and "held-out" in r.out
    hits = [line for line in r.out.splitlines() if " -> " in line]
    assert len(hits) == 3 and all("(" in line for line in hits)  # each new query answered from the FAQ


def test_train_textcnn_from_the_cli(data_dir, tmp_path, cli):
    out = tmp_path / "cnn"
    r = cli(
        "-q",
        "train",
        "--model",
        "textcnn",
        "--train-file",
        str(data_dir / "sents.txt"),
        "--output",
        str(out),
        "--batch-size",
        "4",
        "--model-arg",
        "emb_dim=16",
        "--model-arg",
        "filters=8",
        "--eval-steps",
        "0",
    )
    assert r.code == 0, r.err
    r = cli("-q", "similarity", str(out), "今天天气不错", "今天天气很好")
    assert r.code == 0, r.err


def test_help_names_every_objective():
    from simsent.losses import OBJECTIVES
    from simsent.training.arguments import OBJECTIVE_NAMES

    assert tuple(OBJECTIVES) == OBJECTIVE_NAMES


def test_an_argument_typed_in_a_gbk_terminal_is_read_or_refused():
    import os

    import pytest

    from simsent.cli.main import utf8_arguments
    from simsent.errors import ConfigError

    gbk = os.fsdecode("今天天气".encode("gbk"))  # how Python receives GBK bytes in a UTF-8 locale
    assert utf8_arguments(["similarity", gbk]) == ["similarity", "今天天气"]
    with pytest.raises(ConfigError, match="not UTF-8 or GBK"):
        utf8_arguments([os.fsdecode(b"\xff\xff\xff")])


def test_values_given_twice_count_once():
    from simsent.cli.common import split_ints, split_list
    from simsent.data.tasks import parse_tasks

    assert split_ints("50,100,50,0_050", "--sizes") == [50, 100]
    assert split_list("cls, mean,cls") == ["cls", "mean"]
    assert parse_tasks("BQ,ATEC,BQ") == ["BQ", "ATEC"]


def test_unknown_model_args_are_one_line_errors(cli, tiny_bert, tmp_path):
    (tmp_path / "s.txt").write_text("今天天气不错\n我想去北京\n花呗额度\n", encoding="utf-8")
    base = ["train", "--train-file", tmp_path / "s.txt", "--output", tmp_path / "o"]
    r = cli(*base, "--model", "textcnn", "--model-arg", "filterz=64")
    assert r.code == 2 and "unknown TextCNN option(s) filterz" in r.err, r.err
    r = cli(*base, "--model", tiny_bert, "--model-arg", "filters=64")
    assert r.code == 2 and "--model-arg sets options of a model built from scratch" in r.err, r.err
    r = cli(*base, "--model", tiny_bert, "--dropout", "0.95")
    assert r.code == 2 and "0.9" in r.err
