"""simsent fit: honest splits, candidate expansion, budget stop, resume and the winner's round trip."""

from __future__ import annotations

import json
import math
import os
import random

import numpy as np
import pytest

from simsent.experiments.protocol import fit_splits
from simsent.experiments.runner import PlannedCell, run_cells

WORDS = list("今天天气不错很好我想去北京上海吃饭喝水你他她们的了是在有没什么怎么办理银行卡借钱还款花呗额度")


def _pairs(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a = "".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9)))
        b = a[:-1] + rng.choice(WORDS) if i % 2 == 0 else "".join(rng.choice(WORDS) for _ in range(6))
        rows.append(
            {
                "sentence1": a,
                "sentence2": b,
                "score": float(rng.randint(3, 5) if i % 2 == 0 else rng.randint(0, 2)),
            }
        )
    return rows


def _fit(cli, model, train, dev, out, *extra):
    """``simsent fit`` on ``train`` with ``dev`` as the dev file, written to ``out``."""
    return cli(
        "fit", "--model", model, "--train-file", train, "--dev-file", dev, "--output", str(out), *extra
    )


def test_splits_are_disjoint_seeded_and_train_only_with_enough_pairs():
    pairs = _pairs(500)
    s = fit_splits(pairs, seed=1, min_supervised_pairs=400)
    assert (len(s.train), len(s.selection), len(s.report)) == (200, 150, 150)
    keys = [tuple(sorted(p.items())) for part in (s.train, s.selection, s.report) for p in part]
    assert len(keys) == len(set(keys)) == 500  # every pair in exactly one part
    assert (
        fit_splits(pairs, seed=1).selection == s.selection
        and fit_splits(pairs, seed=2).selection != s.selection
    )
    small = fit_splits(pairs[:100], seed=1, min_supervised_pairs=400, report_fraction=0.3)
    assert (len(small.train), len(small.selection), len(small.report)) == (0, 70, 30)
    with pytest.raises(Exception, match="at least 4 labelled"):
        fit_splits(pairs[:3], seed=1)


def test_cross_fitted_splits_merge_train_and_selection_and_keep_the_report_part():
    pairs = _pairs(500)
    one = fit_splits(pairs, seed=1, min_supervised_pairs=400)
    cross = fit_splits(pairs, seed=1, min_supervised_pairs=400, folds=3)
    assert cross.cross_fitted and cross.report == one.report
    assert cross.train == cross.selection == one.train + one.selection
    held = [cross.fold(f)[1] for f in range(3)]
    assert sorted(i for h in held for i in h) == list(range(350))  # each pair in exactly one fold
    train0, held0 = cross.fold(0)
    assert len(train0) + len(held0) == 350
    assert not {id(r) for r in train0} & {id(cross.selection[i]) for i in held0}
    few = fit_splits(pairs[:100], seed=1, min_supervised_pairs=400, folds=3)
    assert not few.cross_fitted and not few.train  # no supervised candidate: nothing to cross-fit


def test_a_supervised_family_is_scored_out_of_fold_then_trained_on_every_pair(tiny_bert, monkeypatch):
    import simsent.experiments.fit.cells as cells
    from simsent.experiments.fit.config import FitConfig

    pairs = _pairs(60)
    splits = fit_splits(pairs, seed=3, min_supervised_pairs=40, folds=3)
    seen = []
    train = cells.train_family
    monkeypatch.setattr(cells, "train_family", lambda cfg, fam, pool, texts, rows, judge=None:
                        seen.append(rows) or train(cfg, fam, pool, texts, rows, judge))
    cfg = FitConfig(model=tiny_bert, output="unused", whiten_dims=[], max_len=16)
    texts = list(dict.fromkeys(s for p in pairs for s in (p["sentence1"], p["sentence2"])))
    cell = cells.run_fit_family(cfg, "cosent", "mean", texts, splits, lambda score, save: False)
    assert seen[0] == splits.train
    assert [len(r) for r in seen[1:]] == [len(splits.fold(f)[0]) for f in range(3)]
    for f, rows in enumerate(seen[1:]):
        held = {id(splits.selection[i]) for i in splits.fold(f)[1]}
        assert not held & {id(r) for r in rows}  # no copy scores a pair it trained on
    row = cell["rows"][0]
    assert len(row["selection_items"]) == len(splits.selection) and not math.isnan(row["selection"])
    seen.clear()
    ct = cells.run_fit_family(cfg, "ct", "mean", texts, splits, lambda score, save: False)
    assert len(seen) == 1 and ct["train_steps"] > 0  # unlabelled: one copy, every selection pair scored


