"""Tokenizer builder: char-level and WordPiece vocabularies saved as a BERT tokenizer."""

from __future__ import annotations

import pytest

from simsent.errors import ConfigError, DataError
from simsent.pretrain.tokenizer_builder import (
    SPECIAL_TOKENS,
    build_tokenizer,
    char_vocab,
    save_tokenizer,
)

TEXTS = ["今天天气不错", "今天天气很好", "我想去北京", "ABC 2023年"]


def test_char_vocab_specials_first_and_frequency_order():
    vocab = char_vocab(TEXTS)
    assert vocab[:5] == list(SPECIAL_TOKENS)
    assert vocab[5:8] == ["天", "今", "气"]  # 天 x4, then 今 x2 / 气 x2 in code-point order
    assert len(vocab) == len(set(vocab))
    # Latin words are lower-cased and split into a first char plus ## continuations
    assert {"a", "##b", "##c", "2", "##0", "##3"} <= set(vocab)


def test_char_vocab_min_freq_and_cap():
    assert set(char_vocab(TEXTS, min_freq=2)[5:]) == {"天", "今", "气"}
    assert char_vocab(TEXTS, max_vocab=7)[5:] == ["天", "今"]
    with pytest.raises(ConfigError):
        char_vocab(TEXTS, max_vocab=5)


def test_char_tokenizer_round_trip_with_auto_tokenizer(tmp_path):
    from transformers import AutoTokenizer

    tok = build_tokenizer(TEXTS, kind="char", max_len=16)
    save_tokenizer(tok, str(tmp_path))
    loaded = AutoTokenizer.from_pretrained(str(tmp_path))
    ids = loaded("今天很好 abc 火")["input_ids"]
    expected = ["[CLS]", "今", "天", "很", "好", "a", "##b", "##c", "[UNK]", "[SEP]"]
    assert loaded.convert_ids_to_tokens(ids) == expected
    assert ids == tok("今天很好 abc 火")["input_ids"]
    assert loaded.model_max_length == 16
    assert (tmp_path / "vocab.txt").read_text(encoding="utf-8").split("\n")[:5] == list(SPECIAL_TOKENS)


def test_wordpiece_tokenizer():
    texts = ["hello world", "hello there", "worldwide hello"] * 5 + TEXTS
    tok = build_tokenizer(texts, kind="wordpiece", min_freq=1, max_vocab=200)
    assert tok.convert_ids_to_tokens(list(range(5))) == list(SPECIAL_TOKENS)
    assert "hello" in tok.get_vocab()
    ids = tok("今天 hello")["input_ids"]
    assert tok.convert_ids_to_tokens(ids) == ["[CLS]", "今", "天", "hello", "[SEP]"]


def test_errors():
    with pytest.raises(ConfigError, match="char, wordpiece"):
        build_tokenizer(TEXTS, kind="bpe")
    with pytest.raises(DataError):
        build_tokenizer([], kind="char")
