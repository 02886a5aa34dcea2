"""The static student: its maths against a direct formula, the StaticEmbedding round trip with
sentence-transformers, simsent reading the folder anywhere a model is taken, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest

from simsent.errors import ConfigError

TEXTS = ["今天天气不错", "今天天气很好", "我想去北京", "花呗怎么还款", "银行卡密码修改", "怎么还花呗",
         "北京天气很好", "我想还款"]


@pytest.fixture(scope="module")
def teacher(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    return SentenceEncoder.load(tiny_bert)


def _direct(teacher, dim: int, a: float) -> np.ndarray:
    """The student's vectors of TEXTS computed directly: each piece alone through the teacher, PCA by SVD,
    SIF weights from the pieces' shares, the mean of each text's rows, normalised."""
    import torch

    tok = teacher.encoder.tokenizer
    pieces = [tok(t, add_special_tokens=False)["input_ids"] for t in TEXTS]
    ids = sorted({i for p in pieces for i in p})
    with torch.inference_mode():
        raw = np.stack([teacher({"input_ids": torch.tensor([[tok.cls_token_id, i, tok.sep_token_id]]),
                                 "attention_mask": torch.ones(1, 3, dtype=torch.long),
                                 "token_type_ids": torch.zeros(1, 3, dtype=torch.long)})[0].numpy()
                        for i in ids])
    centred = raw - raw.mean(axis=0)
    reduced = centred @ np.linalg.svd(centred, full_matrices=False)[2][:dim].T
    total = sum(len(p) for p in pieces)
    share = {i: sum(p.count(i) for p in pieces) / total for i in ids}
    rows = {i: reduced[k] * (a / (a + share[i])) for k, i in enumerate(ids)}
    direct = np.stack([np.mean([rows[i] for i in p], axis=0) for p in pieces])
    return direct / np.linalg.norm(direct, axis=1, keepdims=True)


def test_the_student_is_the_sif_weighted_mean_of_pca_reduced_piece_vectors(teacher):
    from simsent.adapt.static import distill_static

    student = distill_static(teacher, TEXTS, dim=8, sif=1e-3)
    np.testing.assert_allclose(student.encode(TEXTS), _direct(teacher, 8, 1e-3), atol=1e-4)
    assert not np.any(student.encode([""]))  # an empty text: the zero vector, as EmbeddingBag gives


def test_the_folder_loads_in_sentence_transformers_and_anywhere_simsent_takes_a_model(teacher, tmp_path, cli):
    from sentence_transformers import SentenceTransformer

    from simsent.adapt.static import distill_static
    from simsent.modeling.sentence_encoder import SentenceEncoder

    student = distill_static(teacher, TEXTS, dim=8)
    student.save(str(tmp_path / "static"))
    ours = SentenceEncoder.load(str(tmp_path / "static")).encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(ours, student.encode(TEXTS), atol=1e-6)
    st = SentenceTransformer(str(tmp_path / "static"), device="cpu").encode(TEXTS)
    np.testing.assert_allclose(st, ours, atol=1e-5)
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    r = cli("-q", "index", "build", str(tmp_path / "static"), "--corpus", str(corpus), "--output",
            str(tmp_path / "ix"))
    assert r.code == 0, r.err
    r = cli("-q", "index", "search", str(tmp_path / "ix"), TEXTS[3], "-k", "1", "--json")
    assert r.code == 0 and TEXTS[3] in r.out, r.err


def test_bad_options_are_refused_in_one_line(teacher):
    from simsent.adapt.static import distill_static

    with pytest.raises(ConfigError, match="--dim 999"):
        distill_static(teacher, TEXTS, dim=999)
    with pytest.raises(ConfigError, match="needs text"):
        distill_static(teacher, [], dim=8)
    with pytest.raises(ConfigError, match="unknown vocabulary"):
        distill_static(teacher, TEXTS, vocabulary="some")


def test_distill_student_static_from_the_cli(tiny_bert, tmp_path, cli):
    from sentence_transformers import SentenceTransformer

    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    r = cli("-q", "distill", "--teacher", tiny_bert, "--student", "static", "--corpus", str(corpus),
            "--output", str(tmp_path / "s"), "--static-dim", "4")
    assert r.code == 0 and "4 dimensions" in r.out, r.err
    assert SentenceTransformer(str(tmp_path / "s"), device="cpu").encode(TEXTS).shape == (len(TEXTS), 4)
    r = cli("-q", "distill", "--teacher", tiny_bert, "--student", "static", "--corpus", str(corpus),
            "--output", str(tmp_path / "t"), "--static-vocabulary", "some")
    assert r.code == 2 and "unknown vocabulary" in r.err and len(r.err.strip().splitlines()) == 1


def test_the_service_serves_a_static_model_and_counts_its_pieces(teacher):
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from simsent.adapt.static import distill_static
    from simsent.serve import create_app

    student = distill_static(teacher, TEXTS, dim=8)
    with TestClient(create_app(student)) as client:
        _check_served(client, student)


def _check_served(client, student):
    texts = TEXTS[:3]
    embed = client.post("/embed", json={"texts": texts}).json()
    np.testing.assert_allclose(np.asarray(embed["embeddings"]), student.encode(texts), atol=1e-5)
    usage = client.post("/v1/embeddings", json={"input": texts}).json()["usage"]
    assert usage["prompt_tokens"] == sum(len(ids) for ids in student.token_ids(texts))
