"""Alignment and uniformity against direct double-loop formulas (Wang & Isola 2020)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simsent.evaluation.geometry import alignment, uniformity
from simsent.evaluation.sts import STSEvaluator, sts_metrics


def _unit(v: np.ndarray) -> np.ndarray:
    return v / math.sqrt(float(np.dot(v, v)))


def _alignment_loop(x: np.ndarray, y: np.ndarray) -> float:
    total = 0.0
    for i in range(len(x)):
        d = _unit(x[i]) - _unit(y[i])
        total += float(np.dot(d, d))
    return total / len(x)


def _uniformity_loop(x: np.ndarray, t: float = 2.0) -> float:
    vals = []
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            d = _unit(x[i]) - _unit(x[j])
            vals.append(math.exp(-t * float(np.dot(d, d))))
    return math.log(sum(vals) / len(vals))


def test_alignment_matches_loop():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 5)), rng.normal(size=(7, 5))
    assert alignment(x, y) == pytest.approx(_alignment_loop(x, y), rel=1e-10)
    assert alignment(x, 3.0 * x) == pytest.approx(0.0, abs=1e-12)  # scale-free: vectors are normalised
    assert alignment(x, -x) == pytest.approx(4.0)                   # opposite unit vectors: ||2u||^2
    assert math.isnan(alignment(x[:0], y[:0]))


@pytest.mark.parametrize("t", [2.0, 1.0])
def test_uniformity_matches_loop(t):
    x = np.random.default_rng(1).normal(size=(9, 4)).astype(np.float32)
    assert uniformity(x, t=t) == pytest.approx(_uniformity_loop(x.astype(np.float64), t), rel=1e-6)


def test_uniformity_bounds_and_sampling():
    e = np.eye(4)
    # orthonormal vectors: every pair at squared distance 2 -> log exp(-4) = -4
    assert uniformity(e) == pytest.approx(-4.0)
    # identical vectors: distance 0 -> log 1 = 0 (the worst possible value)
    assert uniformity(np.ones((5, 3))) == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(uniformity(np.ones((1, 3))))
    x = np.random.default_rng(2).normal(size=(60, 3))
    sub = uniformity(x, max_vectors=20, seed=0)
    assert sub == uniformity(x, max_vectors=20, seed=0)  # seeded
    assert abs(sub - uniformity(x)) < 0.5


def test_sts_metrics_geometry_uses_positive_pairs_only():
    rng = np.random.default_rng(3)
    v1, v2 = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    gold = [5.0, 1.0, 4.0, 0.0, 4.5, 2.0]
    m = sts_metrics(v1, v2, gold, positive_threshold=4.0)
    pos = [i for i, g in enumerate(gold) if g >= 4.0]
    assert m["alignment"] == pytest.approx(_alignment_loop(v1[pos], v2[pos]))
    assert m["uniformity"] == pytest.approx(_uniformity_loop(np.concatenate([v1, v2])))
    assert "alignment" not in sts_metrics(v1, v2, gold)


ROWS = [
    {"sentence1": "今天天气不错", "sentence2": "今天天气很好", "score": 1.0},
    {"sentence1": "我想去北京", "sentence2": "我想去上海", "score": 0.0},
    {"sentence1": "花呗额度为何不能用", "sentence2": "为什么花呗不能用", "score": 1.0},
    {"sentence1": "怎么修改密码", "sentence2": "银行卡怎么办理", "score": 0.0},
]


def test_geometry_is_logged_during_training(tiny_bert, tmp_path):
    """STSEvaluator metrics (alignment/uniformity included) land in the trainer's history."""
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    model = SentenceEncoder.from_pretrained(tiny_bert, pooling="cls", dropout=0.1)
    ev = STSEvaluator(ROWS, name="toy", positive_threshold=1.0)
    args = TrainingArguments(output_dir=str(tmp_path / "run"), batch_size=4, eval_steps=1, checkpoint_steps=0,
                             show_progress_bar=False, seed=0)
    texts = [s for r in ROWS for s in (r["sentence1"], r["sentence2"])]
    out = Trainer(model, args, texts, evaluator=ev).train()
    assert out["history"], "no evaluation recorded"
    for entry in out["history"]:
        assert {"step", "spearman", "alignment", "uniformity"} <= set(entry)
        assert 0.0 <= entry["alignment"] <= 4.0 and entry["uniformity"] <= 0.0
