"""``simsent data hard-negatives``: triplets with negatives mined from the user's own text."""

from __future__ import annotations

import json

SENTS = [f"{a}{b}" for a in "今天我想北京花呗银行手机" for b in ["天气不错", "去吃饭", "额度", "还款了"]]


def test_hard_negatives_writes_a_triplet_per_positive_pair(tiny_bert, tmp_path, cli):
    pairs = tmp_path / "pairs.tsv"  # headerless scored pairs: only the top score is positive by default
    lines = ["今天天气不错\t今天去吃饭\t1", "北京额度\t花呗额度\t0", "银行还款了\t手机还款了\t1"]
    pairs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(SENTS), encoding="utf-8")
    out = tmp_path / "triplets.jsonl"
    r = cli("data", "hard-negatives", tiny_bert, pairs, corpus, out, "--range-min", "0", "--margin", "-1")
    assert r.code == 0, r.err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    want = [("今天天气不错", "今天去吃饭"), ("银行还款了", "手机还款了")]
    assert [(t["anchor"], t["positive"]) for t in rows] == want
    for t in rows:  # margin -1: any neighbour other than the row's own texts qualifies
        assert t["negative"] in SENTS and t["negative"] not in (t["anchor"], t["positive"])
    assert "2 with a mined hard negative" in r.out
    trained = cli("train", "--model", tiny_bert, "--train-file", out, "--objective", "supervised_simcse",
                  "--output", tmp_path / "m", "--batch-size", "2", "--eval-steps", "0")
    assert trained.code == 0, trained.err


def test_hard_negatives_without_positive_pairs_is_one_line(tiny_bert, tmp_path, cli):
    pairs = tmp_path / "p.txt"
    pairs.write_text("一句话\n", encoding="utf-8")
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(SENTS), encoding="utf-8")
    r = cli("data", "hard-negatives", tiny_bert, pairs, corpus, tmp_path / "o.jsonl")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and "PAIRS" not in r.out
