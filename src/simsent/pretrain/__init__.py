"""Pretraining a small encoder from raw text by masked language modelling.

Example:
    >>> from simsent.pretrain import PretrainConfig, pretrain, read_corpus
    >>> texts, stats = read_corpus(["corpus.txt"])                                  # doctest: +SKIP
    >>> pretrain(texts, PretrainConfig(output_dir="runs/mlm", max_minutes=60), stats)  # doctest: +SKIP
"""

from simsent.pretrain.config import PretrainConfig
from simsent.pretrain.corpus import read_corpus
from simsent.pretrain.mlm import pretrain
from simsent.pretrain.tokenizer_builder import build_tokenizer, save_tokenizer

__all__ = ["PretrainConfig", "build_tokenizer", "pretrain", "read_corpus", "save_tokenizer"]
