"""VectorIndex: backends agree with exact search, save/load round trip, model identity, corpus formats."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from simsent.errors import ConfigError, DataError
from simsent.modeling.sentence_encoder import model_fingerprint
from simsent.search import VectorIndex, iter_corpus

faiss = pytest.importorskip("faiss")

TEXTS = [
    "今天天气不错",
    "今天天气很好",
    "我想去北京",
    "花呗怎么还款",
    "银行卡密码修改",
    "手机号码修改",
    "花呗额度为何不能用",
    "我们去上海吃饭",
    "他在喝水",
    "怎么办理银行卡",
]


@pytest.fixture(scope="module")
def model_dir(tiny_bert):
    return tiny_bert


@pytest.fixture(scope="module")
def model(model_dir):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    return SentenceEncoder.load(model_dir)


def _vectors(n=600, d=16, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


@pytest.mark.parametrize(
    "backend,engine,kw",
    [
        ("exact", "faiss", {}),
        ("exact", "numpy", {}),
        ("hnsw", "auto", {}),
        ("ivfpq", "auto", {"refine": 8}),
        ("binary", "auto", {"rescore": 30}),  # 16 sign bits rank coarsely: a wide first stage
    ],
)
def test_backends_find_exact_neighbours(backend, engine, kw):
    x = _vectors()
    exact = VectorIndex(16, engine="numpy")
    idx = VectorIndex(16, backend=backend, engine=engine, **kw)
    for start in range(0, len(x), 200):  # added in several batches
        exact.add(x[start : start + 200])
        idx.add(x[start : start + 200])
    q = x[:20] + 0.05 * _vectors(20, 16, 1)
    want = exact.search(q, k=5)
    got = idx.search(q, k=5)
    assert got.scores.shape == (20, 5)
    assert [r[0] for r in got.ids] == [str(i) for i in range(20)]  # the perturbed original is top-1
    overlap = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(want.ids, got.ids, strict=True)])
    assert overlap >= 0.8
    assert np.all(np.diff(got.scores, axis=1) <= 1e-6)  # best first


def test_numpy_search_matches_brute_force_and_pads():
    x = _vectors(7, 4)
    idx = VectorIndex(4, engine="numpy")
    idx.add(x, ids=list("abcdefg"))
    res = idx.search(x[:2], k=10)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert res.ids[0][0] == "a" and len(res.ids[0]) == 7
    np.testing.assert_allclose(res.scores[0, :7], np.sort(unit @ unit[0])[::-1], atol=1e-5)
    assert np.isnan(res.scores[0, 7:]).all() and (res.positions[0, 7:] == -1).all()


def test_add_rejects_bad_input():
    idx = VectorIndex(4)
    idx.add(np.eye(4), ids=["a", "b", "c", "d"])
    with pytest.raises(DataError, match="duplicate id"):
        idx.add(np.eye(4)[:1], ids=["a"])
    with pytest.raises(DataError, match="shape"):
        idx.add(np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="unknown index backend"):
        VectorIndex(4, backend="annoy")
    with pytest.raises(ConfigError, match="needs faiss"):
        VectorIndex(4, backend="hnsw", engine="numpy")


def test_missing_faiss_gives_clear_error(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "faiss":
            raise ImportError("no faiss")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ConfigError, match=r"pip install simsent\[faiss\]"):
        VectorIndex(4, backend="hnsw")
    idx = VectorIndex(4)  # exact falls back to NumPy
    assert idx.engine == "numpy"
    idx.add(np.eye(4))
    assert idx.search(np.eye(4)[:1], k=1).ids == [["0"]]


@pytest.mark.parametrize("backend", ["exact", "hnsw", "ivfpq", "binary"])
def test_build_save_load_search_texts(model, tmp_path, backend):
    corpus = tmp_path / "faq.jsonl"
    corpus.write_text(
        "\n".join(
            json.dumps({"id": f"q{i}", "text": t, "answer": f"a{i}"}, ensure_ascii=False)
            for i, t in enumerate(TEXTS)
        )
        + "\n",
        encoding="utf-8",
    )
    extra = {"refine": 4} if backend == "ivfpq" else {}  # PQ codes of 10 rows are too coarse alone
    idx = VectorIndex.build(
        model, str(corpus), backend=backend, chunk_size=3, show_progress_bar=False, **extra
    )
    assert len(idx) == len(TEXTS)
    idx.save(tmp_path / "ix")
    assert sorted(os.listdir(tmp_path / "ix"))[0] == "index.json"
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]  # nothing half-written left
    loaded = VectorIndex.load(tmp_path / "ix", model=model)
    res = loaded.search(["花呗怎么还款", "今天天气不错"], k=3, model=model)
    assert res.ids[0][0] == "q3" and res.ids[1][0] == "q0"
    hit = res.hits(0)[0]
    assert (
        hit["text"] == "花呗怎么还款"
        and hit["payload"] == {"answer": "a3"}
        and hit["score"] == pytest.approx(1, abs=1e-3)
    )
    # add more and save over the existing folder
    loaded.add_texts(model, ["我想去北京上海"], show_progress_bar=False)
    loaded.save(tmp_path / "ix")
    assert len(VectorIndex.load(tmp_path / "ix")) == len(TEXTS) + 1


def test_other_model_is_refused(model, model_dir, tmp_path):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    idx = VectorIndex.build(model, TEXTS, show_progress_bar=False)
    assert idx.model_info["fingerprint"] == model_fingerprint(model)
    other = SentenceEncoder.load(model_dir, pooling="cls")
    with pytest.raises(ConfigError, match="another model"):
        idx.search(["今天天气不错"], model=other)
    idx.save(tmp_path / "ix")
    with pytest.raises(ConfigError, match="another model"):
        VectorIndex.load(tmp_path / "ix", model=other)
    with pytest.raises(ConfigError, match="needs the model"):
        idx.search(["今天天气不错"])


def test_failed_save_keeps_previous_index(tmp_path, monkeypatch):
    idx = VectorIndex(4, engine="numpy")
    idx.add(np.eye(4))
    idx.save(tmp_path / "ix")
    idx.add(np.ones((1, 4)))
    monkeypatch.setattr(np, "save", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        idx.save(tmp_path / "ix")
    assert len(VectorIndex.load(tmp_path / "ix")) == 4
    assert sorted(os.listdir(tmp_path)) == ["ix"]


def test_corpus_formats(tmp_path):
    (tmp_path / "a.txt").write_text("一\n\n二\n", encoding="utf-8")
    assert [(r["id"], r["text"]) for r in iter_corpus(tmp_path / "a.txt")] == [(None, "一"), (None, "二")]
    (tmp_path / "b.csv").write_text("id,text,tag\nx,你好,greet\ny,,bad\n", encoding="utf-8")
    assert list(iter_corpus(tmp_path / "b.csv")) == [{"id": "x", "text": "你好", "payload": {"tag": "greet"}}]
    (tmp_path / "c.jsonl").write_text('{"text": "好"}\nnot json\n', encoding="utf-8")
    assert [r["text"] for r in iter_corpus(tmp_path / "c.jsonl")] == ["好"]
    (tmp_path / "d.csv").write_text("question_id,body\n1,x\n", encoding="utf-8")
    with pytest.raises(DataError, match="text"):
        list(iter_corpus(tmp_path / "d.csv"))
    with pytest.raises(DataError, match="not found"):
        list(iter_corpus(tmp_path / "missing.txt"))


def test_binary_index_keeps_32x_smaller_codes_and_memory_maps_its_rescoring_vectors(tmp_path):
    x = _vectors(300, 64, 3)
    idx = VectorIndex(64, backend="binary", train_size=100)
    idx.add(x)
    idx.save(tmp_path / "b")
    loaded = VectorIndex.load(tmp_path / "b")
    assert isinstance(loaded.vectors.codes[0], np.memmap) and loaded.vectors.codes[0].dtype == np.int8
    assert loaded.vectors.index.code_size * 32 == 64 * 4  # 8 bytes of sign bits per 256-byte float32 vector
    res = loaded.search(x[:5], k=3)
    assert [r[0] for r in res.ids] == ["0", "1", "2", "3", "4"]
    assert np.allclose(res.scores[:, 0], 1.0, atol=0.02)  # the int8 cosine of a vector with itself


def test_binary_index_rescored_with_float32_gives_exact_scores_for_its_candidates(tmp_path):
    x = _vectors(300, 64, 4)
    idx = VectorIndex(64, backend="binary", rescore=100, rescore_with="float32")  # every row a candidate
    idx.add(x)
    idx.save(tmp_path / "f")
    assert not (tmp_path / "f" / "int8_ranges.npy").exists()
    loaded = VectorIndex.load(tmp_path / "f")
    assert isinstance(loaded.vectors.codes[0], np.memmap) and loaded.vectors.codes[0].dtype == np.float32
    exact = VectorIndex(64)
    exact.add(x)
    q = _vectors(7, 64, 5)
    got, want = loaded.search(q, k=3), exact.search(q, k=3)
    assert got.ids == want.ids
    np.testing.assert_allclose(got.scores, want.scores, atol=1e-5)
    with pytest.raises(ConfigError, match="rescore_with"):
        VectorIndex(64, backend="binary", rescore_with="int4")


def test_mean_thresholds_keep_the_bits_of_vectors_that_share_a_direction(tmp_path):
    rng = np.random.default_rng(6)
    x = 3.0 * np.ones(64, np.float32) + rng.standard_normal((2000, 64)).astype(np.float32)  # all in one cone
    q = x[:50] + 0.3 * rng.standard_normal((50, 64)).astype(np.float32)
    truth = VectorIndex(64)
    truth.add(x)
    want = truth.search(q, k=10).positions

    def found(threshold):
        idx = VectorIndex(64, backend="binary", rescore=4, binary_threshold=threshold, train_size=500)
        idx.add(x)
        idx.save(tmp_path / threshold)
        got = VectorIndex.load(tmp_path / threshold).search(q, k=10).positions
        return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, want, strict=True)])

    assert found("mean") > found("zero") + 0.2  # plain signs of a shifted cloud are nearly all 1


def test_a_binary_index_written_before_thresholds_loads_with_plain_signs(tmp_path):
    x = _vectors(300, 64, 7)
    idx = VectorIndex(64, backend="binary", binary_threshold="zero", train_size=100)
    idx.add(x)
    idx.save(tmp_path / "old")
    cfg = json.loads((tmp_path / "old" / "index.json").read_text(encoding="utf-8"))
    del cfg["params"]["binary_threshold"]
    (tmp_path / "old" / "index.json").write_text(json.dumps(cfg), encoding="utf-8")
    (tmp_path / "old" / "vectors_binary_thresholds.npy").unlink()
    old = VectorIndex.load(tmp_path / "old")
    assert old.params["binary_threshold"] == "zero" and not old.vectors.thresholds.any()
    assert old.search(x[:5], k=1).positions[:, 0].tolist() == [0, 1, 2, 3, 4]
