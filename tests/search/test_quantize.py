import numpy as np
import pytest

from simsent.errors import ConfigError
from simsent.search.quantize import dequantize_int8, int8_ranges, quantize, rescore


def _vecs(n=50, d=16, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


def test_binary_and_int8_agree_with_sentence_transformers():
    st = pytest.importorskip("sentence_transformers.quantization")
    x = _vecs()
    np.testing.assert_array_equal(quantize(x, "ubinary"), st.quantize_embeddings(x, precision="ubinary"))
    ours = quantize(x, "int8", int8_ranges(x)).astype(int)
    theirs = st.quantize_embeddings(x, precision="int8", calibration_embeddings=x).astype(int)
    assert np.abs(ours - theirs).max() <= 1  # they truncate, we round to the nearest step


def test_int8_round_trip_is_within_half_a_step_and_clips_outside_the_range():
    x = _vecs()
    ranges = int8_ranges(x)
    back = dequantize_int8(quantize(x, "int8", ranges), ranges)
    step = (ranges[1] - ranges[0]) / 255
    assert np.all(np.abs(back - x) <= step / 2 + 1e-6)
    assert quantize(x * 10, "int8", ranges).min() == -128


def test_rescoring_puts_the_true_neighbour_first():
    x = _vecs(200, 32, 1)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ranges = int8_ranges(x)
    codes = quantize(x, "int8", ranges)
    candidates = np.array([[5, 3, 7, -1], [9, 8, 1, 2]])
    scores, pos = rescore(x[[7, 1]], candidates, codes, ranges, k=2)
    assert pos[:, 0].tolist() == [7, 1] and np.allclose(scores[:, 0], 1.0, atol=0.02)
    scores, pos = rescore(x[[7, 1]], candidates, x, None, k=4)  # float32 vectors: exact cosines
    np.testing.assert_allclose(scores[1], np.sort(x[[9, 8, 1, 2]] @ x[1])[::-1], atol=1e-6)
    assert pos[0, 3] == -1 and np.isnan(scores[0, 3])


def test_bad_precisions_are_refused():
    with pytest.raises(ConfigError, match="unknown precision"):
        quantize(_vecs(), "int4")
    with pytest.raises(ConfigError, match="calibration"):
        quantize(_vecs(), "int8")
    with pytest.raises(ConfigError, match="divisible by 8"):
        quantize(_vecs(d=12), "ubinary")


def test_encode_writes_quantised_vectors(tiny_bert, tmp_path, cli):
    sents = tmp_path / "s.txt"
    sents.write_text("今天天气不错\n花呗怎么还款\n我想去北京\n", encoding="utf-8")
    full = tmp_path / "f.npy"
    assert cli("encode", tiny_bert, "--input", sents, "--output", full).code == 0
    r = cli("encode", tiny_bert, "-i", sents, "--output", tmp_path / "b.npy", "--precision-out", "ubinary")
    assert r.code == 0, r.err
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), quantize(np.load(full), "ubinary"))
    r = cli("encode", tiny_bert, "--input", sents, "--output", tmp_path / "i.npy", "--precision-out", "int8")
    assert r.code == 0 and np.load(tmp_path / "i.npy").dtype == np.int8
    assert np.load(tmp_path / "i.npy.ranges.npy").shape == (2, np.load(full).shape[1])
    bad = cli("encode", tiny_bert, "--input", sents, "--output", tmp_path / "x.npy", "--precision-out", "fp8")
    assert bad.code == 2 and "--precision-out" in bad.err
