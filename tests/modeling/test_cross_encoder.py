"""The cross-encoder: the same scores as sentence-transformers' CrossEncoder both ways (our folder in
theirs, theirs in ours), rank as theirs, starts from a bi-encoder folder, refuses what it cannot read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simsent.errors import ModelLoadError
from simsent.modeling.cross_encoder import PAIR_SEP, CrossEncoder, join_pair

PAIRS = [("今天天气不错", "今天天气很好"), ("花呗怎么还款", "我想去北京"),
         ("银行卡密码修改", "怎么改银行卡密码呢")]


@pytest.fixture(scope="module")
def saved(tiny_bert, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("ce") / "reranker")
    CrossEncoder.from_pretrained(tiny_bert, max_len=24, seed=3).save(path)
    return path


def test_sentence_transformers_reads_our_folder_with_the_same_scores_and_ranks(saved):
    st = pytest.importorskip("sentence_transformers")
    ours, theirs = CrossEncoder.load(saved), st.CrossEncoder(saved)
    np.testing.assert_allclose(ours.predict(PAIRS), theirs.predict(PAIRS), atol=1e-5)
    texts = [b for _, b in PAIRS]
    got = ours.rank("今天天气不错", texts, top_k=2, return_documents=True)
    want = theirs.rank("今天天气不错", texts, top_k=2, return_documents=True)
    assert [h["corpus_id"] for h in got] == [h["corpus_id"] for h in want]
    assert got[0]["text"] == want[0]["text"]
    np.testing.assert_allclose([h["score"] for h in got], [h["score"] for h in want], atol=1e-5)
    assert ours.max_len == theirs.max_length == 24


def test_we_read_a_folder_sentence_transformers_wrote(tiny_bert, tmp_path):
    st = pytest.importorskip("sentence_transformers")
    theirs = st.CrossEncoder(tiny_bert, num_labels=1, max_length=20)
    theirs.save(str(tmp_path / "st"))
    ours = CrossEncoder.load(str(tmp_path / "st"))
    np.testing.assert_allclose(ours.predict(PAIRS), theirs.predict(PAIRS), atol=1e-5)
    np.testing.assert_allclose(ours.predict(PAIRS, apply_activation=False),
                               np.log(theirs.predict(PAIRS) / (1 - theirs.predict(PAIRS))), atol=1e-4)


def test_we_read_a_plain_xlm_roberta_reranker_folder_as_sentence_transformers_does(tiny_bert, tmp_path):
    """The shape of a downloaded BAAI/bge-reranker-base: XLMRobertaForSequenceClassification, one label, no
    sentence-transformers files; it is a cross-encoder (its head kept), scored as sentence-transformers."""
    st = pytest.importorskip("sentence_transformers")
    from transformers import AutoTokenizer, XLMRobertaConfig, XLMRobertaForSequenceClassification

    from simsent.modeling.cross_encoder import is_cross_encoder

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    config = XLMRobertaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                              num_attention_heads=2, intermediate_size=64, max_position_embeddings=80,
                              type_vocab_size=2, pad_token_id=tokenizer.pad_token_id, num_labels=1)
    folder = str(tmp_path / "bge-like")
    XLMRobertaForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    assert is_cross_encoder(folder)
    ours, theirs = CrossEncoder.load(folder, max_len=32), st.CrossEncoder(folder, max_length=32)
    np.testing.assert_allclose(ours.predict(PAIRS), theirs.predict(PAIRS), atol=1e-5)


def test_a_joined_pair_tokenises_as_the_pair(saved):
    ce = CrossEncoder.load(saved)
    a, b = ce.tokenize([join_pair(*PAIRS[0])]), ce.tokenize([PAIRS[0]])
    assert all((a[k] == b[k]).all() for k in b) and PAIR_SEP not in "".join(PAIRS[0])


def test_a_bi_encoder_folder_starts_a_reranker_from_its_transformer(tiny_bert, tmp_path):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    SentenceEncoder.from_pretrained(tiny_bert, pooling="cls").save(str(tmp_path / "bi"))
    ce = CrossEncoder.from_pretrained(str(tmp_path / "bi"), seed=0)
    bi = SentenceEncoder.load(str(tmp_path / "bi"))
    emb = dict(bi.encoder.model.named_parameters())["embeddings.word_embeddings.weight"]
    assert ce.model.bert.embeddings.word_embeddings.weight.data.equal(emb.data)


def test_a_reranker_of_the_first_layers_keeps_their_weights_and_loads_in_sentence_transformers(tiny_bert,
                                                                                                tmp_path):
    from transformers import AutoModel

    from simsent.errors import ConfigError

    ce = CrossEncoder.from_pretrained(tiny_bert, seed=0, layers=1)
    assert ce.model.config.num_hidden_layers == 1 and len(ce.model.bert.encoder.layer) == 1
    full = AutoModel.from_pretrained(tiny_bert)
    assert ce.model.bert.encoder.layer[0].state_dict()["attention.self.query.weight"].equal(
        full.encoder.layer[0].state_dict()["attention.self.query.weight"])
    ce.save(str(tmp_path / "short"))
    st = pytest.importorskip("sentence_transformers")
    np.testing.assert_allclose(CrossEncoder.load(str(tmp_path / "short")).predict(PAIRS),
                               st.CrossEncoder(str(tmp_path / "short")).predict(PAIRS), atol=1e-5)
    with pytest.raises(ConfigError, match="--layers 3: the start model has 2"):
        CrossEncoder.from_pretrained(tiny_bert, layers=3)


def test_what_cannot_be_read_exactly_is_refused(saved, tmp_path):
    import shutil

    for name, edit, match in [
        ("labels", lambda d: _edit(d / "config.json", id2label={"0": "a", "1": "b"}), "2 labels"),
        ("softmax", lambda d: _edit(d / "config_sentence_transformers.json",
                                    activation_fn="torch.nn.modules.activation.Softmax"), "Softmax"),
    ]:
        shutil.copytree(saved, tmp_path / name)
        edit(tmp_path / name)
        with pytest.raises(ModelLoadError, match=match):
            CrossEncoder.load(str(tmp_path / name))


def _edit(path, **changes):
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_an_exported_reranker_scores_as_the_torch_one(saved, tmp_path, cli):
    pytest.importorskip("onnxruntime")
    r = cli("export", saved, "--output", tmp_path / "onnx", "--quantize", "int8")
    assert r.code == 0, r.err
    torch_scores = CrossEncoder.load(saved).predict(PAIRS)
    fp32 = CrossEncoder.load(str(tmp_path / "onnx"), backend="onnx", file_name="model.onnx")
    np.testing.assert_allclose(fp32.predict(PAIRS), torch_scores, atol=1e-4)
    int8 = CrossEncoder.load(str(tmp_path / "onnx"), backend="onnx")
    np.testing.assert_allclose(int8.predict(PAIRS), torch_scores, atol=0.02)
    assert [h["corpus_id"] for h in fp32.rank(*_query_and_texts())] == [
        h["corpus_id"] for h in CrossEncoder.load(saved).rank(*_query_and_texts())]
    r = cli("rerank", "score", tmp_path / "onnx", "-q", PAIRS[0][0], "--texts", _texts(tmp_path), "--backend",
            "onnx")
    assert r.code == 0 and len(r.out.strip().splitlines()) == len(PAIRS)
    from simsent.cli.common import load_reranker
    from simsent.modeling.cross_encoder import OnnxCrossEncoder

    # serve --reranker-backend onnx / index search --rerank-backend onnx
    assert isinstance(load_reranker(str(tmp_path / "onnx"), "--reranker", backend="onnx"), OnnxCrossEncoder)
    assert isinstance(load_reranker(saved, "--reranker"), CrossEncoder)


def _query_and_texts():
    return PAIRS[0][0], [b for _, b in PAIRS]


def _texts(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(b for _, b in PAIRS) + "\n", encoding="utf-8")
    return path
