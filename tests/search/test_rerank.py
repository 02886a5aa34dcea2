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


def test_the_blend_is_the_weighted_sum_of_standardised_scores_and_its_ends_are_each_stage():
    from simsent.errors import ConfigError
    from simsent.search.rerank import blended_scores

    cos, logits = np.array([[0.9, 0.8, 0.7, 0.1]]), np.array([[-1.0, 3.0, 0.5, 0.0]])

    def z(x):
        return (x - x.mean()) / x.std()

    np.testing.assert_allclose(blended_scores(cos, logits, 0.3), 0.3 * z(cos) + 0.7 * z(logits))
    np.testing.assert_array_equal(blended_scores(cos, logits, 0.0), logits)  # the reranker alone, unchanged
    assert np.argsort(-blended_scores(cos, logits, 1.0)[0]).tolist() == [0, 1, 2, 3]  # the first stage's
    assert blended_scores(np.array([[0.5, 0.5]]), np.array([[1.0, 2.0]]), 0.5).tolist() == [[-0.5, 0.5]]
    with pytest.raises(ConfigError, match="between 0 and 1"):
        blended_scores(cos, logits, 1.5)


def test_a_search_blends_at_the_weight_its_reranker_was_saved_with(parts, tmp_path):
    from simsent.modeling.cross_encoder import FIRST_STAGE_BLEND, CrossEncoder
    from simsent.search.rerank import blended_scores

    model, index, ce, folder = parts
    ce.extra_config[FIRST_STAGE_BLEND] = 0.5
    try:
        ce.save(str(tmp_path / "blended"))
    finally:
        ce.extra_config.pop(FIRST_STAGE_BLEND)
    saved = CrossEncoder.load(str(tmp_path / "blended"))
    assert saved.extra_config[FIRST_STAGE_BLEND] == 0.5
    query = ["花呗怎么还钱"]
    first = index.search(query, k=5, model=model)
    logits = saved.predict([(query[0], t) for t in first.texts[0]], apply_activation=False)
    order = np.argsort(-blended_scores(first.scores[0], logits, 0.5), kind="stable")[:3]
    got = rerank_results(first, query, saved, k=3)
    assert got.ids[0] == [first.ids[0][j] for j in order]
    np.testing.assert_allclose(got.scores[0], 1 / (1 + np.exp(-logits[order])), atol=1e-6)  # its own scores
    alone = rerank_results(first, query, saved, k=3, blend=0.0)
    assert alone.ids[0] == rerank_results(first, query, ce, k=3).ids[0]