def test_runner_budget_stops_between_cells_and_resumes(tmp_path):
    ran = []

    def cell(name):
        ran.append(name)
        return {"name": name, "seconds": 0.0}

    plan = [
        PlannedCell(("a",), "a", lambda: cell("a"), 0.0),
        PlannedCell(("b",), "b", lambda: cell("b"), 1e6),
    ]
    out = run_cells(plan, str(tmp_path), "k", ("name",), echo=lambda _m: None, max_minutes=1)
    assert ran == ["a"] and [p.id for p in out.skipped] == [("b",)] and out.ran == 1
    out = run_cells(plan, str(tmp_path), "k", ("name",), echo=lambda _m: None)  # no budget: b runs, a resumed
    assert ran == ["a", "b"] and out.resumed == 1 and [c["name"] for c in out.cells] == ["a", "b"]
    other = run_cells(plan, str(tmp_path), "other-settings", ("name",), echo=lambda _m: None)
    assert other.ran == 2  # another settings key never reuses cells


@pytest.fixture()
def fit_files(tmp_path):
    pairs = _pairs(60, seed=3)
    dev = tmp_path / "pairs.tsv"  # headerless text_a<TAB>text_b<TAB>score, as users keep them
    dev.write_text(
        "".join(f"{p['sentence1']}\t{p['sentence2']}\t{p['score']}\n" for p in pairs), encoding="utf-8"
    )
    rng = random.Random(7)
    train = tmp_path / "queries.txt"
    train.write_text(
        "\n".join("".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9))) for _ in range(48)),
        encoding="utf-8",
    )
    return str(train), str(dev)


def test_fit_cli_leaderboard_winner_round_trip_and_resume(tiny_bert, fit_files, tmp_path, cli):
    from sentence_transformers import SentenceTransformer

    from simsent.data.readers import read_pairs
    from simsent.evaluation.base import pair_vectors
    from simsent.evaluation.sts import correlation_metrics, cosine_scores
    from simsent.modeling.sentence_encoder import SentenceEncoder

    train, dev = fit_files
    out = str(tmp_path / "best")
    extra = ["--poolings", "cls,mean", "--recipes", "raw,simcse,cosent", "--whiten-dims", "all,8"]
    extra += ["--min-supervised-pairs", "40", "--max-len", "16", "--confidence", "0"]  # the best always wins
    extra += ["--folds", "3"]
    r = _fit(cli, tiny_bert, train, dev, out, *extra)
    assert r.code == 0, r.err
    assert "winner:" in r.out and "estimated" in r.out
    for name in (
        "leaderboard.md",
        "leaderboard.csv",
        "leaderboard.json",
        "leaderboard.png",
        "README.md",
        "modules.json",
    ):
        assert os.path.isfile(os.path.join(out, name)), name
    with open(os.path.join(out, "leaderboard.json"), encoding="utf-8") as f:
        result = json.load(f)
    board, winner = result["leaderboard"], result["winner"]
    # 3 families x 2 poolings x (unwhitened + k=all + k=8)
    assert len(board) == 3 * 2 * 3 + 2  # + simcse merged with the start, on each pooling
    assert {(r["family"], r["pooling"]) for r in board} == {
        (f, p) for f in ("raw", "simcse", "cosent") for p in ("cls", "mean")
    }
    assert {r["recipe"] for r in board} >= {"raw", "whitening (k=8)", "simcse + whitening (k=8)", "cosent"}
    assert winner == board[0] and winner["selection"] == max(r["selection"] for r in board)
    sizes = result["provenance"]["config"]["split_sizes"]
    assert {k: sizes[k] for k in ("train", "selection", "report", "folds")} == {
        "train": 42, "selection": 42, "report": 18, "folds": 3}  # cross-fitted: train and selection merged
    assert "3-fold cross-fitted" in sizes["description"]
    with open(os.path.join(out, "README.md"), encoding="utf-8") as f:
        card = f.read()
    assert winner["recipe"] in card and "report part" in card

    # the saved winner reproduces its report score, and sentence-transformers gives the same vectors
    pairs = read_pairs(dev)
    from simsent.experiments.protocol import fit_splits

    report = fit_splits(pairs, 42, 0.5, 40).report
    model = SentenceEncoder.load(out)
    v1, v2 = pair_vectors(model, report, 16, np.float64)
    score = correlation_metrics(cosine_scores(v1, v2), [p["score"] for p in report])["spearman"]
    assert score == pytest.approx(winner["report"], abs=1e-3)
    texts = [p["sentence1"] for p in report[:5]]
    st = SentenceTransformer(out, device="cpu").encode(texts)
    np.testing.assert_allclose(st, model.encode(texts), atol=1e-5)

    state = os.path.join(out, "fit-runs", "state.jsonl")
    with open(state, encoding="utf-8") as f:
        n = len(f.readlines())
    assert n == 6
    r = _fit(cli, tiny_bert, train, dev, out, *extra)  # resumed: nothing trains again, same winner
    assert r.code == 0, r.err
    with open(state, encoding="utf-8") as f:
        assert len(f.readlines()) == n
    with open(os.path.join(out, "leaderboard.json"), encoding="utf-8") as f:
        assert json.load(f)["winner"] == winner


