"""`simsent distill` and simsent.adapt.distill: tiny BERT teacher -> TextCNN student, cache, projection."""

from __future__ import annotations

import os

import numpy as np

from simsent.adapt.distill import corpus_hash, distill, teacher_vectors
from simsent.modeling.sentence_encoder import SentenceEncoder

ENDINGS = ["天气不错", "去吃饭", "额度", "还款了", "号码修改"]
SENTS = [f"{a}{b}" for a in "今天我想北京花呗银行手机" for b in ENDINGS]


def test_cli_distills_textcnn(tiny_bert, tmp_path, cli):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(SENTS) + "\n", encoding="utf-8")
    out, cache = tmp_path / "student", tmp_path / "cache"
    argv = ["-q", "distill", "--teacher", tiny_bert, "--student", "textcnn", "--corpus", str(corpus),
            "--output", str(out), "--cache-dir", str(cache), "--epochs", "2", "--batch-size", "16",
            "--emb-dim", "16", "--filters", "8", "--whiten-dim", "8", "--loss", "both"]
    assert cli(*argv).code == 0
    student = SentenceEncoder.load(str(out))
    assert student.encoder.kind == "textcnn"
    assert len(student.dense) == 1 and student.encode(["今天天气不错"]).shape == (1, 8)  # 24 -> 8 projection
    assert student.extra_config["distillation"]["whiten_dim"] == 8
    files = os.listdir(cache)
    assert len(files) == 1 and files[0].endswith(".npy")
    # a second run reuses the cached teacher vectors (same file, untouched)
    mtime = os.path.getmtime(cache / files[0])
    assert cli(*argv[:-4] + ["--loss", "mse", "--output", str(tmp_path / "student2")]).code == 0
    assert os.listdir(cache) == files and os.path.getmtime(cache / files[0]) == mtime


def test_cli_errors(tiny_bert, tmp_path, cli):
    missing = ["distill", "--teacher", tiny_bert, "--corpus", str(tmp_path / "none.txt"), "--output", "x"]
    assert cli(*missing).code == 2
    (tmp_path / "c.txt").write_text("a\nb\n", encoding="utf-8")
    assert cli(*["distill", "--teacher", tiny_bert, "--corpus", str(tmp_path / "c.txt"), "--output", "x",
                    "--loss", "l1"]).code == 2


def test_student_regresses_teacher_and_cache_key(tiny_bert, tmp_path):
    teacher = SentenceEncoder.from_pretrained(tiny_bert)
    vecs, path = teacher_vectors(teacher, SENTS, cache_dir=str(tmp_path), teacher_id="t")
    again, path2 = teacher_vectors(None, SENTS, cache_dir=str(tmp_path), teacher_id="t")  # from cache
    assert path == path2 and np.array_equal(vecs, again)
    assert corpus_hash(SENTS) != corpus_hash(SENTS[:-1])
    result = distill(teacher, "textcnn", SENTS, str(tmp_path / "s"), loss="mse", epochs=30, batch_size=30,
                     lr=1e-2, textcnn_options={"emb_dim": 16, "filters": 8}, show_progress_bar=False)
    student = result["model"]
    assert result["target_dim"] == 32 and student.get_sentence_embedding_dimension() == 32
    err = np.mean((student.encode(SENTS) - vecs) ** 2)
    assert err < 0.05 * np.mean(vecs**2)  # the tiny teacher's vectors are nearly constant: learn them
