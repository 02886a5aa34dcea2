"""Tuning a static student by distillation: it moves towards the teacher's centred vectors through the
Trainer, its projection is the PCA of its own sentence vectors (against a direct formula), the folder
still loads in sentence-transformers with simsent's vectors, and bad options are refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

from simsent.errors import ConfigError

TEXTS = ["今天天气不错", "今天天气很好", "我想去北京", "花呗怎么还款", "银行卡密码修改", "怎么还花呗",
         "北京天气很好", "我想还款", "密码忘了怎么办", "花呗可以分期吗"]


@pytest.fixture(scope="module")
def teacher(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    return SentenceEncoder.load(tiny_bert)


def _fit(student, teacher) -> float:
    """Mean cosine between the student's vectors and the teacher's centred ones."""
    target = np.asarray(teacher.encode(TEXTS), np.float64)
    target -= target.mean(axis=0)
    target /= np.linalg.norm(target, axis=1, keepdims=True)
    return float(np.mean(np.sum(student.encode(TEXTS) * target, axis=1)))


def test_tuning_moves_the_student_towards_the_teachers_centred_vectors(teacher):
    from simsent.adapt.static import distill_static
    from simsent.adapt.static_tune import tune_static

    student = distill_static(teacher, TEXTS, dim=None)
    tuned = tune_static(student, teacher, TEXTS, epochs=20, lr=0.05, batch_size=4, show_progress_bar=False,
                        device="cpu")
    assert _fit(tuned, teacher) > _fit(student, teacher) + 0.1
    assert tuned.get_sentence_embedding_dimension() == student.get_sentence_embedding_dimension()
    record = tuned.extra_config["static"]["tuned"]
    assert record["epochs"] == 20 and record["sentences"] == len(TEXTS)
    assert record["steps"] == 20 * 2  # full batches of 4


def test_the_projection_is_the_pca_of_the_students_own_sentence_vectors(teacher):
    from simsent.adapt.static import distill_static
    from simsent.adapt.static_tune import project_static

    student = distill_static(teacher, TEXTS, dim=None)
    rows = student.weights
    pieces = student.token_ids(TEXTS)
    sentences = np.stack([rows[p].mean(axis=0) for p in pieces]).astype(np.float64)
    axes = np.linalg.svd(sentences - sentences.mean(axis=0), full_matrices=False)[2][:4]
    direct = sentences @ axes.T
    direct /= np.linalg.norm(direct, axis=1, keepdims=True)
    projected = project_static(student, TEXTS, 4)
    np.testing.assert_allclose(projected.encode(TEXTS), direct, atol=1e-5)
    assert projected.extra_config["static"]["dim"] == 4


def test_bad_options_are_refused_in_one_line(teacher):
    from simsent.adapt.static import distill_static
    from simsent.adapt.static_tune import project_static, tune_static

    student = distill_static(teacher, TEXTS, dim=None)
    with pytest.raises(ConfigError, match="at least one epoch"):
        tune_static(student, teacher, TEXTS, epochs=0)
    with pytest.raises(ConfigError, match="--static-dim 999"):
        project_static(student, TEXTS, 999)
    with pytest.raises(ConfigError, match="at least 11 texts"):
        project_static(student, TEXTS, 11)


def test_distill_static_epochs_from_the_cli_loads_in_sentence_transformers(teacher, tiny_bert, tmp_path, cli):
    from sentence_transformers import SentenceTransformer

    from simsent.modeling.sentence_encoder import SentenceEncoder

    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    r = cli("-q", "distill", "--teacher", tiny_bert, "--student", "static", "--corpus", str(corpus),
            "--output", str(tmp_path / "s"), "--static-dim", "4", "--static-epochs", "2", "--batch-size", "4",
            "--cache-dir", str(tmp_path / "cache"))
    assert r.code == 0 and "tuned 2 epochs on 10 sentences, 4 dimensions" in r.out, r.err
    ours = SentenceEncoder.load(str(tmp_path / "s")).encode(TEXTS, normalize_embeddings=True)
    st = SentenceTransformer(str(tmp_path / "s"), device="cpu").encode(TEXTS)
    np.testing.assert_allclose(st, ours, atol=1e-5)
    r = cli("-q", "distill", "--teacher", tiny_bert, "--student", "static", "--corpus", str(corpus),
            "--output", str(tmp_path / "t"), "--static-epochs", "-1")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
