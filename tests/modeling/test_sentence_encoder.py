import os

import numpy as np
import pytest
import torch

from simsent.modeling.dense import DenseLayer
from simsent.modeling.pooling import POOLING_MODES
from simsent.modeling.sentence_encoder import SentenceEncoder

TEXTS = ["今天天气不错", "我想去北京吃饭", "花呗额度为何不能用", "a", "怎么修改手机号码密码"]


@pytest.mark.parametrize("pooling", POOLING_MODES)
def test_sentence_transformers_loads_saved_model_with_same_vectors(tiny_bert, tmp_path, pooling):
    from sentence_transformers import SentenceTransformer

    model = SentenceEncoder.from_pretrained(tiny_bert, pooling=pooling)
    model.save(str(tmp_path / "m"))
    ours = model.encode(TEXTS)
    theirs = SentenceTransformer(str(tmp_path / "m"), device="cpu").encode(TEXTS)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    reloaded = SentenceEncoder.load(str(tmp_path / "m")).encode(TEXTS)
    np.testing.assert_allclose(ours, reloaded, atol=1e-6)


def test_dense_and_normalize_round_trip(tiny_bert, tmp_path):
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(1)
    model = SentenceEncoder.from_pretrained(tiny_bert, pooling="mean")
    model.dense.append(DenseLayer(32, 8))
    model.normalize = True
    model.save(str(tmp_path / "m"))
    ours = model.encode(TEXTS)
    assert ours.shape == (len(TEXTS), 8)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    theirs = SentenceTransformer(str(tmp_path / "m"), device="cpu").encode(TEXTS)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    np.testing.assert_allclose(SentenceEncoder.load(str(tmp_path / "m")).encode(TEXTS), ours, atol=1e-6)


def test_encode_keywords_match_sentence_transformers(tiny_bert):
    model = SentenceEncoder.from_pretrained(tiny_bert)
    vec = model.encode("今天天气不错")
    assert vec.shape == (32,)
    t = model.encode(
        TEXTS, batch_size=2, convert_to_tensor=True, normalize_embeddings=True, show_progress_bar=False
    )
    assert isinstance(t, torch.Tensor)
    torch.testing.assert_close(t.norm(dim=1), torch.ones(len(TEXTS)), atol=1e-5, rtol=0)
    np.testing.assert_allclose(model.encode(TEXTS, normalize=True), t.numpy(), atol=1e-6)
    assert model.encode([]).shape == (0, 32)


def test_encode_order_is_kept_despite_length_sorting(tiny_bert):
    model = SentenceEncoder.from_pretrained(tiny_bert)
    full = model.encode(TEXTS, batch_size=2)
    for i, t in enumerate(TEXTS):
        np.testing.assert_allclose(full[i], model.encode(t), atol=1e-5)


def test_similarity(tiny_bert):
    model = SentenceEncoder.from_pretrained(tiny_bert)
    assert model.similarity("今天天气不错", "今天天气不错") == pytest.approx(1.0, abs=1e-5)
    assert model.similarity(TEXTS[:2], TEXTS).shape == (2, len(TEXTS))


def test_dropout_option_sets_every_dropout(tiny_bert):
    model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.3)
    rates = {m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)}
    assert rates == {0.3}
    assert model.encoder.model.config.attention_probs_dropout_prob == 0.3


def test_save_is_atomic_and_overwrites(tiny_bert, tmp_path):
    model = SentenceEncoder.from_pretrained(tiny_bert)
    model.save(str(tmp_path / "m"))
    model.save(str(tmp_path / "m"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


@pytest.mark.slow
def test_minilm_matches_sentence_transformers(minilm_path, tmp_path):
    from sentence_transformers import SentenceTransformer

    model = SentenceEncoder.from_pretrained(minilm_path)
    assert model.pooling.mode == "mean" and model.encoder.max_len == 256
    np.testing.assert_allclose(
        model.encode(TEXTS), SentenceTransformer(minilm_path, device="cpu").encode(TEXTS), atol=1e-5
    )
    model.save(str(tmp_path / "m"))
    np.testing.assert_allclose(
        model.encode(TEXTS), SentenceTransformer(str(tmp_path / "m")).encode(TEXTS), atol=1e-5
    )


def test_a_folder_this_account_may_not_read_is_said_so(tiny_bert, tmp_path, monkeypatch):
    import shutil

    from simsent.errors import ModelLoadError

    locked = tmp_path / "locked"
    shutil.copytree(tiny_bert, locked)
    locked.chmod(0)
    try:
        if os.geteuid() == 0:  # root reads everything: let the access check see what another account would
            real = os.access
            monkeypatch.setattr(os, "access", lambda p, mode: real(p, mode) and os.fspath(p) != str(locked))
        with pytest.raises(ModelLoadError, match="permission denied: cannot read the model folder"):
            SentenceEncoder.from_pretrained(str(locked))
    finally:
        locked.chmod(0o755)
