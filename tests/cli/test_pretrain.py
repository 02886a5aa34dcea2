"""`simsent pretrain` smoke test: several corpus files, from scratch then --init."""

from __future__ import annotations

import json

SENTS = ["今天天气不错", "今天天气很好", "我想去北京吃饭", "他们在上海", "银行卡怎么办理",
         "花呗额度为何不能用"]


def test_cli_pretrain_then_init(tmp_path, cli):
    txt = tmp_path / "a.txt"
    txt.write_text("\n".join(SENTS * 3) + "\n", encoding="utf-8")
    data = tmp_path / "b.data"
    data.write_text("开通手机号码\t修改密码\t1\n借钱还款\t你们的额度\t0\n", encoding="utf-8")
    out = tmp_path / "mlm"
    printed = cli(*["pretrain", "--corpus", str(txt), str(data), "--tokenizer", "char", "--layers", "1",
          "--hidden", "32", "--heads", "2", "--max-len", "16", "--batch-size", "4", "--max-steps", "3",
          "--output", str(out), "--no-progress", "--seed", "1"])
    assert printed.code == 0, printed.err
    assert "pretrained 3 steps" in printed.out
    assert "10 unique texts" in printed.err  # 6 + 4 sentences of the pairs, duplicates removed
    saved = json.loads((out / "pretrain_config.json").read_text(encoding="utf-8"))
    assert saved["corpus"]["sentences"] == 10 and saved["config"]["layers"] == 1
    assert len(saved["corpus"]["files"]) == 2
    vocab = (out / "vocab.txt").read_text(encoding="utf-8").split()
    assert "银" in vocab and "修" in vocab  # characters of both files

    out2 = tmp_path / "mlm2"
    r = cli(*["pretrain", "--corpus", str(txt), "--init", str(out), "--max-steps", "2", "--batch-size", "4",
          "--output", str(out2), "--no-progress"])
    assert "pretrained 2 steps" in r.out
    assert (out2 / "model.safetensors").is_file()


def test_cli_errors(tmp_path, cli):
    r = cli(*["pretrain", "--corpus", str(tmp_path / "missing.txt"), "--output", str(tmp_path / "o")])
    assert r.code == 2
    assert "file not found" in r.err
    corpus = tmp_path / "c.txt"
    corpus.write_text("今天天气不错\n", encoding="utf-8")
    r = cli(*["pretrain", "--corpus", str(corpus), "--hidden", "30", "--heads", "4",
              "--output", str(tmp_path / "o")])
    assert r.code == 2
    assert "multiple of --heads" in r.err
