"""fit's second stage and its Augmented SBERT candidate: the reranked ranks against a direct count, the
judge with an oracle reranker, the two-stage candidate chosen, saved with its reranker and timed, the
silver pairs as drawn, the gold pairs' scale, and the augsbert candidate trained end to end."""

from __future__ import annotations

import logging
import os
import random

import numpy as np

from simsent.data.retrieval import QueryRow
from simsent.experiments.fit.judges import RetrievalJudge

WORDS = list("今天天气不错很好我想去北京上海吃饭喝水你他她们的了是在有没什么怎么办理银行卡借钱还款花呗额度")


class _Oracle:
    """A reranker that knows the answers: 1 for a (query, positive) pair, 0 otherwise."""

    def __init__(self, rows: list[QueryRow]) -> None:
        self.gold = {(r.query, p) for r in rows for p in r.positives}
        self.saved_to: list[str] = []

    def predict(self, pairs, batch_size=32, show_progress_bar=None, apply_activation=True):
        return np.asarray([float(tuple(p) in self.gold) for p in pairs])

    def eval(self):
        return self

    def save(self, path):
        os.makedirs(path, exist_ok=True)
        self.saved_to.append(path)
        with open(os.path.join(path, "oracle.txt"), "w", encoding="utf-8") as f:
            f.write("oracle\n")


def test_reranked_ranks_match_a_direct_count():
    from simsent.evaluation.retrieval import rank_gold, reranked_ranks, top_candidates

    rng = np.random.default_rng(0)
    docs, queries = rng.normal(size=(30, 8)), rng.normal(size=(12, 8))
    gold = [sorted(rng.choice(30, size=2, replace=False).tolist()) for _ in range(12)]
    own = [int(i) for i in rng.integers(-1, 30, size=12)]
    own = [o if o not in g else -1 for o, g in zip(own, gold, strict=True)]
    tops = top_candidates(queries, docs, 5, own)
    scores = rng.normal(size=tops.shape)
    got = reranked_ranks(rank_gold(queries, docs, gold, own), tops, scores, gold)
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    sims = unit(queries) @ unit(docs).T
    for i in range(12):
        if own[i] >= 0:
            sims[i, own[i]] = -np.inf
        order = list(np.argsort(-sims[i], kind="stable"))
        assert set(order[:5]) == set(tops[i].tolist()) and own[i] not in tops[i]
        reordered = [int(tops[i][j]) for j in np.argsort(-scores[i], kind="stable")] + order[5:]
        assert got[i].tolist() == sorted(reordered.index(g) + 1 for g in gold[i])


def test_the_judge_with_an_oracle_reranker_finds_every_positive_inside_its_top_k(make_faq):
    rows, base = make_faq(30, 2)
    judge = RetrievalJudge(base, metric="recall@1")
    rng = np.random.default_rng(1)
    table = {t: rng.normal(size=16) for t in [*base, *(r.query for r in rows)]}

    class Table:
        normalize = True

        def encode(self, texts, batch_size=64, **_):
            return np.asarray([table[t] for t in texts])

    encoded = judge.encode(Table(), [rows])
    first, first_figures = judge.measure(encoded, 0, rows, None)
    after, figures, seconds = judge.reranked(encoded, 0, rows, _Oracle(rows), k=10)
    inside = judge._figures(encoded, 0, rows, None)["recall@10"]
    assert np.array_equal(after, inside)  # recall@1 after = the positive was among the top 10
    assert figures["recall@10"] == first_figures["recall@10"]  # ranks beyond the top 10 are the same
    assert after.mean() >= first.mean() and seconds >= 0
    kept, kept_figures, _ = judge.reranked(encoded, 0, rows, _Oracle(rows), k=10, blend=1.0)
    assert np.array_equal(kept, first) and kept_figures == first_figures  # all first stage: its own order


