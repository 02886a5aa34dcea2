import random

import pytest
import torch

from simsent.data import pretokenized
from simsent.data.pretokenized import PretokenizedTexts

LONG = "银行卡为何不能用开通手机号码修改密码" * 3
TEXTS = ["今天天气不错", "北京", "", "我想去上海吃饭喝水", "abc 你好", LONG]


def _assert_same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for key in b:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key


def _batches(texts: list[str], seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    return [rng.sample(texts, rng.randint(1, len(texts))) for _ in range(12)] + [texts, texts[:1], texts * 2]


@pytest.mark.parametrize("multiple_of", [None, 8])
def test_batches_equal_the_transformer_tokenizer(tiny_bert, multiple_of, monkeypatch):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(tiny_bert, max_len=16)  # the long text is truncated
    model.encoder.pad_to_multiple_of = multiple_of
    monkeypatch.setattr(pretokenized, "BLOCK", 4)  # several blocks
    cache = PretokenizedTexts(model.tokenize, TEXTS, pad_to_multiple_of=multiple_of)
    assert len(cache) == len(TEXTS)
    for batch in _batches(TEXTS):
        _assert_same(cache(batch), model.tokenize(batch))


def test_batches_equal_the_textcnn_tokenizer():
    from simsent.modeling.encoders.textcnn import TextCNNEncoder

    enc = TextCNNEncoder(["[PAD]", "[UNK]", *"今天气不错北京我想去上海"], emb_dim=4, filters=2, max_len=5)
    cache = PretokenizedTexts(enc.tokenize, TEXTS)
    for batch in _batches(TEXTS, seed=1):
        _assert_same(cache(batch), enc.tokenize(batch))


def test_left_padding_and_pad_values_are_kept(tiny_bert):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_bert)
    tok.padding_side = "left"

    def tokenize(texts: list[str]) -> dict[str, torch.Tensor]:
        out = dict(tok(texts, padding=True, return_tensors="pt"))
        out["input_ids"] = out["input_ids"] + 7  # a pad id that is not 0
        return out

    cache = PretokenizedTexts(tokenize, TEXTS)
    assert cache.left_padded and cache.pad_values["input_ids"] == 7
    for batch in _batches(TEXTS, seed=2):
        _assert_same(cache(batch), tokenize(batch))


def test_pad_values_are_probed_when_no_block_needed_padding(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(tiny_bert)

    def tokenize(texts):
        out = model.tokenize(texts)
        return {**out, "input_ids": out["input_ids"] + 3}

    cache = PretokenizedTexts(tokenize, ["今天", "北京"], pad_to_multiple_of=8)  # same length: no padding
    assert cache.pad_values["input_ids"] == 3
    got = cache(["北京", "今天"])
    assert got["input_ids"].shape[1] == 8 and got["input_ids"][0, 4:].tolist() == [3] * 4


def test_unknown_texts_and_unstorable_output_fall_back_to_tokenize(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(tiny_bert)
    cache = PretokenizedTexts(model.tokenize, TEXTS[:2])
    _assert_same(cache(["一个新的句子", "北京"]), model.tokenize(["一个新的句子", "北京"]))

    def floats(texts):
        out = model.tokenize(texts)
        return {**out, "weights": out["attention_mask"].float()}

    odd = PretokenizedTexts(floats, TEXTS)
    assert len(odd) == 0
    _assert_same(odd(TEXTS[:3]), floats(TEXTS[:3]))
