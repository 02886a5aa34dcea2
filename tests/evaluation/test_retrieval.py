"""Retrieval metrics, the pairs -> retrieval builder and the evaluator."""

from __future__ import annotations

import numpy as np
import pytest

from simsent.errors import DataError
from simsent.evaluation.retrieval import RetrievalEvaluator, retrieval_from_pairs, retrieval_metrics


def test_metrics_by_hand():
    ranked = [["a", "b", "c"], ["b", "a", "c"], ["c", "b", "x"], ["x", "y", "z"]]
    m = retrieval_metrics(ranked, ["a", "a", {"a", "b"}, "q"], ks=(1, 2))
    assert m["recall@1"] == 25.0 and m["recall@2"] == 75.0
    assert m["mrr"] == pytest.approx(100 * (1 + 0.5 + 0.5 + 0) / 4)
    with pytest.raises(DataError):
        retrieval_metrics([["a"]], [])


def test_builder_uses_positive_pairs_and_all_sentences_as_corpus():
    rows = [
        {"sentence1": "q1", "sentence2": "d1", "score": 1},
        {"sentence1": "q1", "sentence2": "d2", "score": 1},
        {"sentence1": "q2", "sentence2": "d3", "score": 0},
        {"sentence1": "q3", "sentence2": "q3", "score": 1},  # identical pair: no query
    ]
    data = retrieval_from_pairs(rows)
    assert data.queries == ["q1"]
    assert {data.corpus[g] for g in data.gold[0]} == {"d1", "d2"}
    assert sorted(data.corpus.values()) == ["d1", "d2", "d3", "q1", "q2", "q3"]
    with pytest.raises(DataError, match="no positive pair"):
        retrieval_from_pairs([{"sentence1": "a", "sentence2": "b", "score": 0}])


class FakeModel:
    """Encodes each text as a fixed vector (lookup table)."""

    def __init__(self, table):
        self.table = table

    def encode(self, texts, batch_size=32, normalize_embeddings=False, **kw):
        v = np.array([self.table[t] for t in texts], dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True) if normalize_embeddings else v


def test_evaluator_ranks_and_excludes_self():
    rows = [
        {"sentence1": "q1", "sentence2": "d1", "score": 1},
        {"sentence1": "q2", "sentence2": "d2", "score": 1},
        {"sentence1": "x", "sentence2": "y", "score": 0},
    ]
    table = {
        "q1": [1, 0, 0],
        "d1": [0.9, 0.1, 0],
        "q2": [0, 1, 0],
        "d2": [0.1, 0.1, 1],
        "x": [0, 0.95, 0.05],
        "y": [0.5, 0.5, 0],
    }
    ev = RetrievalEvaluator.from_pairs(rows, name="toy")
    m = ev(FakeModel(table))
    # q1: d1 first (q1 itself excluded); q2: x, y, then ... d2 is rank 4 (x, y, d1 above it? check below)
    doc = {t: np.array(v) / np.linalg.norm(v) for t, v in table.items()}
    order = sorted((t for t in doc if t != "q2"), key=lambda t: -doc["q2"] @ doc[t])
    rank2 = order.index("d2") + 1
    assert m["recall@1"] == 50.0
    assert m["mrr"] == pytest.approx(100 * (1 + 1 / rank2) / 2)
    assert m["queries"] == 2 and m["corpus"] == 6 and ev.primary_metric == "mrr"


def test_evaluator_with_real_tiny_model(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    rows = [
        {"sentence1": "今天天气不错", "sentence2": "今天天气很好", "score": 1},
        {"sentence1": "花呗怎么还款", "sentence2": "银行卡密码修改", "score": 0},
    ]
    m = RetrievalEvaluator.from_pairs(rows)(SentenceEncoder.load(tiny_bert))
    assert set(m) >= {"recall@1", "recall@5", "recall@10", "mrr"} and 0 <= m["mrr"] <= 100


def test_mrr_at_10_and_ndcg_at_10_against_the_formulas():
    from simsent.data.retrieval import RetrievalData

    # one query, 12 documents on a circle: the k-th document is the k-th most similar
    angles = np.linspace(0.0, 1.5, 12)
    table = {"q": [1.0, 0.0], **{f"d{k}": [np.cos(a), np.sin(a)] for k, a in enumerate(angles)}}
    corpus = {str(k): f"d{k}" for k in range(12)}
    for gold, rr10, ndcg in (
        ({"2", "5"}, 1 / 3, (1 / np.log2(4) + 1 / np.log2(7)) / (1 / np.log2(2) + 1 / np.log2(3))),
        ({"11"}, 0.0, 0.0),  # rank 12: outside both cut-offs
    ):
        ev = RetrievalEvaluator(RetrievalData(["q"], [gold], corpus))
        m = ev(FakeModel(table))
        assert m["mrr@10"] == pytest.approx(100 * rr10) and m["ndcg@10"] == pytest.approx(100 * ndcg)
        per = ev.per_query(FakeModel(table))
        assert per["mrr@10"].shape == (1,) and per["recall@10"][0] == (rr10 > 0)
