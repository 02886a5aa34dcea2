"""The seed table end to end from the CLI on a tiny BERT and a made-up two-task data dir."""

from __future__ import annotations

import json
import os

from simsent.experiments.protocol import task_data
from simsent.experiments.runner import STATE_FILE
from simsent.experiments.table.config import TableConfig


def test_inductive_and_transductive_splits(data_dir):
    cfg = TableConfig(model="x", output="o", data_dir=data_dir, max_train_samples=None)
    bq = task_data(cfg, "BQ", 42, data_dir)
    assert bq.eval_split == "valid" and len(bq.eval_rows) == 12  # the eval half
    eval_sents = {s for r in bq.eval_rows for s in (r["sentence1"], r["sentence2"])}
    assert not eval_sents & set(bq.train_texts)  # evaluation text never seen
    assert task_data(cfg, "BQ", 43, data_dir).eval_rows != bq.eval_rows  # split by seed
    sts = task_data(cfg, "STS-B", 42, data_dir)
    assert len(sts.eval_rows) == 12 and any(f.endswith("STS-B.train.data") for f in sts.files)
    trans = task_data(
        TableConfig(model="x", output="o", protocol="transductive", max_train_samples=None),
        "STS-B",
        42,
        data_dir,
    )
    assert set(sts.train_texts) < set(trans.train_texts)  # train + valid text
    capped = task_data(
        TableConfig(model="x", output="o", max_train_samples=5, max_eval_pairs=4), "BQ", 42, data_dir
    )
    assert len(capped.train_texts) == 5 and len(capped.eval_rows) == 4


def test_bench_table_cli_end_to_end_and_resume(tiny_bert, data_dir, tmp_path, cli):
    out = str(tmp_path / "table")
    argv = [
        "bench",
        "table",
        "--model",
        tiny_bert,
        "--poolings",
        "cls,pooler",
        "--tasks",
        "BQ,STS-B",
        "--seeds",
        "1",
        "--data-dir",
        data_dir,
        "--output",
        out,
        "--batch-size",
        "8",
        "--lr",
        "1e-4",
        "--max-train-samples",
        "16",
        "--max-eval-pairs",
        "10",
        "--max-len",
        "16",
    ]
    r = cli(*argv)
    assert r.code == 0, r.err
    printed = r.out
    assert "estimated run time" in printed
    for name in ("table.md", "table.csv", "table.json", STATE_FILE):
        assert os.path.isfile(os.path.join(out, name)), name
    with open(os.path.join(out, "table.json"), encoding="utf-8") as f:
        result = json.load(f)
    prov = result["provenance"]
    assert prov["command"].startswith("simsent bench table") and prov["versions"]["simsent"]
    assert prov["config"]["protocol"] == "inductive" and prov["config"]["max_train_samples"] == 16
    assert {os.path.basename(p) for p in prov["data_files"]} == {
        "BQ.valid.data",
        "STS-B.train.data",
        "STS-B.valid.data",
    }
    assert all(len(h) == 64 for h in prov["data_files"].values())
    rows = result["summary"]
    assert {(r["pooling"], r["task"]) for r in rows} == {
        ("cls", "BQ"),
        ("cls", "STS-B"),
        ("pooler", "BQ"),
        ("pooler", "STS-B"),
        ("tfidf", "BQ"),
        ("tfidf", "STS-B"),
    }
    for r in rows:
        if r["pooling"] != "tfidf":
            assert {"raw", "whitening", "simcse", "simcse_beats_whitening"} <= set(r)
    with open(os.path.join(out, "table.md"), encoding="utf-8") as f:
        md = f.read()
    assert "inductive" in md and "TF-IDF" in md and "sha256" in md and "| cls |" in md
    with open(os.path.join(out, "table.csv"), encoding="utf-8") as f:
        csv_text = f.read()
    assert csv_text.startswith("# command: simsent bench table") and "data_files" in csv_text
    with open(os.path.join(out, STATE_FILE), encoding="utf-8") as f:
        n_state = len(f.readlines())
    assert n_state == 6  # 4 model cells + 2 TF-IDF cells

    # rerun: every cell is resumed from the state file, nothing is recomputed
    r = cli(*argv)
    assert r.code == 0, r.err
    printed = r.out
    assert "4 already done" in printed and "estimated run time" not in printed
    with open(os.path.join(out, STATE_FILE), encoding="utf-8") as f:
        assert len(f.readlines()) == n_state
    # one more seed: only the new cells run
    assert cli(*argv[:9], "2", *argv[10:]).code == 0
    with open(os.path.join(out, STATE_FILE), encoding="utf-8") as f:
        assert len(f.readlines()) == n_state * 2
    with open(os.path.join(out, "table.json"), encoding="utf-8") as f:
        assert all(r["seeds"] == [42, 43] for r in json.load(f)["summary"])


