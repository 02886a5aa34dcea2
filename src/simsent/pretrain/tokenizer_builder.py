"""Build a BERT tokenizer from a raw corpus: character level (Chinese) or WordPiece.

Both kinds use BERT's normaliser and pre-tokeniser (lower-casing, every CJK character is its own
word, split on whitespace and punctuation), so ``AutoTokenizer`` loads the saved folder as a
standard ``BertTokenizer`` (fast). Special tokens: ``[PAD] [UNK] [CLS] [SEP] [MASK]`` (ids 0-4).

* ``char``: one token per character seen ``min_freq`` times or more, most frequent first, at most
  ``max_vocab`` entries. Characters seen inside non-CJK words (letters, digits) also get their
  ``##`` continuation form, so ``abc`` becomes ``a ##b ##c`` rather than ``[UNK]``.
* ``wordpiece``: a WordPiece vocabulary of ``max_vocab`` entries trained with the ``tokenizers``
  library (for Chinese text it is character level too, plus sub-words of the Latin words).

Example:
    >>> tok = build_tokenizer(["今天天气不错", "今天天气很好"], kind="char")
    >>> tok.convert_ids_to_tokens(tok("今天很好")["input_ids"])
    ['[CLS]', '今', '天', '很', '好', '[SEP]']
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence
from typing import Any

from simsent.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
TOKENIZER_KINDS = ("char", "wordpiece")
#: default vocabulary cap of a WordPiece tokenizer (the char tokenizer keeps every character by default)
DEFAULT_WORDPIECE_VOCAB = 8000


def _bert_words(texts: Sequence[str], lowercase: bool = True):
    """Yield the words BERT's normaliser and pre-tokeniser make of each text."""
    from tokenizers import normalizers, pre_tokenizers

    norm = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, lowercase=lowercase)
    pre = pre_tokenizers.BertPreTokenizer()
    for text in texts:
        for word, _ in pre.pre_tokenize_str(norm.normalize_str(text)):
            yield word


def char_vocab(
    texts: Sequence[str], min_freq: int = 1, max_vocab: int | None = None, lowercase: bool = True
) -> list[str]:
    """Special tokens then characters (and ``##`` continuations), most frequent first.

    Example:
        >>> char_vocab(["ab a", "今天"])[5:]
        ['a', '##b', '今', '天']
    """
    counts: Counter[str] = Counter()
    for word in _bert_words(texts, lowercase):
        counts[word[0]] += 1
        counts.update("##" + ch for ch in word[1:])
    kept = [tok for tok, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= min_freq]
    kept = [t for t in kept if t not in SPECIAL_TOKENS]
    if max_vocab is not None:
        if max_vocab <= len(SPECIAL_TOKENS):
            raise ConfigError(
                f"max_vocab must exceed the {len(SPECIAL_TOKENS)} special tokens (got {max_vocab})"
            )
        dropped = max(0, len(kept) - (max_vocab - len(SPECIAL_TOKENS)))
        kept = kept[: max_vocab - len(SPECIAL_TOKENS)]
        if dropped:
            logger.info("char vocabulary capped at %d entries (%d rarer ones become [UNK])",
                        max_vocab, dropped)
    return list(SPECIAL_TOKENS) + kept


def wordpiece_vocab(
    texts: Sequence[str], min_freq: int = 2, max_vocab: int | None = None, lowercase: bool = True
) -> list[str]:
    """A WordPiece vocabulary trained by the ``tokenizers`` library, special tokens first."""
    from tokenizers.implementations import BertWordPieceTokenizer

    wp = BertWordPieceTokenizer(clean_text=True, handle_chinese_chars=True, lowercase=lowercase)
    wp.train_from_iterator(
        list(texts),
        vocab_size=max_vocab or DEFAULT_WORDPIECE_VOCAB,
        min_frequency=min_freq,
        special_tokens=list(SPECIAL_TOKENS),
        limit_alphabet=100_000,
        wordpieces_prefix="##",
        show_progress=False,
    )
    vocab = wp.get_vocab()
    return [tok for tok, _ in sorted(vocab.items(), key=lambda kv: kv[1])]


def tokenizer_from_vocab(vocab: Sequence[str], max_len: int = 512, lowercase: bool = True) -> Any:
    """A ``BertTokenizerFast`` over ``vocab`` (a list of tokens, special tokens first)."""
    from transformers import BertTokenizerFast

    if len(set(vocab)) != len(vocab):
        raise ConfigError("the vocabulary holds duplicate tokens")
    tok = BertTokenizerFast(vocab={t: i for i, t in enumerate(vocab)}, do_lower_case=lowercase)
    tok.model_max_length = int(max_len)
    return tok


def build_tokenizer(
    texts: Sequence[str],
    kind: str = "char",
    min_freq: int = 1,
    max_vocab: int | None = None,
    max_len: int = 512,
    lowercase: bool = True,
) -> Any:
    """Build a tokenizer of ``kind`` (``char`` or ``wordpiece``) from ``texts``.

    Args:
        texts: the corpus.
        kind: ``char`` (one token per character) or ``wordpiece``.
        min_freq: tokens seen fewer times become ``[UNK]``.
        max_vocab: cap of the vocabulary size, special tokens included (``None``: every character
            for ``char``, 8000 for ``wordpiece``).
        max_len: ``model_max_length`` of the tokenizer.
        lowercase: lower-case the text (BERT ``do_lower_case``).
    """
    if kind not in TOKENIZER_KINDS:
        raise ConfigError(f"unknown tokenizer {kind!r}; choose from {', '.join(TOKENIZER_KINDS)}")
    if not texts:
        raise DataError("cannot build a tokenizer from an empty corpus")
    build = char_vocab if kind == "char" else wordpiece_vocab
    vocab = build(texts, min_freq=min_freq, max_vocab=max_vocab, lowercase=lowercase)
    logger.info("%s tokenizer: %d tokens (min_freq=%d)", kind, len(vocab), min_freq)
    return tokenizer_from_vocab(vocab, max_len=max_len, lowercase=lowercase)


def save_tokenizer(tokenizer: Any, path: str) -> None:
    """Save ``tokenizer`` (and a ``vocab.txt`` for older loaders) to ``path``."""
    os.makedirs(path, exist_ok=True)
    tokenizer.save_pretrained(path)
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])
    with open(os.path.join(path, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(tok for tok, _ in vocab) + "\n")
