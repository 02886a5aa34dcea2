"""Search with a rerank stage: the first stage's hits re-ordered by the cross-encoder's scores, each hit
keeping its cosine as retrieval_score; from the CLI with --rerank; refused without texts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simsent.errors import DataError
from simsent.search import VectorIndex
from simsent.search.rerank import rerank_results

TEXTS = ["今天天气不错", "今天天气很好", "我想去北京", "花呗怎么还款", "银行卡密码修改", "手机号码修改"]


@pytest.fixture(scope="module")
def parts(tiny_bert, tmp_path_factory):
    from simsent.modeling.cross_encoder import CrossEncoder
    from simsent.modeling.sentence_encoder import SentenceEncoder

    folder = tmp_path_factory.mktemp("rr")
    model = SentenceEncoder.load(tiny_bert)
    index = VectorIndex.build(model, TEXTS, show_progress_bar=False)
    index.save(folder / "ix")
    CrossEncoder.from_pretrained(tiny_bert, max_len=32, seed=2).save(str(folder / "ce"))
    return model, index, CrossEncoder.load(str(folder / "ce")), folder


def test_the_reranker_orders_the_first_stage_hits(parts):
    model, index, ce, _ = parts
    queries = ["花呗怎么还钱", "天气"]
    first = index.search(queries, k=5, model=model)
    got = rerank_results(first, queries, ce, k=3)
    for i, q in enumerate(queries):
        want = ce.predict([(q, t) for t in first.texts[i]])
        order = np.argsort(-want, kind="stable")[:3]
        assert got.ids[i] == [first.ids[i][j] for j in order]
        np.testing.assert_allclose(got.scores[i], want[order], atol=1e-6)
        hits = got.hits(i)
        assert [h["retrieval_score"] for h in hits] == pytest.approx(first.scores[i, order].tolist())


def test_an_index_without_texts_cannot_be_reranked(parts):
    _, _, ce, _ = parts
    bare = VectorIndex(4, engine="numpy")
    bare.add(np.eye(4))
    with pytest.raises(DataError, match="no texts"):
        rerank_results(bare.search(np.eye(4)[:1], k=2), ["q"], ce, k=1)


def test_index_search_reranks_from_the_cli(parts, cli):
    model, index, ce, folder = parts
    r = cli("index", "search", folder / "ix", "花呗怎么还钱", "-k", "2", "--rerank", folder / "ce",
            "--rerank-top", "4", "--json")
    assert r.code == 0, r.err
    hits = json.loads(r.out)["hits"]
    first = index.search(["花呗怎么还钱"], k=4, model=model)
    want = ce.predict([("花呗怎么还钱", t) for t in first.texts[0]])
    assert [h["text"] for h in hits] == [first.texts[0][j] for j in np.argsort(-want, kind="stable")[:2]]
    r = cli("index", "search", folder / "ix", "花呗", "--rerank", folder / "ix")
    assert r.code == 2 and "is not a cross-encoder folder" in r.err
