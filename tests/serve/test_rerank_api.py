"""``POST /rerank`` over real HTTP: the cross-encoder's ranking in text-embeddings-inference's shape
(infinity's ``documents`` too), top_n and return_text, the limits and the error shape of the others."""

from __future__ import annotations

import numpy as np
import pytest

QUERY = "花呗怎么还款"
TEXTS = ["我想去北京", "如何还花呗的钱", "今天天气很好"]


def test_the_ranking_is_the_cross_encoders_in_tei_shape(rerank_server):
    client, reranker = rerank_server
    want = reranker.predict([(QUERY, t) for t in TEXTS])
    body = client.post("/rerank", json={"query": QUERY, "texts": TEXTS}).json()
    assert [r["index"] for r in body] == list(np.argsort(-want, kind="stable"))
    np.testing.assert_allclose([r["score"] for r in body], np.sort(want)[::-1], atol=1e-5)
    assert all(set(r) == {"index", "score"} for r in body)
    top = client.post("/rerank", json={"query": QUERY, "documents": TEXTS, "top_n": 1, "return_text": True})
    assert top.status_code == 200 and top.json() == [{**body[0], "text": TEXTS[body[0]["index"]]}]


@pytest.mark.parametrize(("request_body", "where"), [
    ({"query": QUERY}, "texts (or documents)"),
    ({"query": QUERY, "texts": TEXTS, "documents": TEXTS}, "not both"),
    ({"query": QUERY, "texts": TEXTS * 2}, "texts"),           # over max_texts (4)
    ({"query": "x" * 21, "texts": TEXTS}, "query"),            # over max_chars (20)
    ({"query": "  ", "texts": TEXTS}, "blank"),
    ({"query": QUERY, "texts": TEXTS, "top_n": 0}, "top_n"),
    ({"query": QUERY, "texts": TEXTS, "k": 1}, "k"),           # an unknown field
])
def test_bad_bodies_are_422_with_one_detail_line(rerank_server, request_body, where):
    client, _ = rerank_server
    r = client.post("/rerank", json=request_body)
    assert r.status_code == 422 and where in r.json()["detail"], r.json()


def test_rerank_is_counted_and_absent_without_a_reranker(rerank_server, server):
    client, _ = rerank_server
    client.post("/rerank", json={"query": QUERY, "texts": TEXTS})
    assert 'path="/rerank",status="200"' in client.get("/metrics").text
    assert server.post("/rerank", json={"query": QUERY, "texts": TEXTS}).status_code == 404
