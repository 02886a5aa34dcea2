"""Corpus reading for pretraining: every format, both sentences of pairs, deduplicated."""

from __future__ import annotations

import pytest

from simsent._io import sha256_file
from simsent.errors import DataError
from simsent.pretrain.corpus import read_corpus


def test_read_corpus_mixed_formats(tmp_path):
    txt = tmp_path / "a.txt"
    txt.write_text("今天天气不错\n\n我想去北京\n今天天气不错\n", encoding="utf-8")
    data = tmp_path / "b.data"
    data.write_text("我想去北京\t我想去上海\t1\n花呗额度\t借钱还款\t0\n", encoding="utf-8")
    texts, stats = read_corpus([str(txt), str(data)])
    assert texts == ["今天天气不错", "我想去北京", "我想去上海", "花呗额度", "借钱还款"]
    assert stats["texts_read"] == 7 and stats["sentences"] == 5 and stats["duplicates_removed"] == 2
    assert stats["files"][1]["sha256"] == sha256_file(data)
    assert all("1" not in t and "0" not in t for t in texts)  # labels are not text


def test_read_corpus_errors(tmp_path):
    with pytest.raises(DataError):
        read_corpus([])
    with pytest.raises(DataError, match="not found"):
        read_corpus([str(tmp_path / "missing.txt")])
