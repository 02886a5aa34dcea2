"""fit on FAQ queries: the data shapes, the retrieval judge, the recipes that train on queries, the
chooser on queries end to end, merges as candidates, and every refusal in one line."""

from __future__ import annotations

import json
import os
import random

import numpy as np
import pytest

from simsent.data.retrieval import QueryRow, faq_rows, is_queries_file, queries_from_pairs
from simsent.experiments.fit.judges import RetrievalJudge

WORDS = list("今天天气不错很好我想去北京上海吃饭喝水你他她们的了是在有没什么怎么办理银行卡借钱还款花呗额度")


class _Table:
    """A model whose vectors are looked up in a table (normalise flag as SentenceEncoder has it)."""

    normalize = True

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors

    def encode(self, texts, batch_size=64, **_):
        return np.asarray([self.vectors[t] for t in texts], dtype=np.float64)


def test_queries_files_are_told_from_scored_pairs(tmp_path):
    two = tmp_path / "q.tsv"
    two.write_text("怎么还款\t如何还款\n额度多少\t花呗额度\n", encoding="utf-8")
    header = tmp_path / "h.csv"
    header.write_text("query,positive\n怎么还款,如何还款\n", encoding="utf-8")
    scored = tmp_path / "p.tsv"
    scored.write_text("怎么还款\t如何还款\t1\n", encoding="utf-8")
    jsonl = tmp_path / "q.jsonl"
    row = {"query": "怎么还款", "pos": ["如何还款"], "neg": []}
    jsonl.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    pairs_jsonl = tmp_path / "p.jsonl"
    row = {"sentence1": "a", "sentence2": "b", "score": 1}
    pairs_jsonl.write_text(json.dumps(row) + "\n", encoding="utf-8")
    assert is_queries_file(two) and is_queries_file(header) and is_queries_file(jsonl)
    assert not is_queries_file(scored) and not is_queries_file(pairs_jsonl)


def test_faq_rows_merge_skip_and_add_with_counts(caplog):
    rows = [QueryRow("q1", ["a"]), QueryRow("q1", ["b"]), QueryRow("q2", ["q2"]), QueryRow("q3", [], ["a"])]
    kept, corpus, counts = faq_rows(rows, corpus=["a", "c"])
    assert [(r.query, r.positives) for r in kept] == [("q1", ["a", "b"])]
    assert corpus == ["a", "c", "b"]
    assert counts["duplicate queries merged"] == 1
    assert counts["positives equal to their query dropped"] == 1
    assert counts["queries without a positive skipped"] == 2
    assert counts["positives missing from the corpus added to it"] == 1
    assert "1 positives missing from the corpus added to it" in caplog.text
    with pytest.raises(Exception, match="holds no text"):
        faq_rows(rows, corpus=["  "])
    scored = queries_from_pairs([{"sentence1": "q", "sentence2": "p", "score": 1},
                                 {"sentence1": "q", "sentence2": "n", "score": 0}])
    merged, _, _ = faq_rows(scored)
    assert merged[0].positives == ["p"] and merged[0].negatives == ["n"]


def test_the_retrieval_judge_ranks_skips_the_query_itself_and_whitens():
    corpus = ["gold", "other", "query"]
    model = _Table({"gold": [1.0, 0.2], "other": [0.0, 1.0], "query": [1.0, 0.0]})
    judge = RetrievalJudge(corpus, metric="recall@1")
    rows = [QueryRow("query", ["gold"]), QueryRow("query", ["other"])]
    enc = judge.encode(model, [rows])
    assert model.normalize  # restored after encoding raw outputs
    assert judge.evidence(enc, 0, rows, None).tolist() == [1.0, 0.0]  # its own text (cosine 1) never counts
    evidence, figures = judge.measure(enc, 0, rows, None)
    assert evidence.tolist() == [1.0, 0.0]
    assert figures["recall@5"] == 100.0 and figures["mrr@10"] == pytest.approx(75.0)
    stat = judge.statistic(rows)
    assert stat(np.array([1.0, 0.0]), np.array([[0, 0], [1, 1]])).tolist() == [100.0, 0.0]
    with pytest.raises(Exception, match="unknown --metric"):
        RetrievalJudge(corpus, metric="map")


