"""Folders written by sentence-transformers itself, module by module: simsent gives the vectors
``SentenceTransformer(path).encode`` gives, or refuses the folder in one line naming the module."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import torch

from simsent.errors import ModelLoadError
from simsent.modeling.sentence_encoder import SentenceEncoder

TEXTS = ["今天天气不错", "我想去北京吃饭", "花呗额度为何不能用", "a", "怎么修改手机号码密码", "ABC abc"]


def _st_folder(tiny_bert: str, path, *after_pooling, pooling=("mean",), before_pooling=(), **st_kwargs):
    """Save a SentenceTransformer built from sentence-transformers' own modules to ``path``."""
    from sentence_transformers import SentenceTransformer, models

    torch.manual_seed(0)
    transformer = models.Transformer(tiny_bert, max_seq_length=32)
    modules = [transformer, *before_pooling, models.Pooling(32, pooling_mode=pooling), *after_pooling]
    for m in after_pooling:  # give heads non-trivial weights
        for p in m.parameters():
            torch.nn.init.normal_(p, std=0.5)
    SentenceTransformer(modules=modules, device="cpu", **st_kwargs).save(str(path))
    return str(path)


def _assert_parity(path: str, **encode_kwargs) -> SentenceEncoder:
    from sentence_transformers import SentenceTransformer

    theirs = SentenceTransformer(path, device="cpu").encode(TEXTS, **encode_kwargs)
    ours_model = SentenceEncoder.load(path)
    ours = ours_model.encode(TEXTS, **encode_kwargs)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert ours_model.get_sentence_embedding_dimension() == theirs.shape[1]
    return ours_model


@pytest.mark.parametrize(
    "pooling",
    [("cls",), ("max",), ("mean",), ("mean_sqrt_len_tokens",), ("weightedmean",), ("lasttoken",),
     ("cls", "mean"), ("mean", "cls", "max"), ("weightedmean", "lasttoken")],
)
def test_every_pooling_mode_and_their_concatenation(tiny_bert, tmp_path, pooling):
    model = _assert_parity(_st_folder(tiny_bert, tmp_path / "m", pooling=pooling))
    # and back: simsent's save of it is read by sentence-transformers with the same vectors
    model.save(str(tmp_path / "again"))
    _assert_parity(str(tmp_path / "again"))


@pytest.mark.parametrize("activation", ["ReLU", "GELU", "Tanh", "Identity", "Sigmoid", "SiLU"])
def test_dense_with_any_torch_activation(tiny_bert, tmp_path, activation):
    from sentence_transformers import models

    dense = models.Dense(32, 16, activation_function=getattr(torch.nn, activation)())
    model = _assert_parity(_st_folder(tiny_bert, tmp_path / "m", dense))
    model.save(str(tmp_path / "again"))
    _assert_parity(str(tmp_path / "again"))


@pytest.mark.parametrize("out", [32, 8])
def test_dense_with_a_residual(tiny_bert, tmp_path, out):
    from sentence_transformers import models

    dense = models.Dense(32, out, activation_function=torch.nn.ReLU(), use_residual=True)
    model = _assert_parity(_st_folder(tiny_bert, tmp_path / "m", dense))
    model.save(str(tmp_path / "again"))
    _assert_parity(str(tmp_path / "again"))


def test_layernorm_dropout_dense_and_normalize_in_order(tiny_bert, tmp_path):
    from sentence_transformers import models

    heads = [models.Dense(64, 24), models.Dropout(0.3), models.LayerNorm(24), models.Normalize()]
    model = _assert_parity(_st_folder(tiny_bert, tmp_path / "m", *heads, pooling=("cls", "mean")))
    assert [type(h).__name__ for h in model.dense] == ["DenseLayer", "DropoutLayer", "LayerNormLayer"]
    model.save(str(tmp_path / "again"))
    _assert_parity(str(tmp_path / "again"))


@pytest.mark.parametrize("hidden_states", [True, False])
def test_weighted_layer_pooling(tiny_bert, tmp_path, hidden_states):
    from sentence_transformers import models

    start = tmp_path / "bert"
    shutil.copytree(tiny_bert, start)
    cfg = json.loads((start / "config.json").read_text())
    cfg["output_hidden_states"] = hidden_states  # without it sentence-transformers skips the module
    (start / "config.json").write_text(json.dumps(cfg))
    wlp = models.WeightedLayerPooling(32, num_hidden_layers=2, layer_start=1,
                                      layer_weights=torch.nn.Parameter(torch.tensor([0.3, 1.7])))
    path = _st_folder(str(start), tmp_path / "m", before_pooling=[wlp])
    model = _assert_parity(path)
    assert (model.pooling.layer_weights is not None) is hidden_states
    model.save(str(tmp_path / "again"))
    _assert_parity(str(tmp_path / "again"))


