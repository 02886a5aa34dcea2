"""Mining the pool per class with scores and the nearest seed."""

from __future__ import annotations

import numpy as np
import pytest

from simsent.errors import ConfigError, DataError
from simsent.search.mining import mine, parse_seeds

TABLE = {
    "s1": [1, 0, 0],
    "s2": [0.9, 0.3, 0],
    "t1": [0, 1, 0],
    "p1": [0.95, 0.1, 0],
    "p2": [0, 0.9, 0.1],
    "p3": [0, 0, 1],
    "p4": [0.7, 0.7, 0],
}


class FakeModel:
    extra_config: dict = {}

    def encode(self, texts, batch_size=32, normalize_embeddings=False, **kw):
        v = np.array([TABLE[t] for t in texts], dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_mine_per_class_with_nearest_seed():
    seeds = [{"text": "s1", "label": "A"}, {"text": "s2", "label": "A"}, {"text": "t1", "label": "B"}]
    found = mine(FakeModel(), seeds, ["p1", "p2", "p3", "p4", "s1", "p1"], threshold=0.7, chunk_size=2)
    assert [r["text"] for r in found["A"]] == ["p1", "p4"]  # best first; seeds and repeats skipped
    assert found["A"][0]["nearest_seed"] == "s1" and found["A"][0]["score"] > 0.99
    assert [r["text"] for r in found["B"]] == ["p2", "p4"]
    assert found["B"][1]["nearest_seed"] == "t1"
    assert mine(FakeModel(), seeds, ["p1", "p4"], threshold=0.7, top_k=1)["A"] == found["A"][:1]


def test_threshold_from_model_config_or_error():
    model = FakeModel()
    seeds = [("s1", "A")]
    with pytest.raises(ConfigError, match="calibrate"):
        mine(model, seeds, ["p1"])
    model.extra_config = {"threshold": {"value": 0.99, "metric": "f1"}}
    assert [r["text"] for r in mine(model, seeds, ["p1", "p4"])["A"]] == ["p1"]


def test_bad_seeds_and_pool():
    with pytest.raises(DataError, match="label"):
        parse_seeds([{"text": "x"}])
    with pytest.raises(DataError, match="pool"):
        mine(FakeModel(), [("s1", "A")], ["s1", " "], threshold=0.5)


def test_a_null_seed_label_is_an_error_not_a_class_named_none():
    import pytest

    from simsent.errors import DataError
    from simsent.search.mining import parse_seeds

    with pytest.raises(DataError, match="seed row 2: the label is empty"):
        parse_seeds([{"text": "a", "label": "x"}, {"text": "b", "label": None}])