def test_a_wider_fit_reuses_finished_candidates_and_replaces_the_winner(tiny_bert, fit_files, tmp_path, cli):
    train, dev = fit_files
    out = tmp_path / "best"
    base = ["--poolings", "cls,mean", "--whiten-dims", "all", "--max-len", "16", "--confidence", "0"]
    assert _fit(cli, tiny_bert, train, dev, out, *base, "--recipes", "raw").code == 0
    first = json.loads((out / "leaderboard.json").read_text(encoding="utf-8"))["winner"]
    r = _fit(cli, tiny_bert, train, dev, out, *base, "--recipes", "raw,simcse")
    assert r.code == 0, r.err
    assert "2 already done" in r.out  # the raw families are not recomputed
    result = json.loads((out / "leaderboard.json").read_text(encoding="utf-8"))
    assert len(result["leaderboard"]) == 2 * 2 * 2 + 2 and result["winner"] == result["leaderboard"][0]
    assert result["winner"]["selection"] >= first["selection"]
    saved = json.loads((out / "simsent_config.json").read_text(encoding="utf-8"))
    assert (
        saved["fit"]["recipe"] == result["winner"]["recipe"]
        and saved["pooling"] == result["winner"]["pooling"]
    )


def test_a_candidate_not_surely_better_than_the_start_leaves_the_start_model(
    tiny_bert, fit_files, tmp_path, cli
):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    train, dev = fit_files
    out = tmp_path / "best"
    extra = ["--poolings", "mean,cls", "--recipes", "raw,simcse", "--whiten-dims", "8", "--max-len", "16"]
    r = _fit(cli, tiny_bert, train, dev, out, *extra, "--confidence", "1")  # no toy candidate is that sure
    assert r.code == 0, r.err
    result = json.loads((out / "leaderboard.json").read_text(encoding="utf-8"))
    board, winner = result["leaderboard"], result["winner"]
    choice = result["provenance"]["config"]["choice"]
    start = board[choice["start"]]
    assert (start["recipe"], start["pooling"]) == ("raw", "mean")  # the given pooling order: mean first
    assert board[choice["best"]]["selection"] == max(r["selection"] for r in board)
    assert all(0 <= r["beats_start"] <= 1 for i, r in enumerate(board) if i != choice["start"])
    assert winner == start and choice["kept_start"] == (choice["best"] != choice["start"])
    texts = ["今天天气不错", "我想去北京"]
    np.testing.assert_allclose(
        SentenceEncoder.load(str(out)).encode(texts),
        SentenceEncoder.from_pretrained(tiny_bert, pooling="mean", max_len=16).encode(texts),
        atol=1e-6,
    )
    if choice["kept_start"]:
        assert "the start model was kept" in (out / "leaderboard.md").read_text(encoding="utf-8")
        assert "the start model was kept" in (out / "README.md").read_text(encoding="utf-8")


def test_fit_never_writes_into_a_folder_of_other_files(tiny_bert, fit_files, tmp_path, cli):
    train, dev = fit_files
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    r = _fit(cli, tiny_bert, train, dev, mine)
    assert r.code == 2 and "other files" in r.err
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_fit_small_dev_set_skips_cosent_and_warns(tiny_bert, fit_files, tmp_path, cli):
    train, dev = fit_files
    r = _fit(
        cli,
        tiny_bert,
        train,
        dev,
        tmp_path / "o",
        "--poolings",
        "mean",
        "--recipes",
        "raw,cosent",
        "--max-len",
        "16",
    )
    assert r.code == 0, r.err
    assert "cosent not tried" in r.out and "small report part" in r.out