def test_the_two_stage_candidate_is_chosen_saved_with_its_reranker_and_timed(tiny_bert, tmp_path,
                                                                            monkeypatch, make_faq):
    import simsent.experiments.fit.reranking as reranking
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import FaqDev, run_fit
    from simsent.modeling.sentence_encoder import SentenceEncoder

    rows, base = make_faq(60, 3)
    oracle = _Oracle(rows)
    trained_on = []

    def train(cfg, judge, items, miner):
        trained_on.append(len(items))
        return oracle, 0

    monkeypatch.setattr(reranking, "train_fit_reranker", train)
    cfg = FitConfig(model=tiny_bert, output=str(tmp_path / "two"), poolings=["mean"], whiten_dims=[],
                    recipes=["raw", "rerank"], merge_weights=[], max_len=16, min_supervised_pairs=100,
                    rerank_top=30)
    lines: list[str] = []
    result = run_fit(cfg, [], FaqDev.of(rows, base), echo=lines.append)
    winner = result["winner"]
    assert winner["recipe"] == "raw + rerank top 30" and winner["family"] == "rerank"
    assert winner["rerank_ms"] >= 0 and len(trained_on) == 1
    assert trained_on[0] == result["provenance"]["config"]["split_sizes"]["train"]
    assert winner["selection"] > next(r["selection"] for r in result["leaderboard"] if r["recipe"] == "raw")
    assert os.path.isfile(tmp_path / "two" / "reranker" / "oracle.txt")  # the reranker beside the bi-encoder
    saved = SentenceEncoder.load(str(tmp_path / "two"))
    assert saved.extra_config["fit"]["reranker"] == {"folder": "reranker", "top_k": 30}
    assert "refit:" not in "\n".join(lines)  # a second stage is not retrained as a bi-encoder
    assert "--rerank" in (tmp_path / "two" / "README.md").read_text(encoding="utf-8")
    assert "+ ms a query" in (tmp_path / "two" / "leaderboard.md").read_text(encoding="utf-8")


def test_the_rerank_candidate_trains_a_real_reranker_and_is_left_out_on_pairs(tiny_bert, tmp_path, make_faq):
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import FaqDev, run_fit

    rows, base = make_faq(50, 3)
    cfg = FitConfig(model=tiny_bert, output=str(tmp_path / "real"), poolings=["mean"], whiten_dims=[],
                    recipes=["raw", "mnrl", "rerank"], merge_weights=[], max_len=16,
                    min_supervised_pairs=100, rerank_top=5)
    result = run_fit(cfg, [], FaqDev.of(rows, base), echo=lambda _m: None)
    two = [r for r in result["leaderboard"] if r["family"] == "rerank"]
    best_bi = max((r for r in result["leaderboard"] if r["family"] != "rerank"), key=lambda r: r["selection"])
    stages = f"{best_bi['recipe']} + rerank top 5"
    assert sorted(r["recipe"] for r in two) == [stages, f"{stages}, blend 0.5"]  # one reranker, two orders
    for row in two:
        assert row["train_steps"] > 0 and row["rerank_ms"] > 0
        assert set(row["report_figures"]) >= {"recall@1", "mrr@10"}
    pairs = [{"sentence1": r.query, "sentence2": r.positives[0], "score": float(i % 2)}
             for i, r in enumerate(rows)]
    on_pairs = run_fit(FitConfig(model=tiny_bert, output=str(tmp_path / "pairs"), poolings=["mean"],
                                 whiten_dims=[], recipes=["raw", "rerank"], max_len=16,
                                 min_supervised_pairs=100),
                       [r.query for r in rows], pairs, echo=lambda _m: None)
    assert any("rerank not tried: it re-orders a search's hits" in n for n in on_pairs["notes"])


