"""simsent sweep: grid expansion, nested and evaluation-disjoint training sets, resume, budget, plots."""

from __future__ import annotations

import json
import os

import pytest

from simsent.experiments.protocol import sweep_data
from simsent.experiments.runner import STATE_FILE
from simsent.experiments.sweep.config import SweepConfig


def test_grid_expansion_and_supervised_epochs():
    cfg = SweepConfig(
        model="m",
        output="o",
        sizes=[50, 100, 200],
        epochs=[1, 5],
        seeds=3,
        objectives=["simcse", "cosent"],
        supervised_epochs=[4],
    )
    grid = cfg.grid("STS-B")
    assert len(grid) == 3 * 2 * 3 + 3 * 1 * 3
    assert {(o, e) for _, o, _, e, _ in grid} == {("simcse", 1), ("simcse", 5), ("cosent", 4)}
    assert {s for *_, s in grid} == {42, 43, 44}
    # the grid and the budget are not part of a cell's identity: a wider grid reuses finished cells
    assert cfg.cell_key() == SweepConfig(model="m", output="o", sizes=[50], seeds=1, max_minutes=3).cell_key()
    assert cfg.cell_key() != SweepConfig(model="m", output="o", lr=1e-5).cell_key()
    assert "--supervised-epochs 4" in cfg.command_line()


def test_training_sets_are_nested_and_never_hold_an_evaluated_sentence(data_dir):
    cfg = SweepConfig(model="m", output="o")
    for task in ("STS-B", "BQ"):  # a train split, and a seeded half of the evaluation pairs
        d = sweep_data(cfg, task, 42, data_dir, extra_texts=[])
        evaluated = {s for r in d.eval_rows for s in (r["sentence1"], r["sentence2"])}
        assert not evaluated & set(d.sentences)
        assert not evaluated & {s for p in d.pairs for s in (p["sentence1"], p["sentence2"])}
        assert d.sentences == sweep_data(cfg, task, 42, data_dir, extra_texts=[]).sentences  # seeded
        assert d.sentences != sweep_data(cfg, task, 43, data_dir, extra_texts=[]).sentences
    d = sweep_data(cfg, "STS-B", 42, data_dir, extra_texts=[])
    evaluated = [r["sentence1"] for r in d.eval_rows]
    extra = sweep_data(cfg, "STS-B", 42, data_dir, extra_texts=["新的句子一", "新的句子二", *evaluated])
    assert extra.sentences[: d.own_sentences] == d.sentences  # the task's own text first, then extra
    assert set(extra.sentences[d.own_sentences :]) == {"新的句子一", "新的句子二"}  # evaluated ones dropped
    trans = sweep_data(SweepConfig(model="m", output="o", protocol="transductive"), "STS-B", 42, data_dir, [])
    assert set(evaluated) <= set(trans.sentences)


def test_sweep_cli_end_to_end_resume_budget_and_plots(tiny_bert, data_dir, tmp_path, cli):
    out = str(tmp_path / "sweep")
    argv = [
        "sweep",
        "--model",
        tiny_bert,
        "--task",
        "STS-B",
        "--data-dir",
        data_dir,
        "--sizes",
        "4,8,5000",
        "--epochs",
        "1,2",
        "--seeds",
        "2",
        "--objective",
        "simcse,cosent",
        "--supervised-epochs",
        "1",
        "--batch-size",
        "4",
        "--lr",
        "1e-4",
        "--max-len",
        "16",
        "--output",
        out,
    ]
    r = cli(*argv)
    assert r.code == 0, r.err
    assert "estimated run time" in r.out and "size 5000 skipped" in r.out
    for name in (
        "table.md",
        "table.csv",
        "table.json",
        STATE_FILE,
        "spearman_vs_size.png",
        "spearman_vs_epochs.png",
    ):
        assert os.path.isfile(os.path.join(out, name)), name
    with open(os.path.join(out, "spearman_vs_size.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(os.path.join(out, "table.json"), encoding="utf-8") as f:
        result = json.load(f)
    cells = result["cells"]
    # 2 raw + simcse 2 sizes x 2 epochs x 2 seeds + cosent 2 sizes x 1 epoch x 2 seeds
    assert len(cells) == 2 + 8 + 4
    assert {c["train_rows"] for c in cells if c["objective"] == "simcse"} == {4, 8}
    assert all(
        c["train_steps"] == c["epochs"] for c in cells if c["objective"] == "simcse" and c["size"] == 4
    )
    rows = {(r["objective"], r["size"], r["epochs"]): r for r in result["summary"]}
    assert rows[("simcse", 8, 2)]["spearman"]["n"] == 2 and rows[("raw", 0, 0)]["seeds"] == [42, 43]
    assert any("size 5000 skipped" in n for n in result["provenance"]["config"]["notes"])
    with open(os.path.join(out, "table.md"), encoding="utf-8") as f:
        md = f.read()
    assert "### simcse" in md and "### cosent" in md and "spearman_vs_size.png" in md and "sha256" in md

    r = cli(*argv)  # everything resumed: nothing trains again
    assert r.code == 0 and "14 already done" in r.out and "estimated run time" not in r.out
    with open(os.path.join(out, STATE_FILE), encoding="utf-8") as f:
        assert len(f.readlines()) == 14

    # a wider grid with a budget that is already spent: stops cleanly before the first new cell
    r = cli(*argv[:-1], str(tmp_path / "budget"), "--max-minutes", "0.0001")
    assert r.code == 0, r.err
    assert "time budget" in r.out
    with open(os.path.join(tmp_path / "budget", "table.json"), encoding="utf-8") as f:
        prov = json.load(f)["provenance"]
    assert prov["cells_run"] == 0 and prov["cells_not_run"]


@pytest.mark.parametrize(
    "extra, msg",
    [
        (["--objective", "magic"], "a sweep trains"),
        (["--sizes", "10,abc"], "whole numbers"),
        (["--sizes", "1"], "--sizes"),
        (["--epochs", "0"], "--epochs"),
        (["--protocol", "magic"], "unknown protocol"),
        (["--extra-text", "/no/such/file"], "file not found"),
    ],
)
def test_sweep_bad_input_is_one_line(tiny_bert, data_dir, tmp_path, cli, extra, msg):
    r = cli("sweep", "--model", tiny_bert, "--data-dir", data_dir, "--output", str(tmp_path / "o"), *extra)
    assert r.code == 2 and msg in r.err and len(r.err.strip().splitlines()) == 1


def test_a_dash_in_the_sweep_table_says_why():
    from simsent.experiments.sweep.report import summarize_sweep, sweep_markdown

    nan = float("nan")
    cells = [
        {"task": "STS-B", "objective": "simcse", "size": 10, "epochs": 1, "seed": 1,
         "metrics": {"spearman": nan, "undefined": "every label is 3"}},
        {"task": "STS-B", "objective": "simcse", "size": 20, "epochs": 1, "seed": 1,
         "metrics": {"spearman": 0.5}},
        {"task": "STS-B", "objective": "simcse", "size": 20, "epochs": 2, "seed": 1,
         "metrics": {"spearman": 0.6}},
    ]
    prov = {"config": {}, "versions": {}, "command": "simsent sweep", "created": "now", "data_files": {}}
    page = sweep_markdown(summarize_sweep(cells), prov, [])
    assert "| 10 | - | - |" in page
    assert "`-` at N=10, 1 ep: Spearman undefined (every label is 3)" in page
    assert "not run (the time budget ended first" in page  # N=10 at 2 epochs