@pytest.mark.parametrize(
    "extra, msg",
    [
        ([], "exactly one of --dev-file"),
        (["--dev-file", "DEV", "--recipes", "magic"], "unknown fit recipe"),
        (["--dev-file", "DEV", "--poolings", "bogus"], "unknown pooling"),
        (["--dev-file", "DEV", "--max-minutes", "0.00001"], "time budget"),
        (["--dev-file", "/no/such.tsv"], "file not found"),
        (["--dev-file", "TRAIN"], "no usable line"),
    ],
)
def test_fit_bad_input_is_one_line(tiny_bert, fit_files, tmp_path, cli, extra, msg):
    train, dev = fit_files
    extra = [dev if a == "DEV" else train if a == "TRAIN" else a for a in extra]
    r = cli("fit", "--model", tiny_bert, "--train-file", train, "--output", str(tmp_path / "o"), *extra)
    assert r.code == 2, r.out
    assert msg in r.err and len(r.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "pairs, msg",
    [
        ([("甲", f"乙{i}", 1) for i in range(20)], "every label of the selection part is 1"),
        ([(f"句{i}", f"句{i}", i % 2) for i in range(20)], "both texts of every pair are the same"),
    ],
)
def test_fit_refuses_dev_pairs_that_cannot_rank(tiny_bert, fit_files, tmp_path, cli, pairs, msg):
    train, _ = fit_files
    dev = tmp_path / "dev.data"
    dev.write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in pairs), encoding="utf-8")
    r = cli("fit", "--model", tiny_bert, "--train-file", train, "--dev-file", dev, "--output", tmp_path / "o")
    assert r.code == 2 and msg in r.err, r.err
    assert not (tmp_path / "o" / "fit-runs").exists()


def test_audit_pairs_are_scored_for_every_candidate_and_never_chosen_on(tiny_bert, tmp_path):
    from simsent.evaluation.sts import STSEvaluator
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import run_fit
    from simsent.modeling.sentence_encoder import SentenceEncoder

    pairs, audit = _pairs(60, seed=3), _pairs(30, seed=11)
    texts = list(dict.fromkeys(s for p in pairs for s in (p["sentence1"], p["sentence2"])))

    def fit(out, **kw):
        cfg = FitConfig(model=tiny_bert, output=str(out), recipes=["raw"], poolings=["mean", "cls"],
                        whiten_dims=[None, 8], max_len=16)
        return run_fit(cfg, texts, pairs, echo=lambda _m: None, **kw)

    plain, audited = fit(tmp_path / "plain"), fit(tmp_path / "audited", audit_pairs=audit)
    assert [(r["recipe"], r["pooling"], r["selection"], r["report"]) for r in plain["leaderboard"]] == [
        (r["recipe"], r["pooling"], r["selection"], r["report"]) for r in audited["leaderboard"]
    ]  # the audit part changes no score and no choice
    assert plain["winner"]["recipe"] == audited["winner"]["recipe"] and "audit" not in plain["winner"]
    raw_mean = next(r for r in audited["leaderboard"] if r["recipe"] == "raw" and r["pooling"] == "mean")
    start = SentenceEncoder.from_pretrained(tiny_bert, pooling="mean", max_len=16)
    direct = STSEvaluator(audit, "audit")(start)
    assert raw_mean["audit"] == pytest.approx(direct["spearman"], abs=1e-6)
    assert all(not math.isnan(r["audit"]) for r in audited["leaderboard"])
    with pytest.raises(Exception, match="audit pairs are also dev pairs"):
        fit(tmp_path / "overlap", audit_pairs=pairs[:2])


def test_refit_retrains_a_supervised_winner_on_train_and_selection_and_saves_it(
    tiny_bert, tmp_path, monkeypatch
):
    import simsent.experiments.fit.cells as cells
    from simsent.evaluation.sts import STSEvaluator
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import run_fit
    from simsent.modeling.sentence_encoder import SentenceEncoder

    pairs, audit = _pairs(60, seed=3), _pairs(20, seed=11)
    texts = list(dict.fromkeys(s for p in pairs for s in (p["sentence1"], p["sentence2"])))
    trained = []
    train = cells.train_family
    monkeypatch.setattr(cells, "train_family", lambda cfg, fam, pool, texts, rows, judge=None:
                        trained.append(rows) or train(cfg, fam, pool, texts, rows, judge))

    def fit(out, **kw):
        cfg = FitConfig(model=tiny_bert, output=str(out), recipes=["cosent"], poolings=["mean"],
                        whiten_dims=[None, 8], max_len=16, min_supervised_pairs=40, refit=True, **kw)
        return run_fit(cfg, texts, pairs, echo=lambda _m: None, audit_pairs=audit)

    result = fit(tmp_path / "refit")
    splits = fit_splits(pairs, seed=42, min_supervised_pairs=40)
    assert trained[-1] == splits.train + splits.selection  # the refit saw train and selection ...
    refit = result["winner"]["refit"]
    assert refit["pairs"] == len(splits.train) + len(splits.selection)
    reported = STSEvaluator(splits.report, "report")(SentenceEncoder.load(str(tmp_path / "refit")))
    assert refit["report"] == pytest.approx(reported["spearman"], abs=1e-3)  # ... and is the saved model
    assert not math.isnan(refit["audit"])
    assert "retrained on" in (tmp_path / "refit" / "README.md").read_text(encoding="utf-8")
    trained.clear()
    cross = fit(tmp_path / "cross", folds=3)
    assert "refit" not in cross["winner"] and len(trained) == 4  # cross-fitting trained on both already
