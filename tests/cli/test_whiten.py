"""``simsent whiten``: the whitening is a Dense layer that sentence-transformers applies."""

import random

WORDS = list("今天天气不错很好我想去北京上海吃饭喝水你他她们的了是在有没什么怎么办理银行卡借钱还款花呗额度")


def test_whiten_saves_a_dense_layer_sentence_transformers_applies(tiny_bert, tmp_path, cli):
    import numpy as np
    from sentence_transformers import SentenceTransformer

    corpus = tmp_path / "corpus.txt"
    rng = random.Random(1)
    sents = ["".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))) for _ in range(40)]
    sents = list(dict.fromkeys(sents))
    corpus.write_text("\n".join(sents) + "\n", encoding="utf-8")
    out = tmp_path / "whitened"
    r = cli("whiten", tiny_bert, "--corpus", corpus, "--dim", "4", "--output", out, "--pooling", "cls")
    assert r.code == 0, r.err
    vecs = SentenceTransformer(str(out), device="cpu").encode(sents)
    assert vecs.shape == (len(sents), 4)
    np.testing.assert_allclose(np.cov(vecs.astype(np.float64).T), np.eye(4), atol=1e-2)
