import numpy as np
import pytest
from scipy.stats import spearmanr

from simsent.evaluation.sts import STSEvaluator, cosine_scores, sts_metrics, summarize, to_markdown


def test_sts_metrics_is_spearman_of_cosine():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(20, 5)), rng.normal(size=(20, 5))
    gold = rng.uniform(0, 5, size=20)
    cos = np.array([x @ y / np.linalg.norm(x) / np.linalg.norm(y) for x, y in zip(a, b, strict=False)])
    np.testing.assert_allclose(cosine_scores(a, b), cos)
    m = sts_metrics(a, b, gold, positive_threshold=4.0)
    assert m["spearman"] == pytest.approx(spearmanr(cos, gold).statistic * 100)
    assert m["pairs"] == 20 and "alignment" in m and "uniformity" in m


def test_summary_weighted_by_pairs():
    s = summarize({"A": {"spearman": 10.0, "pairs": 1}, "B": {"spearman": 40.0, "pairs": 3}})
    assert s == {"mean_spearman": 25.0, "weighted_spearman": 32.5}
    assert "| mean |" in to_markdown({"A": {"spearman": 10.0, "pearson": 1.0, "pairs": 1}})


def test_evaluator_calls_encode_once_on_unique_sentences():
    calls = []

    class Fake:
        def encode(self, texts, batch_size=32, convert_to_numpy=True):
            calls.append(list(texts))
            return np.array([[1.0, len(t)] for t in texts])

    rows = [
        {"sentence1": "a", "sentence2": "bb", "score": 1},
        {"sentence1": "a", "sentence2": "ccc", "score": 0},
    ]
    out = STSEvaluator(rows, "toy")(Fake())
    assert calls == [["a", "bb", "ccc"]] and out["pairs"] == 2


def test_spearman_over_constant_labels_or_scores_is_undefined_and_says_why():
    from simsent.evaluation.sts import correlation_metrics, spearman_ci

    m = correlation_metrics(np.array([0.1, 0.5, 0.9]), [1, 1, 1])
    assert np.isnan(m["spearman"]) and "every label is 1" in m["undefined"]
    noise = np.array([0.7, 0.7 + 1e-8, 0.7 - 1e-8, 0.7])  # rounding noise of one vector, not a ranking
    m = correlation_metrics(noise, [0, 1, 2, 3])
    assert np.isnan(m["spearman"]) and "same similarity score" in m["undefined"]
    assert all(np.isnan(spearman_ci(noise, [0, 1, 2, 3])))  # no finite interval beside a NaN score
    md = to_markdown({"A": m})
    assert "A: spearman undefined: every pair got the same similarity score" in md