def test_prompts_are_read_used_and_kept(tiny_bert, tmp_path):
    path = _st_folder(tiny_bert, tmp_path / "m", prompts={"query": "query: ", "passage": "passage: "},
                      default_prompt_name="query")
    model = _assert_parity(path)
    _assert_parity(path, prompt_name="passage")
    _assert_parity(path, prompt="天气")
    assert model.prompts["query"] == "query: "
    model.save(str(tmp_path / "again"))
    again = _assert_parity(str(tmp_path / "again"), prompt_name="passage")
    assert again.default_prompt_name == "query"
    with pytest.raises(Exception, match="unknown prompt name 'nope'"):
        again.encode(TEXTS, prompt_name="nope")


def test_do_lower_case(tmp_path, make_tiny_bert):
    from sentence_transformers import SentenceTransformer, models

    start = make_tiny_bert(str(tmp_path / "cased"))
    tok = json.loads((tmp_path / "cased" / "tokenizer.json").read_text())
    tok["normalizer"]["lowercase"] = False
    (tmp_path / "cased" / "tokenizer.json").write_text(json.dumps(tok))
    transformer = models.Transformer(start, max_seq_length=32, do_lower_case=True)
    st = SentenceTransformer(modules=[transformer, models.Pooling(32)], device="cpu")
    st.save(str(tmp_path / "m"))
    cfg = json.loads((tmp_path / "m" / "sentence_bert_config.json").read_text())
    cfg["do_lower_case"] = True  # as older releases keep it
    (tmp_path / "m" / "sentence_bert_config.json").write_text(json.dumps(cfg))
    model = _assert_parity(str(tmp_path / "m"))
    np.testing.assert_allclose(model.encode("ABC"), model.encode("abc"), atol=1e-6)


def test_a_transformer_in_its_own_subfolder(tiny_bert, tmp_path):
    path = tmp_path / "m"
    _st_folder(tiny_bert, path)
    sub = path / "0_Transformer"
    sub.mkdir()
    for name in os.listdir(path):
        if os.path.isfile(path / name) and name not in ("modules.json", "config_sentence_transformers.json"):
            shutil.move(str(path / name), sub / name)
    modules = json.loads((path / "modules.json").read_text())
    modules[0]["path"] = "0_Transformer"
    (path / "modules.json").write_text(json.dumps(modules))
    _assert_parity(str(path))


SUPPORTED = {"Transformer", "Pooling", "WeightedLayerPooling", "Dense", "LayerNorm", "Dropout", "Normalize"}


def test_every_other_module_is_refused_by_name(tiny_bert, tmp_path):
    import sentence_transformers.sentence_transformer.modules as st_modules

    others = sorted(set(st_modules.__all__) - SUPPORTED - {"Module", "InputModule"})
    assert {"CNN", "LSTM", "StaticEmbedding", "Router", "BoW", "WordEmbeddings", "CLIPModel"} <= set(others)
    base = _st_folder(tiny_bert, tmp_path / "base")
    for name in others:
        path = tmp_path / name
        shutil.copytree(base, path)
        modules = json.loads((path / "modules.json").read_text())
        module = getattr(st_modules, name)
        modules.insert(1, {"idx": 1, "name": "x", "path": f"1_{name}",
                           "type": f"{module.__module__}.{module.__name__}"})
        (path / "modules.json").write_text(json.dumps(modules))
        full = rf"{module.__module__}\.{module.__name__}"
        with pytest.raises(ModelLoadError, match=rf"\({full}\) is not supported"):
            SentenceEncoder.load(str(path))


def test_pooling_without_prompt_tokens_is_refused(tiny_bert, tmp_path):
    from sentence_transformers import SentenceTransformer, models

    st = SentenceTransformer(
        modules=[models.Transformer(tiny_bert), models.Pooling(32, include_prompt=False)], device="cpu"
    )
    st.save(str(tmp_path / "m"))
    with pytest.raises(ModelLoadError, match="include_prompt=false"):
        SentenceEncoder.load(str(tmp_path / "m"))


def test_a_module_path_outside_the_folder_is_refused(tiny_bert, tmp_path):
    path = _st_folder(tiny_bert, tmp_path / "m")
    modules = json.loads((tmp_path / "m" / "modules.json").read_text())
    modules[1]["path"] = "../../etc"
    (tmp_path / "m" / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(ModelLoadError, match="outside the model folder"):
        SentenceEncoder.load(path)


def test_a_dense_with_an_activation_outside_torch_is_refused(tiny_bert, tmp_path):
    from sentence_transformers import models

    path = _st_folder(tiny_bert, tmp_path / "m", models.Dense(32, 8))
    cfg_file = tmp_path / "m" / "2_Dense" / "config.json"
    cfg = json.loads(cfg_file.read_text())
    cfg["activation_function"] = "os.system"
    cfg_file.write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match="unknown activation 'os.system'"):
        SentenceEncoder.load(path)