def test_query_recipes_train_on_query_positive_rows_with_mined_negatives_that_are_never_a_positive():
    from simsent.experiments.fit.config import FitRecipe

    corpus = ["p1", "p2", "n1", "n2"]
    model = _Table({"q": [1.0, 0.0], "p1": [1.0, 0.1], "p2": [0.9, 0.3], "n1": [0.8, 0.6], "n2": [0.0, 1.0]})
    judge = RetrievalJudge(corpus, mine_range_min=0, margin=0.0)
    rows = [QueryRow("q", ["p1", "p2"])]
    plain = judge.training_rows(FitRecipe.named("mnrl"), rows, model)
    assert plain == [{"anchor": "q", "positive": "p1"}, {"anchor": "q", "positive": "p2"}]
    hard = judge.training_rows(FitRecipe.named("mnrl-hard"), rows, model)
    assert [r["negative"] for r in hard] == ["n1", "n1"]  # p2 ranks above n1 but is the query's positive
    given = judge.training_rows(FitRecipe.named("mnrl-hard"), [QueryRow("q", ["p1"], ["n2"])], model)
    assert given[0]["negative"] == "n2"  # a negative from the user's file comes first
    pairs = judge.training_rows(FitRecipe.named("cosent"), [QueryRow("q", ["p1"], ["n2"])], model)
    assert [(r["sentence2"], r["score"]) for r in pairs] == [("p1", 1.0), ("n2", 0.0)]
    groups = judge.training_rows(FitRecipe.named("rerank"), [QueryRow("q", ["p1", "p2"], ["n2"])], model,
                                 negatives=3)
    # a reranker's group: the file's own negative first, then mined ones, never another positive
    assert [r["negatives"] for r in groups] == [["n2", "n1"], ["n2", "n1"]]


def test_fit_on_queries_end_to_end(tiny_bert, tmp_path, make_faq):
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import FaqDev, run_fit
    from simsent.modeling.sentence_encoder import SentenceEncoder

    rows, base = make_faq(60, 3)
    seen = {r.query for r in rows}
    audit = [r for r in make_faq(60, 1, edits=9)[0] if r.query not in seen][:30]
    dev = FaqDev.of(rows, base)
    cfg = FitConfig(model=tiny_bert, output=str(tmp_path / "faq"), poolings=["mean"], whiten_dims=[None],
                    max_len=16, min_supervised_pairs=100, refit=True)
    lines: list[str] = []
    result = run_fit(cfg, [], dev, echo=lines.append, audit_pairs=audit)
    board = result["leaderboard"]
    recipes = {r["recipe"] for r in board}
    assert {"raw", "mnrl", "mnrl-hard", "mnrl merged a=0.5", "whitening (k=32)"} <= recipes
    assert any("cosent not tried" in n for n in result["notes"])  # no negatives: nothing to score pairs with
    assert all(set(r["report_figures"]) >= {"recall@1", "mrr@10", "ndcg@10"} for r in board)
    assert [r["recipe"] for r in board if "audit" not in r or "selection_items" in r] == []
    config = result["provenance"]["config"]
    assert config["metric"] == "mrr@10" and config["items"] == "queries"
    assert config["split_sizes"]["train"] == 72 and "MRR@10" in result["markdown"]
    assert config["choice"]["rule"] == "max-stat"
    assert set(config["choice"]["rules"]) == {"best", "max-stat", "split"}
    saved = SentenceEncoder.load(str(tmp_path / "faq"))
    assert saved.extra_config["fit"]["recipe"] == result["winner"]["recipe"]
    card = (tmp_path / "faq" / "README.md").read_text(encoding="utf-8")
    assert "MRR@10" in card and "Retrieval on the report queries (x 100): Recall@1" in card
    assert any("queries searched in a corpus of" in line for line in lines)