def test_silver_pairs_are_neighbours_and_a_random_partner_distinct_and_scored():
    from simsent.adapt.augsbert import silver_pairs

    texts = [f"t{i}" for i in range(40)]
    vectors = {t: np.eye(40)[i] + np.eye(40)[(i + 1) % 40] * 0.5 for i, t in enumerate(texts)}

    class Table:
        def encode(self, batch, batch_size=64, normalize_embeddings=False, **_):
            v = np.asarray([vectors[t] for t in batch])
            return v / np.linalg.norm(v, axis=1, keepdims=True)

    class Length:
        def predict(self, pairs, batch_size=32, show_progress_bar=None, apply_activation=True):
            return np.asarray([len(a + b) / 10 for a, b in pairs])

    rows = silver_pairs(texts, Table(), Length(), per_text=2, max_pairs=30, seed=3, skip=[("t1", "t2")])
    keys = [frozenset((r["sentence1"], r["sentence2"])) for r in rows]
    assert 0 < len(rows) <= 30 and len(set(keys)) == len(keys)
    assert frozenset(("t1", "t2")) not in keys and all(r["sentence1"] != r["sentence2"] for r in rows)
    assert all(r["score"] == len(r["sentence1"] + r["sentence2"]) / 10 for r in rows)
    # every sampled text's two nearest neighbours (itself excluded) are among its pairs
    for a in {r["sentence1"] for r in rows}:
        i = int(a[1:])
        mine = {r["sentence2"] for r in rows if r["sentence1"] == a} | {
            r["sentence1"] for r in rows if r["sentence2"] == a}
        assert {f"t{(i + 1) % 40}", f"t{(i - 1) % 40}"} <= mine | ({"t2"} if a == "t1" else set()) | (
            {"t1"} if a == "t2" else set())
    assert silver_pairs(["only"], Table(), Length()) == []


def test_gold_pairs_share_the_silver_scale():
    from simsent.experiments.fit.silver import gold_pairs

    pairs = [{"sentence1": a, "sentence2": b, "score": s} for a, b, s in (("a", "b", 5.0), ("a", "c", 1.0),
                                                                          ("b", "c", 3.0))]
    assert [r["score"] for r in gold_pairs(None, pairs, None)] == [1.0, 0.0, 0.5]
    judge = RetrievalJudge(["p1", "n1", "x"], metric="mrr@10")
    class Table:
        def encode(self, texts, batch_size=64, **_):
            return np.asarray([[1.0, len(t)] for t in texts])

    rows = gold_pairs(judge, [QueryRow("q", ["p1"], ["n1"])], Table())  # the file's negative, not a mined one
    assert [(r["sentence2"], r["score"]) for r in rows] == [("p1", 1.0), ("n1", 0.0)]


def test_the_augsbert_candidate_trains_on_gold_and_silver_pairs(tiny_bert, tmp_path, monkeypatch, caplog):
    import simsent.experiments.fit.cells as fit_cells
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import run_fit

    rng = random.Random(0)
    pairs = []
    for i in range(120):
        a = "".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9)))
        b = a[:-1] + rng.choice(WORDS) if i % 2 == 0 else "".join(rng.choice(WORDS) for _ in range(6))
        pairs.append({"sentence1": a, "sentence2": b, "score": float(i % 2 == 0)})
    texts = list(dict.fromkeys(t for p in pairs for t in (p["sentence1"], p["sentence2"])))
    seen = []
    original = fit_cells.train_in_place

    def spy(model, rows, **kw):
        seen.append((kw["objective"], len(rows), rows[-1]))
        return original(model, rows, **kw)

    monkeypatch.setattr(fit_cells, "train_in_place", spy)
    cfg = FitConfig(model=tiny_bert, output=str(tmp_path / "aug"), poolings=["mean"], whiten_dims=[],
                    recipes=["raw", "augsbert"], merge_weights=[], max_len=16, min_supervised_pairs=100,
                    silver_pairs=60, refit=False)
    with caplog.at_level(logging.INFO, logger="simsent.adapt.augsbert"):
        result = run_fit(cfg, texts, pairs, echo=lambda _m: None)
    assert {r["recipe"] for r in result["leaderboard"]} == {"raw", "augsbert"}
    objective, n, last = seen[0]
    train = result["provenance"]["config"]["split_sizes"]["train"]
    assert objective == "cosent" and train < n <= train + 60 and 0 <= last["score"] <= 1
    assert any("silver pairs" in m for m in caplog.messages)


