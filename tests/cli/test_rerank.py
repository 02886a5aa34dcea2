"""``simsent rerank train|score`` end to end on a tiny BERT: the same Trainer options, a folder both
sentence-transformers and simsent read, ranked output, one-line errors."""

from __future__ import annotations

import json

import pytest

GOOD = [("花呗怎么还款", "如何还花呗的钱"), ("银行卡密码忘了", "怎么找回银行卡密码"),
        ("今天天气不错", "今天天气很好")]
BAD = [("花呗怎么还款", "我想去北京"), ("银行卡密码忘了", "今天天气很好"), ("今天天气不错", "怎么还花呗")]


def test_train_then_score_from_the_cli(tiny_bert, tmp_path, cli):
    pairs = tmp_path / "pairs.tsv"
    lines = [f"{a}\t{b}\t{y}" for group, y in ((GOOD, 1), (BAD, 0)) for a, b in group] * 4
    pairs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "reranker"
    r = cli("rerank", "train", "--model", tiny_bert, "--train-file", pairs, "--output", out, "--epochs", "10",
            "--lr", "3e-3", "--batch-size", "6", "--device", "cpu", "--max-len", "32")
    assert r.code == 0, r.err
    assert "reranker saved" in r.out and (out / "model.safetensors").exists()
    texts = tmp_path / "faq.txt"
    texts.write_text("我想去北京\n如何还花呗的钱\n今天天气很好\n", encoding="utf-8")
    r = cli("rerank", "score", out, "--query", "花呗怎么还款", "--texts", texts, "--top-k", "2")
    assert r.code == 0, r.err
    lines = r.out.strip().splitlines()
    assert len(lines) == 2 and lines[0].endswith("如何还花呗的钱") and float(lines[0].split("\t")[0]) > 0.5


def test_rerank_mistakes_are_one_line(tiny_bert, tmp_path, cli):
    pairs = tmp_path / "p.tsv"
    pairs.write_text("a\tb\t1\nc\td\t0\n", encoding="utf-8")
    r = cli("rerank", "train", "--model", tiny_bert, "--train-file", pairs, "--output", tmp_path / "o",
            "--loss", "hinge")
    assert r.code == 2 and "unknown --loss 'hinge'" in r.err and len(r.err.strip().splitlines()) == 1
    r = cli("train", "--model", tiny_bert, "--train-file", pairs, "--output", tmp_path / "o2", "--objective",
            "rerank_bce")
    assert r.code == 2 and "simsent rerank train" in r.err
    r = cli("rerank", "score", tmp_path / "missing", "--query", "q", "--texts", pairs)
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    r = cli("rerank", "train", "--model", tiny_bert, "--train-file", pairs, "--output", tmp_path / "o3",
            "--layers", "9")
    assert r.code == 2 and "--layers 9: the start model has 2" in r.err
    assert len(r.err.strip().splitlines()) == 1


@pytest.mark.parametrize("option", ["--objective", "--cache-chunk", "--streaming"])
def test_bi_encoder_options_are_not_offered(cli, option):
    r = cli("rerank", "train", "--help")
    assert r.code == 0 and option not in r.out


def test_listwise_mines_a_negative_for_each_query_from_the_corpus(tiny_bert, tmp_path, cli):
    queries = tmp_path / "q.tsv"
    queries.write_text("\n".join(f"{a}\t{b}" for a, b in GOOD) + "\n", encoding="utf-8")
    corpus = tmp_path / "faq.txt"
    corpus.write_text("\n".join([b for _, b in GOOD] + [b for _, b in BAD]) + "\n", encoding="utf-8")
    r = cli("rerank", "train", "--model", tiny_bert, "--train-file", queries, "--corpus", corpus, "--loss",
            "listwise", "--output", tmp_path / "lw", "--epochs", "1", "--batch-size", "3", "--device", "cpu")
    assert r.code == 0, r.err
    import re

    mined = re.search(r"mined (\d+) negatives from .*faq.txt \((\d+) rows found none\)", r.err)
    assert mined and int(mined.group(1)) + int(mined.group(2)) == 3 and int(mined.group(1)) >= 1, r.err
    r = cli("rerank", "train", "--model", tiny_bert, "--train-file", queries, "--loss", "listwise",
            "--output", tmp_path / "lw2")
    assert r.code == 2 and "negative" in r.err  # without a corpus the rows have none
    r = cli("rerank", "train", "--model", tiny_bert, "--train-file", queries, "--corpus", corpus, "--loss",
            "listwise", "--group-size", "4", "--output", tmp_path / "lw4", "--epochs", "1", "--batch-size",
            "3", "--device", "cpu")
    assert r.code == 0, r.err
    saved = json.loads((tmp_path / "lw4" / "simsent_cross_encoder.json").read_text(encoding="utf-8"))
    assert saved["training_args"]["objective_kwargs"] == {"group_size": 4}
    r = cli("rerank", "train", "--model", tiny_bert, "--train-file", queries, "--group-size", "4",
            "--output", tmp_path / "bce4")
    assert r.code == 2 and "--group-size is for --loss listwise" in r.err