def test_a_planted_better_candidate_on_queries_is_chosen_and_a_noisy_one_is_not(
    tiny_bert, tmp_path, monkeypatch
, make_faq):
    """The chooser through fit itself: a candidate whose queries all find their entry wins; one whose
    per-query figures are the start model's shuffled and nudged up leaves the start model in place."""
    import simsent.experiments.fit.cells as fit_cells
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import FaqDev, run_fit

    rows, base = make_faq(80, 3)
    dev = FaqDev.of(rows, base)
    original, original_encode = RetrievalJudge.evidence, RetrievalJudge.encode

    def fit(name, evidence_of):

        def planted(self, encoded, part, items, whitening):
            values = original(self, encoded, part, items, whitening)
            return evidence_of(values, encoded) if encoded.get("trained") else values

        def encode(self, model, parts):
            out = original_encode(self, model, parts)
            out["trained"] = getattr(model, "trained_marker", False)
            return out

        monkeypatch.setattr(RetrievalJudge, "evidence", planted)
        monkeypatch.setattr(RetrievalJudge, "encode", encode)
        def mark(model, rows, **kw):  # no training: the "trained" model is the start model, marked
            model.trained_marker = True
            return {"global_step": 0}

        monkeypatch.setattr(fit_cells, "train_in_place", mark)
        cfg = FitConfig(model=tiny_bert, output=str(tmp_path / name), poolings=["mean"], whiten_dims=[],
                        recipes=["raw", "mnrl"], merge_weights=[], max_len=16, min_supervised_pairs=100,
                        refit=False)
        return run_fit(cfg, [], dev, echo=lambda _m: None)

    rng = np.random.default_rng(0)
    better = fit("better", lambda v, e: np.ones_like(v))
    assert better["winner"]["recipe"] == "mnrl"
    # the start's own per-query values, shuffled among the queries and nudged up: it looks a little better
    # on the selection queries, and is no better at all
    noisy = fit("noisy", lambda v, e: np.minimum(v[rng.permutation(len(v))] + 0.02, 1.0))
    choice = noisy["provenance"]["config"]["choice"]
    assert noisy["winner"]["recipe"] == "raw" and (choice["kept_start"] or choice["best"] == choice["start"])


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--metric", "spearman"], "--metric spearman scores pairs"),
        (["--metric", "map@3"], "unknown --metric"),
        (["--choice-rule", "vote"], "unknown --choice-rule"),
        (["--merge-weights", "1.5"], "outside [0, 1]"),
        (["--corpus", "EMPTY"], "no usable line"),
        (["--corpus", "MISSING"], "not found"),
    ],
)
def test_fit_on_queries_refuses_bad_input_in_one_line(cli, tiny_bert, tmp_path, extra, message, make_faq):
    queries = tmp_path / "q.tsv"
    rows, base = make_faq(10, 1)
    queries.write_text("".join(f"{r.query}\t{r.positives[0]}\n" for r in rows), encoding="utf-8")
    (tmp_path / "empty.txt").write_text("\n \n", encoding="utf-8")
    extra = [{"EMPTY": str(tmp_path / "empty.txt"), "MISSING": str(tmp_path / "none.txt")}.get(e, e)
             for e in extra]
    r = cli("fit", "--model", tiny_bert, "--dev-file", str(queries), "--output", str(tmp_path / "o"), *extra)
    assert r.code == 2 and message in r.err and len(r.err.strip().splitlines()) == 1, r.err


def test_fit_cli_on_a_queries_file_and_a_corpus(cli, tiny_bert, tmp_path, make_faq):
    rows, base = make_faq(50, 3)
    queries = tmp_path / "queries.tsv"
    queries.write_text("query\tpositive\n" + "".join(f"{r.query}\t{r.positives[0]}\n" for r in rows),
                       encoding="utf-8")
    corpus = tmp_path / "faq.txt"
    corpus.write_text("\n".join(base[:-5]) + "\n", encoding="utf-8")  # 5 entries only in the queries file
    out = tmp_path / "run"
    r = cli("fit", "--model", tiny_bert, "--dev-file", str(queries), "--corpus", str(corpus), "--output",
            str(out), "--recipes", "raw,mnrl", "--poolings", "mean", "--whiten-dims", "all",
            "--max-len", "16", "--min-supervised-pairs", "60", "--metric", "recall@1")
    assert r.code == 0, r.err
    assert "selection Recall@1" in r.out and "what it means:" in r.out
    assert "note: 5 positives missing from the corpus added to it" in r.out
    board = json.loads((out / "leaderboard.json").read_text(encoding="utf-8"))["leaderboard"]
    assert {r["recipe"] for r in board} >= {"raw", "mnrl", "mnrl merged a=0.5"}
    assert os.path.isfile(out / "leaderboard.png") and os.path.isfile(out / "model.safetensors")


def test_the_faq_workflow_fit_eval_index_search(cli, tiny_bert, tmp_path, make_faq):
    """The README's FAQ commands, in order, on a tiny model: the fitted folder evaluates, indexes and
    answers a query with its standard question."""
    rows, base = make_faq(30, 2)
    queries = tmp_path / "faq_queries.tsv"
    queries.write_text("".join(f"{r.query}\t{r.positives[0]}\n" for r in rows), encoding="utf-8")
    corpus = tmp_path / "faq.txt"
    corpus.write_text("\n".join(base) + "\n", encoding="utf-8")
    out, index = tmp_path / "faq", tmp_path / "faq-index"
    assert cli("fit", "--model", tiny_bert, "--dev-file", str(queries), "--corpus", str(corpus), "--output",
               str(out), "--max-len", "16").code == 0
    r = cli("eval", str(out), "--queries", str(queries), "--corpus", str(corpus))
    assert r.code == 0 and "mrr@10" in r.out.lower(), r.err
    assert cli("index", "build", str(out), "--corpus", str(corpus), "--output", str(index)).code == 0
    r = cli("index", "search", str(index), base[3], "-k", "1", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out.splitlines()[0])["hits"][0]["text"] == base[3]