def test_the_augsbert_candidate_runs_on_faq_queries_too(tiny_bert, tmp_path, make_faq, monkeypatch):
    """On queries, gold rows are each query's positive at 1 and a mined negative at 0; silver pairs come from
    the corpus (the unlabelled text of a queries fit)."""
    import simsent.experiments.fit.cells as fit_cells
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import FaqDev, run_fit

    rows, base = make_faq(50, 3)
    seen = []
    original = fit_cells.train_in_place

    def spy(model, rows, **kw):
        seen.append(rows)
        return original(model, rows, **kw)

    monkeypatch.setattr(fit_cells, "train_in_place", spy)
    cfg = FitConfig(model=tiny_bert, output=str(tmp_path / "aug"), poolings=["mean"], whiten_dims=[],
                    recipes=["raw", "augsbert"], merge_weights=[], max_len=16, min_supervised_pairs=100,
                    silver_pairs=40, refit=False)
    result = run_fit(cfg, [], FaqDev.of(rows, base), echo=lambda _m: None)
    assert {r["recipe"] for r in result["leaderboard"]} == {"raw", "augsbert"}
    trained = seen[0]
    gold = [r for r in trained if r["score"] in (0.0, 1.0) and r["sentence1"] in {q.query for q in rows}]
    assert {r["score"] for r in gold} == {0.0, 1.0}
    silver = trained[len(gold):]
    assert 0 < len(silver) <= 40 and all(r["sentence1"] in base and r["sentence2"] in base for r in silver)


def test_the_reranker_starts_from_reranker_model_keeping_its_trained_head(tiny_bert, tmp_path, monkeypatch,
                                                                          make_faq):
    import torch

    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.reranking import train_fit_reranker
    from simsent.modeling.cross_encoder import CrossEncoder
    from simsent.modeling.sentence_encoder import SentenceEncoder

    folder = str(tmp_path / "pretrained-reranker")
    CrossEncoder.from_pretrained(tiny_bert, max_len=32, seed=7).save(folder)
    heads_at_start, load = [], CrossEncoder.from_pretrained

    def spy(path, **kwargs):
        ce = load(path, **kwargs)
        heads_at_start.append((path, ce.model.classifier.weight.detach().clone()))
        return ce

    monkeypatch.setattr(CrossEncoder, "from_pretrained", staticmethod(spy))
    rows, base = make_faq(20, 2)
    cfg = FitConfig(model=tiny_bert, output=str(tmp_path / "o"), max_len=16, reranker_model=folder)
    miner = SentenceEncoder.from_pretrained(tiny_bert, pooling="mean", max_len=16)
    _, steps = train_fit_reranker(cfg, RetrievalJudge(base), rows, miner)
    assert steps > 0 and [p for p, _ in heads_at_start] == [folder]
    torch.testing.assert_close(heads_at_start[0][1], load(folder).model.classifier.weight)
    cfg = FitConfig(model=tiny_bert, output=str(tmp_path / "o"), max_len=16)
    train_fit_reranker(cfg, RetrievalJudge(base), rows, miner)
    assert heads_at_start[-1][0] == tiny_bert  # without it: the start model, a new head


def test_a_reranker_model_without_a_candidate_that_uses_it_is_refused(tiny_bert, tmp_path, make_faq):
    import pytest

    from simsent.errors import ConfigError
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import FaqDev, run_fit

    rows, base = make_faq(20, 2)
    cfg = FitConfig(model=tiny_bert, output=str(tmp_path / "o"), recipes=["raw", "mnrl"], max_len=16,
                    reranker_model=tiny_bert)
    with pytest.raises(ConfigError, match="neither is in --recipes"):
        run_fit(cfg, [], FaqDev.of(rows, base), echo=lambda _m: None)
