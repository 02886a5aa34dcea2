"""A model folder saved by simsent 0.1.0 still loads and gives the same vectors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_v0_1_0_folder_loads_with_the_same_vectors():
    from simsent import SentenceEncoder

    texts = json.loads((FIXTURES / "v0_1_0_texts.json").read_text(encoding="utf-8"))
    expected = np.load(FIXTURES / "v0_1_0_vectors.npy")
    model = SentenceEncoder.load(str(FIXTURES / "v0_1_0_model"))
    assert model.pooling.mode == "first_last_avg"
    assert model.extra_config["threshold"]["value"] == 0.5
    np.testing.assert_allclose(model.encode(texts), expected, atol=1e-5)


def test_v0_1_0_folder_loads_in_sentence_transformers():
    from sentence_transformers import SentenceTransformer

    texts = json.loads((FIXTURES / "v0_1_0_texts.json").read_text(encoding="utf-8"))
    expected = np.load(FIXTURES / "v0_1_0_vectors.npy")
    st = SentenceTransformer(str(FIXTURES / "v0_1_0_model"), device="cpu")
    np.testing.assert_allclose(st.encode(texts), expected, atol=1e-5)
