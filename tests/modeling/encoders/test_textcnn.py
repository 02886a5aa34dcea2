"""TextCNN encoder: vocabulary, masking, save/load round trip, SimCSE training, teacher init."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simsent.errors import ConfigError, DataError
from simsent.modeling.encoders.textcnn import (
    PAD,
    UNK,
    TextCNNEncoder,
    build_textcnn_model,
    build_vocab,
    split_tokens,
)
from simsent.modeling.sentence_encoder import SentenceEncoder

CORPUS = ["今天天气不错", "今天天气很好", "我想去北京", "花呗额度为何不能用", "怎么办理银行卡",
          "手机号码修改密码", "我想去上海吃饭", "他们在喝水", "借钱还款", "开通花呗"]


def small_model(**kw) -> SentenceEncoder:
    return build_textcnn_model(CORPUS, emb_dim=16, filters=8, seed=0, **kw)


def test_vocab_order_min_freq_and_unknown():
    vocab = build_vocab(["aab", "b c"], min_freq=2)
    assert vocab == [PAD, UNK, "a", "b"]
    assert split_tokens("A b") == ["a", "b"]
    enc = TextCNNEncoder(vocab, emb_dim=4, filters=2)
    feats = enc.tokenize(["abz", ""])
    assert feats["input_ids"].tolist() == [[2, 3, 1], [1, 0, 0]]  # z unknown; empty text -> [UNK]
    assert feats["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


def test_bad_vocab_and_empty_corpus():
    with pytest.raises(ConfigError):
        TextCNNEncoder(["a", "b"])
    with pytest.raises(DataError):
        TextCNNEncoder.from_corpus(["", "  "])


def test_jieba_words_option():
    vocab = build_vocab(["今天天气不错"], jieba=True)
    assert any(len(tok) > 1 for tok in vocab[2:])


def test_shapes_and_dimension():
    model = small_model()
    assert model.pooling.mode == "max"
    assert model.get_sentence_embedding_dimension() == 24
    assert model.encode(["今天天气不错", "好"]).shape == (2, 24)


def test_padding_is_masked():
    model = small_model().eval()
    alone = model.encode(["今天"], batch_size=1)
    batched = model.encode(["今天", "花呗额度为何不能用怎么办理银行卡手机号码修改密码"], batch_size=2)[:1]
    np.testing.assert_allclose(alone, batched, atol=1e-6)


def test_save_load_round_trip(tmp_path):
    model = small_model()
    texts = ["今天天气不错", "我想去北京吃饭", "未知字符"]
    before = model.encode(texts)
    model.save(str(tmp_path / "m"))
    assert (tmp_path / "m" / "0_Encoder" / "vocab.txt").is_file()
    loaded = SentenceEncoder.load(str(tmp_path / "m"))
    assert isinstance(loaded.encoder, TextCNNEncoder)
    assert loaded.encoder.vocab == model.encoder.vocab
    np.testing.assert_allclose(loaded.encode(texts), before, atol=1e-6)
    # overrides accepted by SentenceEncoder.load
    again = SentenceEncoder.load(str(tmp_path / "m"), max_len=3, dropout=0.0)
    assert again.encoder.max_len == 3 and again.encoder.emb_dropout.p == 0.0


def test_dropout_makes_views_differ_in_train_mode():
    model = small_model(dropout=0.3).train()
    feats = model.tokenize(["今天天气不错"] * 2)
    z = model(feats)
    assert not torch.allclose(z[0], z[1])


def test_trains_with_unsupervised_simcse(tmp_path):
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    model = small_model(dropout=0.2)
    before = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    args = TrainingArguments(output_dir=str(tmp_path / "run"), batch_size=4, lr=1e-2, epochs=1, eval_steps=0,
                             checkpoint_steps=0, show_progress_bar=False)
    out = Trainer(model, args, CORPUS).train()
    assert out["global_step"] == 2
    assert any(not torch.equal(before[k], v.cpu()) for k, v in model.state_dict().items())
    loaded = SentenceEncoder.load(str(tmp_path / "run"))
    np.testing.assert_allclose(loaded.encode(CORPUS), model.encode(CORPUS), atol=1e-6)


class _Teacher:
    """Stands in for a TransformerEncoder: a vocabulary and an input embedding table."""

    def __init__(self, tokens: list[str], dim: int) -> None:
        self.tokenizer = type("Tok", (), {"get_vocab": lambda _self: {t: i for i, t in enumerate(tokens)}})()
        table = torch.nn.Embedding(len(tokens), dim)
        self.model = type("M", (), {"get_input_embeddings": lambda _self: table})()


def test_init_from_teacher_copies_shared_tokens():
    torch.manual_seed(0)
    enc = TextCNNEncoder.from_corpus(CORPUS + ["€"], emb_dim=16, filters=4)
    chars = sorted(set("".join(CORPUS)))
    unknown_before = enc.embedding.weight[enc.index["€"]].clone()
    # same width: rows copied up to a global rescale
    n = enc.init_from_teacher(_Teacher(["[PAD]"] + chars, 16))
    assert n == len(enc.vocab) - 3  # every corpus char but "€"
    assert torch.equal(enc.embedding.weight[enc.index["€"]], unknown_before)
    # wider teacher: PCA projection
    assert enc.init_from_teacher(_Teacher(["[PAD]"] + chars, 40)) == n
    with pytest.raises(ConfigError):
        enc.init_from_teacher(_Teacher(chars, 8))


def test_sentence_transformers_loads_textcnn(tmp_path):
    from sentence_transformers import SentenceTransformer

    from simsent.modeling.dense import DenseLayer

    model = small_model()
    model.dense.append(DenseLayer(24, 6))
    model.normalize = True
    texts = ["今天天气不错", "我想去北京吃饭", ""]
    model.save(str(tmp_path / "m"))
    assert (tmp_path / "m" / "modules.json").is_file()
    st = SentenceTransformer(str(tmp_path / "m"), trust_remote_code=True, device="cpu")
    np.testing.assert_allclose(st.encode(texts), model.encode(texts), atol=1e-5)
    with pytest.raises(ValueError, match="trust_remote_code"):
        SentenceTransformer(str(tmp_path / "m"), device="cpu")
    # simsent still loads it through simsent_config.json
    np.testing.assert_allclose(SentenceEncoder.load(str(tmp_path / "m")).encode(texts), model.encode(texts),
                               atol=1e-6)


@pytest.mark.parametrize("pooling", ["cls", "pooler", "first_last_avg", "lasttoken", "cls+max"])
def test_poolings_that_make_no_sense_for_a_textcnn_are_refused(pooling):
    encoder = small_model().encoder
    with pytest.raises(ConfigError, match="makes no sense for a textcnn|needs a model with a trained"):
        SentenceEncoder(encoder, pooling=pooling)
