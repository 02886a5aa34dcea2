import numpy as np
import pytest

from simsent.errors import ConfigError
from simsent.search.hard_negatives import mine_hard_negatives


class AngleModel:
    """Unit vectors at given angles (degrees): cosine = cos(angle difference)."""

    def __init__(self, angles):
        self.angles = angles

    def encode(self, texts, batch_size=64):
        rad = np.radians([self.angles[t] for t in texts])
        return np.stack([np.cos(rad), np.sin(rad)], axis=1)


ANGLES = {"q": 0, "pos": 20, "dup": 0, "para": 15, "near": 30, "mid": 60, "far": 120}
CORPUS = ["q", "pos", "dup", "para", "near", "mid", "far"]


def test_the_best_candidate_after_the_skipped_ranks_and_below_the_margin_is_taken():
    model = AngleModel(ANGLES)
    rows = [{"anchor": "q", "positive": "pos"}]
    mined, counts = mine_hard_negatives(model, rows, CORPUS, range_min=0, range_max=7, margin=0.0)
    # ranked by cosine to q: q, dup, para, pos, near, mid, far; q and pos are the row's own texts, dup and
    # para score above the positive (cos 20 deg) so are false negatives: near is the hardest true negative
    assert mined[0]["negative"] == "near" and counts == {"rows": 1, "mined": 1, "none": 0}
    wide_margin, _ = mine_hard_negatives(model, rows, CORPUS, range_min=0, range_max=7, margin=0.2)
    assert wide_margin[0]["negative"] == "mid"  # cos 30 deg = 0.866 > cos 20 deg - 0.2 = 0.74
    skipped, _ = mine_hard_negatives(model, rows, CORPUS, range_min=5, range_max=7, margin=0.0)
    assert skipped[0]["negative"] == "mid"  # ranks 0-4 skipped


def test_no_candidate_in_range_leaves_the_negative_empty():
    rows = [{"anchor": "q", "positive": "pos"}]
    mined, counts = mine_hard_negatives(AngleModel(ANGLES), rows, CORPUS, range_min=0, range_max=3)
    assert mined[0]["negative"] is None and counts["none"] == 1


def test_a_bad_rank_range_is_refused():
    with pytest.raises(ConfigError, match="range_min < range_max"):
        mine_hard_negatives(AngleModel(ANGLES), [], CORPUS, range_min=5, range_max=5)


def test_several_negatives_come_best_ranked_first_and_obey_the_same_rules():
    rows = [{"anchor": "q", "positive": "pos"}]
    mined, counts = mine_hard_negatives(AngleModel(ANGLES), rows, CORPUS, range_min=0, range_max=7,
                                        margin=0.0, num_negatives=2)
    assert mined[0]["negatives"] == ["near", "mid"] and mined[0]["negative"] == "near"
    every, _ = mine_hard_negatives(AngleModel(ANGLES), rows, CORPUS, range_min=0, range_max=7, margin=0.0,
                                   num_negatives=10)
    assert every[0]["negatives"] == ["near", "mid", "far"]  # all that are eligible, no more
    one, _ = mine_hard_negatives(AngleModel(ANGLES), rows, CORPUS, range_min=0, range_max=7, margin=0.0)
    assert "negatives" not in one[0] and counts["mined"] == 1
    with pytest.raises(ConfigError, match="num_negatives"):
        mine_hard_negatives(AngleModel(ANGLES), rows, CORPUS, num_negatives=0)