def test_a_task_becomes_faq_queries_with_a_retrieval_metric(cli, tiny_bert, data_dir, tmp_path):
    """``--dev-task BQ --metric recall@1``: the task's positive pairs are the queries, its negative pairs
    their negatives, every distinct sentence the corpus."""
    out = tmp_path / "bq"
    r = cli("fit", "--model", tiny_bert, "--dev-task", "BQ", "--data-dir", data_dir, "--metric", "recall@1",
            "--output", str(out), "--recipes", "raw", "--max-len", "16")
    assert r.code == 0, r.err
    config = json.loads((out / "leaderboard.json").read_text(encoding="utf-8"))["provenance"]["config"]
    assert config["items"] == "queries" and config["metric"] == "recall@1"
    assert config["corpus_size"] == 48 and "Recall@1" in r.out


def test_pairs_leave_query_recipes_out_and_merges_can_be_turned_off(tiny_bert, tmp_path):
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import run_fit

    rng = random.Random(3)
    pairs = []
    for i in range(40):
        a = "".join(rng.choice(WORDS) for _ in range(6))
        b = a[:-1] + rng.choice(WORDS) if i % 2 == 0 else "".join(rng.choice(WORDS) for _ in range(6))
        pairs.append({"sentence1": a, "sentence2": b, "score": float(i % 2 == 0)})
    texts = [p["sentence1"] for p in pairs]
    cfg = FitConfig(model=tiny_bert, output=str(tmp_path / "p"), recipes=["raw", "simcse", "mnrl"],
                    poolings=["mean"], whiten_dims=[], merge_weights=[], max_len=16, min_supervised_pairs=10)
    result = run_fit(cfg, texts, pairs, echo=lambda _m: None)
    assert [r["recipe"] for r in result["leaderboard"]].count("simcse merged a=0.5") == 0
    assert {r["recipe"] for r in result["leaderboard"]} == {"raw", "simcse"}
    assert any(n.startswith("mnrl not tried: it trains on (query, positive) rows") for n in result["notes"])
    assert result["provenance"]["config"]["metric"] == "spearman"


def test_the_matryoshka_recipe_trains_at_prefix_dimensions_and_the_model_records_them(tiny_bert, tmp_path,
                                                                                     make_faq):
    from simsent.experiments.fit.cells import train_family
    from simsent.experiments.fit.config import FitConfig, matryoshka_dims_of

    rows, base = make_faq(20, 2)
    cfg = FitConfig(model=tiny_bert, output=str(tmp_path / "m"), max_len=16)
    model, steps, _ = train_family(cfg, "mnrl-matryoshka", "mean", [], rows, RetrievalJudge(base))
    width = model.get_sentence_embedding_dimension()
    assert steps > 0 and model.extra_config["matryoshka_dims"] == matryoshka_dims_of(width)
    plain, _, _ = train_family(cfg, "mnrl", "mean", [], rows, RetrievalJudge(base))
    assert "matryoshka_dims" not in plain.extra_config


def test_a_family_given_its_rows_trains_as_on_the_rows_it_would_build(tiny_bert, tmp_path, make_faq):
    import torch

    from simsent.experiments.fit.cells import train_family
    from simsent.experiments.fit.config import FitConfig, FitRecipe
    from simsent.modeling.sentence_encoder import SentenceEncoder

    items, base = make_faq(20, 2)
    cfg = FitConfig(model=tiny_bert, output=str(tmp_path / "m"), max_len=16)
    judge = RetrievalJudge(base)
    start = SentenceEncoder.from_pretrained(tiny_bert, pooling="mean", max_len=16).eval()
    rows = judge.training_rows(FitRecipe.named("mnrl"), items, start)
    built, steps, _ = train_family(cfg, "mnrl", "mean", [], items, judge)
    given, given_steps, _ = train_family(cfg, "mnrl", "mean", [], [], judge, rows=rows)
    assert given_steps == steps > 0
    for (name, a), (_, b) in zip(built.named_parameters(), given.named_parameters(), strict=True):
        assert torch.allclose(a, b), name
