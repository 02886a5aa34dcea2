import numpy as np
import pytest
from scipy.stats import spearmanr

from simsent.experiments.choice import bootstrap_spearman, choose


def test_each_resample_is_the_spearman_of_the_resampled_pairs():
    rng = np.random.default_rng(1)
    gold, s = rng.normal(size=50), rng.normal(size=50)
    sp = bootstrap_spearman({"a": s}, gold, resamples=5, seed=3)["a"]
    idx = np.random.default_rng(3).integers(0, 50, size=(5, 50))
    want = [spearmanr(s[i], gold[i]).statistic for i in idx]
    np.testing.assert_allclose(sp, want, rtol=1e-12)


def _board(selection):
    return [{"recipe": f"r{i}", "pooling": "mean", "selection": v} for i, v in enumerate(selection)]


def test_a_surely_better_candidate_wins_and_a_lucky_one_leaves_the_start():
    rng = np.random.default_rng(0)
    gold = rng.normal(size=300)
    start = gold + rng.normal(size=300) * 1.0
    better = gold + rng.normal(size=300) * 0.5
    lucky = start + rng.normal(size=300) * 0.05  # the start model with a little noise: not surely better
    board = _board([0.9, 0.5])
    winner, info = choose(board, 1, [better, start], gold)
    assert winner == 0 and board[0]["beats_start"] > 0.99 and np.isnan(board[1]["beats_start"])
    assert not info["kept_start"]
    board = _board([0.51, 0.5])
    winner, info = choose(board, 1, [lucky, start], gold)
    assert winner == 1 and info["kept_start"] and board[0]["beats_start"] < 0.9 and info["pairs"] == 300
    assert choose(_board([0.51, 0.5]), 1, [lucky, start], gold, confidence=0.0)[0] == 0


def test_the_start_at_the_top_simply_wins():
    rng = np.random.default_rng(2)
    gold = rng.normal(size=100)
    winner, info = choose(_board([0.8, 0.7]), 0, [gold, gold + rng.normal(size=100)], gold)
    assert winner == 0 and not info["kept_start"] and info["best_beats_start"] != pytest.approx(1.0)


def test_recipes_below_the_start_are_named_worst_first():
    from simsent.experiments.choice import hurts_sentence

    board = [{"recipe": n, "pooling": "mean", "selection": s} for n, s in
             [("cosent", 80.0), ("raw", 75.0), ("simcse", 74.0), ("whitening (k=128)", 68.5)]]
    text = hurts_sentence(board, {"start": 1})
    assert "whitening (k=128) / mean -6.50, simcse / mean -1.00" in text and "cosent" not in text
    assert hurts_sentence(board[:2], {"start": 1}) == "" and hurts_sentence(board, {}) == ""


def test_a_kept_start_says_on_how_many_pairs_and_what_would_change_it():
    from simsent.experiments.choice import choice_sentence

    board = _board([0.51, 0.5])
    board[0]["beats_start"] = 0.56
    info = {"best": 0, "start": 1, "kept_start": True, "best_beats_start": 0.56, "confidence": 0.9,
            "pairs": 300}
    text = choice_sentence(board, info)
    assert "beat the start model on only 56%" in text and "(needed: 90%)" in text
    assert "the start model was kept: on these 300 selection pairs" in text
    assert "More labelled pairs" in text and "--confidence" in text
