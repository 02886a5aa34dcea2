"""ONNX export round trips: the fp32 graph equals torch, int8 stays close, folders without torch
weights load through onnxruntime, and a missing onnxruntime is one clear error."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

TEXTS = ["今天天气不错", "今天天气很好", "我想去北京吃饭", "花呗怎么还款", "银行卡密码修改了吗", "你好"]


def _cos(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(1)


@pytest.mark.parametrize("pooling", ["cls", "first_last_avg", "mean"])
def test_fp32_graph_equals_torch_for_the_whole_pipeline(tiny_bert, tmp_path, pooling):
    from simsent.adapt.whitening import whiten_model
    from simsent.modeling.onnx import OnnxSentenceEncoder, export_onnx
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(tiny_bert, pooling=pooling, max_len=16)
    whiten_model(model, TEXTS * 2, dim=4)  # a Dense layer in the graph
    model.normalize = True
    attention = model.encoder.model.config._attn_implementation
    export_onnx(model, str(tmp_path / "m"))  # traced through eager attention
    assert model.encoder.model.config._attn_implementation == attention  # and switched back
    onnx_model = SentenceEncoder.load(str(tmp_path / "m"), backend="onnx")
    assert isinstance(onnx_model, OnnxSentenceEncoder)
    np.testing.assert_allclose(onnx_model.encode(TEXTS, batch_size=4), model.encode(TEXTS), atol=1e-4)
    for text in TEXTS[:2]:  # a batch without padding: the mask was traced, not dropped
        np.testing.assert_allclose(onnx_model.encode(text), model.encode(text), atol=1e-4)
    torch_again = SentenceEncoder.load(str(tmp_path / "m"))  # the folder still loads in torch
    np.testing.assert_allclose(torch_again.encode(TEXTS), model.encode(TEXTS), atol=1e-6)


def test_int8_graph_is_close_and_chosen_by_default(make_tiny_bert, tmp_path):
    from simsent.modeling.onnx import export_onnx
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(make_tiny_bert(str(tmp_path / "b"), hidden=64), max_len=16)
    record = export_onnx(model, str(tmp_path / "m"), quantize="int8")
    assert record["file"].endswith("qint8_avx512_vnni.onnx")
    int8 = SentenceEncoder.load(str(tmp_path / "m"), backend="onnx")
    fp32 = SentenceEncoder.load(str(tmp_path / "m"), backend="onnx", file_name="model.onnx")
    assert int8.precision == "int8" and fp32.precision == "fp32"
    assert _cos(int8.encode(TEXTS), model.encode(TEXTS)).min() > 0.98
    np.testing.assert_allclose(fp32.encode(TEXTS), model.encode(TEXTS), atol=1e-4)


def test_batches_run_side_by_side_give_the_same_vectors(tiny_bert, tmp_path):
    from simsent.modeling.onnx import OnnxSentenceEncoder, export_onnx
    from simsent.modeling.sentence_encoder import SentenceEncoder

    export_onnx(SentenceEncoder.from_pretrained(tiny_bert, max_len=16), str(tmp_path / "m"))
    texts = [t * (1 + i % 4) for i, t in enumerate(TEXTS * 6)]
    one = OnnxSentenceEncoder(str(tmp_path / "m"), threads=1)
    two = OnnxSentenceEncoder(str(tmp_path / "m"), threads=2)
    side_by_side = two.encode(texts, batch_size=2)  # 18 batches: two at a time, one thread each
    assert two._single is not None
    np.testing.assert_allclose(side_by_side, one.encode(texts, batch_size=2), atol=1e-6)
    np.testing.assert_allclose(two.encode(texts[:3]), one.encode(texts[:3]), atol=1e-6)


def test_textcnn_exports_too(tmp_path):
    from simsent.modeling.encoders.textcnn import build_textcnn_model
    from simsent.modeling.onnx import export_onnx
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = build_textcnn_model(TEXTS, emb_dim=8, filters=4, seed=0)
    export_onnx(model, str(tmp_path / "m"))
    onnx_model = SentenceEncoder.load(str(tmp_path / "m"), backend="onnx")
    np.testing.assert_allclose(onnx_model.encode(TEXTS), model.encode(TEXTS), atol=1e-4)


def test_a_folder_with_onnx_and_no_torch_weights_loads_with_onnxruntime(tiny_bert, tmp_path, cli):
    from simsent.modeling.onnx import OnnxSentenceEncoder
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(tiny_bert, max_len=16)
    assert cli("export", tiny_bert, "--output", tmp_path / "m").code == 0
    os.remove(tmp_path / "m" / "model.safetensors")
    loaded = SentenceEncoder.load(str(tmp_path / "m"))
    assert isinstance(loaded, OnnxSentenceEncoder)
    np.testing.assert_allclose(loaded.encode(TEXTS), model.encode(TEXTS), atol=1e-4)
    r = cli("similarity", tmp_path / "m", "今天天气不错", "今天天气很好", "--backend", "onnx")
    assert r.code == 0 and abs(float(r.out.split()[0]) - model.similarity(TEXTS[0], TEXTS[1])) < 1e-4
    r = cli(
        "encode",
        tmp_path / "m",
        "--backend",
        "onnx",
        "--input",
        _write(tmp_path),
        "--output",
        tmp_path / "v.npy",
    )
    assert r.code == 0
    np.testing.assert_allclose(np.load(tmp_path / "v.npy"), model.encode(TEXTS), atol=1e-4)


def _write(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    return path


def test_errors_are_one_line(tiny_bert, tmp_path, cli, monkeypatch):
    r = cli("export", tiny_bert, "--output", tmp_path / "m", "--quantize", "int4")
    assert r.code == 2 and "int8" in r.err
    r = cli("export", tiny_bert, "--output", tmp_path / "m", "--format", "tflite")
    assert r.code == 2 and "onnx" in r.err
    r = cli("similarity", tiny_bert, "a", "b", "--backend", "onnx")
    assert r.code == 2 and "simsent export" in r.err
    import builtins

    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    r = cli("export", tiny_bert, "--output", tmp_path / "n")
    assert r.code == 2 and "pip install simsent[onnx]" in r.err


def test_the_service_runs_an_onnx_model(tiny_bert, tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from simsent.modeling.onnx import export_onnx
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.serve import create_app

    model = SentenceEncoder.from_pretrained(tiny_bert, max_len=16)
    export_onnx(model, str(tmp_path / "m"), quantize="int8")
    with TestClient(create_app(SentenceEncoder.load(str(tmp_path / "m"), backend="onnx"))) as c:
        health = c.get("/health").json()
        assert health["backend"] == "onnx" and health["precision"] == "int8" and health["dim"] == 32
        vec = np.array(c.post("/embed", json={"texts": TEXTS[:2]}).json()["embeddings"])
        assert _cos(vec, model.encode(TEXTS[:2])).min() > 0.98


def test_index_calibrate_and_mine_run_on_the_onnx_backend(tiny_bert, tmp_path, cli):
    assert cli("export", tiny_bert, "--output", tmp_path / "m", "--quantize", "int8").code == 0
    corpus = _write(tmp_path)
    r = cli(
        "index",
        "build",
        tmp_path / "m",
        "--corpus",
        corpus,
        "--output",
        tmp_path / "ix",
        "--model-backend",
        "onnx",
    )
    assert r.code == 0, r.err
    r = cli("index", "search", tmp_path / "ix", "今天天气不错", "-k", "1", "--model-backend", "onnx")
    assert r.code == 0 and "今天天气不错" in r.out
    r = cli("index", "search", tmp_path / "ix", "今天天气不错")  # torch weights: another fingerprint
    assert r.code == 2 and "model" in r.err
    pairs = tmp_path / "pairs.data"
    pairs.write_text(
        "今天天气不错\t今天天气很好\t1\n我想去北京吃饭\t花呗怎么还款\t0\n你好\t你好\t1\n", encoding="utf-8"
    )
    r = cli("calibrate", tmp_path / "m", "--pairs", pairs, "--backend", "onnx")
    assert r.code == 0, r.err
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text('{"text": "今天天气不错", "label": "w"}\n', encoding="utf-8")
    r = cli("mine", tmp_path / "m", "--seeds", seeds, "--pool", corpus, "--backend", "onnx")
    assert r.code == 0, r.err


def test_the_onnx_backend_runs_on_the_cpu_whatever_the_machine_has(tiny_bert, tmp_path, cli, monkeypatch):
    import torch

    assert cli("export", tiny_bert, "--output", tmp_path / "m").code == 0
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # as on a GPU machine: auto stays CPU
    r = cli("similarity", tmp_path / "m", "今天", "明天", "--backend", "onnx")
    assert r.code == 0, r.err
    r = cli("similarity", tmp_path / "m", "今天", "明天", "--backend", "onnx", "--device", "cuda")
    assert r.code == 2 and "CPU" in r.err


def test_the_onnx_model_uses_the_prompts_as_torch_does(tiny_bert, tmp_path):
    from simsent.modeling.onnx import export_onnx
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(tiny_bert, max_len=16)
    model.prompts, model.default_prompt_name = {"query": "天气", "passage": "北京"}, "query"
    export_onnx(model, str(tmp_path / "m"))
    onnx_model = SentenceEncoder.load(str(tmp_path / "m"), backend="onnx")
    np.testing.assert_allclose(onnx_model.encode(TEXTS), model.encode(TEXTS), atol=1e-4)
    np.testing.assert_allclose(
        onnx_model.encode(TEXTS, prompt_name="passage"), model.encode(TEXTS, prompt_name="passage"), atol=1e-4
    )
    assert not np.allclose(model.encode(TEXTS), model.encode(TEXTS, prompt=""), atol=1e-3)


def test_the_optimised_graph_fuses_attention_and_gives_the_same_vectors(make_tiny_bert, tmp_path):
    import onnx

    from simsent.modeling.onnx import export_onnx
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(make_tiny_bert(str(tmp_path / "b"), hidden=64), max_len=16)
    model.normalize = True
    record = export_onnx(model, str(tmp_path / "m"), quantize="int8", optimize=True)
    assert "Attention" in record["optimized"]
    ops = {n.op_type for n in onnx.load(str(tmp_path / "m" / "onnx" / "model.onnx")).graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= ops  # fused, as the record says
    fp32 = SentenceEncoder.load(str(tmp_path / "m"), backend="onnx", file_name="model.onnx")
    np.testing.assert_allclose(fp32.encode(TEXTS), model.encode(TEXTS), atol=1e-4)
    int8 = SentenceEncoder.load(str(tmp_path / "m"), backend="onnx")
    assert _cos(int8.encode(TEXTS), model.encode(TEXTS)).min() > 0.98


def test_optimising_a_model_without_a_transformer_is_refused_in_one_line(tmp_path, cli):
    from simsent.modeling.encoders.textcnn import build_textcnn_model

    cnn = build_textcnn_model(TEXTS, emb_dim=16, filters=8, kernel_sizes=(2,), max_len=16)
    cnn.save(str(tmp_path / "cnn"))
    r = cli("export", tmp_path / "cnn", "--output", tmp_path / "o", "--optimize")
    assert r.code == 2 and "--optimize fuses a transformer" in r.err and len(r.err.strip().splitlines()) == 1
