import math

import pytest
import torch

from simsent.errors import DataError
from simsent.losses.supervised_simcse import SupervisedSimCSELoss


def _cos(a, b):
    return float(torch.dot(a, b) / (a.norm() * b.norm()))


def direct(a, p, n, t, w, margin=None):
    total = 0.0
    for i in range(len(a)):
        own = _cos(a[i], p[i])

        def kept(c, j, is_positive, i=i, own=own):  # the guard: candidates above own - margin left out
            return margin is None or (is_positive and j == i) or c <= own - margin

        denom = sum(math.exp(_cos(a[i], p[j]) / t) for j in range(len(p)) if kept(_cos(a[i], p[j]), j, True))
        denom += sum(
            math.exp(_cos(a[i], n[j]) / t + (w if j == i else 0.0))
            for j in range(len(n))
            if kept(_cos(a[i], n[j]), j, False)
        )
        total += -math.log(math.exp(own / t) / denom)
    return total / len(a)


@pytest.mark.parametrize("w", [0.0, 1.5])
def test_matches_direct_formula(w):
    torch.manual_seed(0)
    a, p, n = (torch.randn(5, 7, dtype=torch.float64) for _ in range(3))
    got = SupervisedSimCSELoss.compute(a, p, n, temperature=0.05, hard_negative_weight=w).item()
    assert got == pytest.approx(direct(a, p, n, 0.05, w), rel=1e-9)


@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_the_false_negative_guard_matches_direct_formula(margin):
    torch.manual_seed(2)
    a, p, n = (torch.randn(6, 4, dtype=torch.float64) for _ in range(3))
    p[1] = p[0] + 0.01 * torch.randn(4, dtype=torch.float64)  # a near-duplicate of row 0's positive
    got = SupervisedSimCSELoss.compute(a, p, n, 0.05, 0.5, false_negative_margin=margin).item()
    assert got == pytest.approx(direct(a, p, n, 0.05, 0.5, margin), rel=1e-9)
    assert got < SupervisedSimCSELoss.compute(a, p, n, 0.05, 0.5).item()  # fewer negatives pushed away


def test_hard_negative_weight_raises_the_loss():
    torch.manual_seed(1)
    a, p, n = (torch.randn(4, 6) for _ in range(3))
    assert SupervisedSimCSELoss.compute(a, p, n, 0.05, 2.0) > SupervisedSimCSELoss.compute(a, p, n, 0.05, 0.0)


def test_gradients_reach_all_three_columns():
    torch.manual_seed(0)
    a, p, n = (torch.randn(4, 6, requires_grad=True) for _ in range(3))
    SupervisedSimCSELoss.compute(a, p, n, 0.05).backward()
    assert all(x.grad.abs().sum() > 0 for x in (a, p, n))


def test_jsonl_lists_expand_and_missing_negatives_are_filled(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    obj = SupervisedSimCSELoss(SentenceEncoder.from_pretrained(tiny_bert))
    rows = obj.prepare_rows(
        [{"query": "q1", "pos": ["p1", "p2"], "neg": ["n1"]}, {"query": "q2", "pos": ["p3"], "neg": []}]
    )
    assert rows[:2] == [
        {"anchor": "q1", "positive": "p1", "negative": "n1"},
        {"anchor": "q1", "positive": "p2", "negative": "n1"},
    ]
    assert rows[2]["negative"] in {"p1", "p2"}


def test_wrong_input_names_expected_columns(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    obj = SupervisedSimCSELoss(SentenceEncoder.from_pretrained(tiny_bert))
    with pytest.raises(DataError, match="anchor, positive, negative"):
        obj.prepare_rows(["just a sentence"])
    with pytest.raises(DataError, match="anchor, positive, negative"):
        obj.prepare_rows([{"sentence": "x"}])
