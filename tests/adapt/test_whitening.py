"""BERT-whitening against the textbook numpy formulas, rank deficiency, and the ST round trip."""

from __future__ import annotations

import numpy as np
import pytest

from simsent.adapt.whitening import apply_whitening, fit_whitening
from simsent.errors import ConfigError, DataError


def _reference(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Su et al.'s code, written out: mu, cov, svd, W = U diag(1/sqrt(S))."""
    mu = x.mean(axis=0, keepdims=True)
    cov = np.cov(x.T)
    u, s, _ = np.linalg.svd(cov)
    w = np.dot(u, np.diag(1 / np.sqrt(s)))
    return w[:, :k], mu[0]


def _align_signs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SVD columns are defined up to sign: flip a's columns to match b's."""
    return a * np.sign(np.sum(a * b, axis=0))


@pytest.mark.parametrize("k", [None, 3])
def test_matches_reference_formula(k):
    x = np.random.default_rng(0).normal(size=(40, 6)) @ np.random.default_rng(1).normal(size=(6, 6)) + 3.0
    W, mu = fit_whitening(x, dim=k, eps=0.0)
    W_ref, mu_ref = _reference(x, k or 6)
    np.testing.assert_allclose(mu, mu_ref, rtol=1e-12)
    np.testing.assert_allclose(_align_signs(W, W_ref), W_ref, rtol=1e-8, atol=1e-10)
    y = apply_whitening(x, W, mu)
    # explicit loop: y_i = (x_i - mu) W
    for i in range(len(x)):
        np.testing.assert_allclose(y[i], (x[i] - mu_ref) @ W, rtol=1e-10, atol=1e-10)
    # whitened corpus: zero mean, identity covariance
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(np.cov(y.T), np.eye(W.shape[1]), atol=1e-8)


def test_default_eps_is_close_to_formula_on_full_rank():
    x = np.random.default_rng(2).normal(size=(50, 5))
    W, mu = fit_whitening(x)
    W_ref, _ = _reference(x, 5)
    np.testing.assert_allclose(np.abs(W), np.abs(W_ref), rtol=1e-5)


def test_rank_deficient_is_finite_and_warns(caplog, monkeypatch):
    import simsent.adapt.whitening as whitening_module

    monkeypatch.setattr(whitening_module, "_WARNED", set())
    x = np.random.default_rng(3).normal(size=(4, 10)).astype(np.float32)  # 4 sentences, 10 dims
    W, mu = fit_whitening(x)
    assert np.all(np.isfinite(W)) and np.all(np.isfinite(mu))
    assert np.all(np.isfinite(apply_whitening(x, W, mu)))
    assert "exceeds the corpus rank" in caplog.text
    caplog.clear()
    fit_whitening(x)  # said once per run
    assert "exceeds the corpus rank" not in caplog.text
    # within the rank, the leading directions are still whitened
    W3, mu3 = fit_whitening(x, dim=3)
    np.testing.assert_allclose(np.cov(apply_whitening(x, W3, mu3).T), np.eye(3), atol=1e-4)


def test_rank_deficient_with_eps_zero_is_a_clear_error():
    x = np.random.default_rng(4).normal(size=(4, 10))
    with pytest.raises(DataError, match="singular"):
        fit_whitening(x, eps=0.0)


def test_bad_inputs():
    with pytest.raises(DataError):
        fit_whitening(np.ones((1, 3)))
    with pytest.raises(DataError, match="zero variance"):
        fit_whitening(np.ones((5, 3)))
    with pytest.raises(ConfigError):
        fit_whitening(np.random.default_rng(0).normal(size=(5, 3)), dim=4)
    with pytest.raises(DataError):
        fit_whitening(np.array([[np.nan, 1.0], [1.0, 2.0]]))


SENTS = ["今天天气不错", "今天天气很好", "我想去北京", "我想去上海", "银行卡怎么办理", "花呗额度为何不能用",
         "怎么修改密码", "手机号码修改", "借钱还款", "你们吃饭了没", "他在喝水", "她们去上海吃饭",
         "为什么不能开通花呗", "天气怎么样", "还款怎么办", "我在北京", "上海天气很好", "修改银行卡密码",
         "他们不能借钱", "手机没有开通", "我们去喝水", "额度是什么", "今天吃什么", "北京上海",
         "怎么开通", "不错很好", "你是谁", "他是我们的", "好", "银行",
         "密码不对", "开通额度", "吃饭喝水", "天气", "今天不好", "我想借钱", "花呗还款", "北京天气",
         "上海银行", "修改手机号"]


def test_whiten_model_st_round_trip(tiny_bert, tmp_path):
    from sentence_transformers import SentenceTransformer

    from simsent.adapt.whitening import whiten_model
    from simsent.modeling.sentence_encoder import SentenceEncoder

    for pooling in ("cls", "first_last_avg"):
        model = SentenceEncoder.from_pretrained(tiny_bert, pooling=pooling)
        raw = model.encode(SENTS)
        W, mu = fit_whitening(raw, dim=5)  # the random tiny BERT has rank ~7 here
        whiten_model(model, SENTS, dim=5)
        assert model.get_sentence_embedding_dimension() == 5
        expected = apply_whitening(raw, W, mu)
        np.testing.assert_allclose(model.encode(SENTS), expected, atol=1e-4, rtol=1e-4)
        out = tmp_path / pooling
        model.save(str(out))
        st = SentenceTransformer(str(out), device="cpu")
        np.testing.assert_allclose(st.encode(SENTS), expected, atol=1e-4, rtol=1e-4)
        again = SentenceEncoder.load(str(out))
        np.testing.assert_allclose(again.encode(SENTS), expected, atol=1e-4, rtol=1e-4)


def test_whiten_model_with_normalize_fits_before_normalisation(tiny_bert):
    from simsent.adapt.whitening import whiten_model
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(tiny_bert, pooling="cls")
    raw = model.encode(SENTS)
    model.normalize = True
    whiten_model(model, SENTS, dim=4)
    W, mu = fit_whitening(raw, dim=4)
    y = apply_whitening(raw, W, mu)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    np.testing.assert_allclose(model.encode(SENTS), y, atol=1e-4)
