"""A Matryoshka prefix index (``index build --dim``): it holds the first d components of the model's
vectors, renormalised, searches with queries cut alike, round-trips, and refuses a d the model lacks;
``encode --dim`` gives the same prefix."""

from __future__ import annotations

import numpy as np
import pytest

from simsent.errors import ConfigError
from simsent.modeling.inputs import prefix_rows

TEXTS = ["今天天气不错", "今天天气很好", "我想去北京", "花呗怎么还款", "银行卡密码修改", "怎么还花呗",
         "北京天气"]


@pytest.fixture(scope="module")
def model(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    return SentenceEncoder.load(tiny_bert)


@pytest.mark.parametrize("backend", ["exact", "binary"])
def test_a_prefix_index_searches_the_cut_vectors_and_round_trips(model, tmp_path, backend):
    from simsent.search import VectorIndex

    full = model.encode(TEXTS, normalize_embeddings=True)
    index = VectorIndex.build(model, TEXTS, backend=backend, dim=16, show_progress_bar=False, engine="auto")
    assert index.dim == 16 and index.prefix_dim == 16 and index.model_info["dim"] == full.shape[1]
    cut = prefix_rows(full, 16)
    expected = np.argsort(-(cut @ cut[3]), kind="stable")[:3]
    hits = index.search(TEXTS[3], k=3, model=model)
    if backend == "exact":
        assert [int(p) for p in hits.positions[0]] == expected.tolist()
        np.testing.assert_allclose(hits.scores[0], np.sort(cut @ cut[3])[::-1][:3], atol=1e-5)
    assert hits.ids[0][0] == "3"
    by_vectors = index.search(full[3:4], k=3)  # the model's full vector is cut by the index itself
    assert by_vectors.ids == hits.ids
    index.save(str(tmp_path / "ix"))
    loaded = VectorIndex.load(str(tmp_path / "ix"), model=model)
    assert loaded.prefix_dim == 16 and loaded.search(TEXTS[3], k=3, model=model).ids == hits.ids
    with pytest.raises(ConfigError, match="--dim 99"):
        VectorIndex.build(model, TEXTS, dim=99, show_progress_bar=False)


def test_encode_and_index_build_take_dim_from_the_cli(tiny_bert, model, tmp_path, cli):
    texts = tmp_path / "t.txt"
    texts.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    r = cli("-q", "encode", tiny_bert, "--input", str(texts), "--output", str(tmp_path / "v.npy"),
            "--dim", "8", "--normalize")
    assert r.code == 0, r.err
    vecs = np.load(tmp_path / "v.npy")
    full = model.encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(vecs, prefix_rows(full, 8), atol=1e-5)
    r = cli("-q", "index", "build", tiny_bert, "--corpus", str(texts), "--output", str(tmp_path / "ix"),
            "--dim", "16")
    assert r.code == 0 and "16 dims" in r.out, r.err
    r = cli("-q", "index", "search", str(tmp_path / "ix"), TEXTS[3], "-k", "1", "--json")
    assert r.code == 0 and TEXTS[3] in r.out, r.err
    for args in (["encode", tiny_bert, "--input", str(texts), "--output", str(tmp_path / "w.npy"), "--dim",
                  "999"],
                 ["index", "build", tiny_bert, "--corpus", str(texts), "--output", str(tmp_path / "iy"),
                  "--dim", "999"]):
        r = cli(*args)
        assert r.code == 2 and "--dim 999" in r.err and len(r.err.strip().splitlines()) == 1, r.err