def test_bench_table_errors(tiny_bert, data_dir, tmp_path, cli):
    base = [
        "bench",
        "table",
        "--model",
        tiny_bert,
        "--tasks",
        "BQ",
        "--data-dir",
        data_dir,
        "--output",
        str(tmp_path / "t"),
    ]
    for extra, msg in (
        (["--protocol", "magic"], "unknown protocol"),
        (["--poolings", "bogus"], "unknown pooling"),
        (["--simcse-variant", "magic"], "unknown SimCSE variant"),
    ):
        r = cli(*base, *extra)
        assert r.code == 2
        assert msg in r.err


def test_simcse_variant_is_part_of_the_command_and_the_cell_key():
    from simsent.experiments.table.config import TableConfig

    paper = TableConfig(model="m", output="o")
    symmetric = TableConfig(model="m", output="o", simcse_variant="symmetric")
    assert "--simcse-variant symmetric" in symmetric.command_line()
    assert symmetric.cell_key() != paper.cell_key()


def test_tfidf_cell_stays_sparse_and_matches_dense_cosine():
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from simsent.evaluation.sts import sts_metrics
    from simsent.experiments.protocol import TaskData
    from simsent.experiments.table.cells import run_tfidf_cell
    from simsent.experiments.table.config import TableConfig

    train = ["今天天气不错", "花呗怎么还款", "银行卡丢了怎么办", "我想修改手机号码", "今天很好"]
    rows = [
        {"sentence1": "今天天气很好", "sentence2": "今天天气不错", "score": 5.0},
        {"sentence1": "花呗如何还钱", "sentence2": "花呗怎么还款", "score": 4.0},
        {"sentence1": "银行卡丢了", "sentence2": "手机号码修改", "score": 0.0},
        {"sentence1": "修改号码", "sentence2": "今天天气", "score": 1.0},
    ]
    data = TaskData("STS-B", "valid", train, train, rows, [])
    cell = run_tfidf_cell(TableConfig(model="m", output="o"), data, seed=1)

    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True).fit(train)
    a = vec.transform([r["sentence1"] for r in rows]).toarray()
    b = vec.transform([r["sentence2"] for r in rows]).toarray()
    dense = sts_metrics(a, b, [r["score"] for r in rows])
    assert np.isclose(cell["tfidf"]["spearman"], dense["spearman"])
    assert np.isclose(cell["tfidf"]["pearson"], dense["pearson"])


def test_the_seed_table_keeps_a_time_budget_and_resumes(tiny_bert, data_dir, tmp_path, cli):
    base = [
        "bench",
        "table",
        "--model",
        tiny_bert,
        "--poolings",
        "cls,mean",
        "--tasks",
        "BQ",
        "--seeds",
        "1",
        "--data-dir",
        data_dir,
        "--output",
        tmp_path / "t",
        "--batch-size",
        "8",
        "--max-train-samples",
        "16",
        "--max-eval-pairs",
        "8",
        "--max-len",
        "16",
    ]
    r = cli(*base, "--max-minutes", "0.0001")
    assert r.code == 0, r.err
    assert "time budget: stopping before" in r.out
    with open(tmp_path / "t" / "table.json", encoding="utf-8") as f:
        assert json.load(f)["provenance"]["cells_not_run"]
    r = cli(*base)  # without the budget the rest runs; nothing is trained twice
    assert r.code == 0, r.err
    with open(tmp_path / "t" / "table.json", encoding="utf-8") as f:
        prov = json.load(f)["provenance"]
    assert prov["cells_not_run"] == [] and prov["cells_run"] == 2
