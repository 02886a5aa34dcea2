"""Broken model folders are refused in one line naming the folder, never loaded with random weights."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from simsent.errors import ModelLoadError
from simsent.modeling.sentence_encoder import SentenceEncoder


def _variant(tiny_bert: str, tmp_path, change) -> str:
    path = tmp_path / "m"
    shutil.copytree(tiny_bert, path)
    change(path)
    return str(path)


def _config(**changes):
    def change(path):
        cfg = json.loads((path / "config.json").read_text())
        cfg.update(changes)
        (path / "config.json").write_text(json.dumps(cfg))

    return change


@pytest.mark.parametrize(
    "change, message",
    [
        (_config(num_hidden_layers=3), r"missing encoder\.layer\.2"),
        (_config(num_hidden_layers=1), r"unexpected encoder\.layer\.1"),
        (_config(hidden_size=64), "wrong shape"),
        (_config(vocab_size=20), r"wrong shape embeddings\.word_embeddings"),
        (_config(model_type="roberta"), "architecture BertModel is of bert"),
        (_config(model_type="electra", architectures=["ElectraModel"]), "do not match its config.json"),
    ],
)
def test_a_config_that_disagrees_with_the_weights_is_refused(tiny_bert, tmp_path, change, message):
    path = _variant(tiny_bert, tmp_path, change)
    with pytest.raises(ModelLoadError, match=message):
        SentenceEncoder.load(path)


def test_a_missing_tokenizer_is_refused(tiny_bert, tmp_path):
    def drop_tokenizer(path):
        for name in os.listdir(path):
            if name.startswith(("tokenizer", "vocab", "special")):
                os.remove(path / name)

    with pytest.raises(ModelLoadError, match="no tokenizer in"):
        SentenceEncoder.load(_variant(tiny_bert, tmp_path, drop_tokenizer))


def test_a_tokenizer_larger_than_the_embedding_table_is_refused(tiny_bert, tmp_path):
    def grow_vocab(path):
        (path / "tokenizer.json").unlink()
        with open(path / "vocab.txt", "a", encoding="utf-8") as f:
            f.write("".join(f"extra{i}\n" for i in range(50)))

    with pytest.raises(ModelLoadError, match="embedding table only"):
        SentenceEncoder.load(_variant(tiny_bert, tmp_path, grow_vocab))


def test_a_checkpoint_without_pooler_weights_offers_no_pooler(tiny_bert, tmp_path):
    from safetensors.torch import load_file, save_file

    def drop_pooler(path):
        state = load_file(path / "model.safetensors")
        save_file({k: v for k, v in state.items() if not k.startswith("pooler.")}, path / "model.safetensors")

    path = _variant(tiny_bert, tmp_path, drop_pooler)
    assert SentenceEncoder.load(path).encode("今天").shape == (32,)
    with pytest.raises(Exception, match="needs a model with a trained dense"):
        SentenceEncoder.load(path, pooling="pooler")


def test_a_placeholder_pooler_is_not_offered(tiny_bert, tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    def identity_pooler(path):
        state = load_file(path / "model.safetensors")
        dim = state["pooler.dense.weight"].shape[0]
        state["pooler.dense.weight"], state["pooler.dense.bias"] = torch.eye(dim), torch.zeros(dim)
        save_file(state, path / "model.safetensors")

    path = _variant(tiny_bert, tmp_path, identity_pooler)
    assert SentenceEncoder.load(path).encode("今天").shape == (32,)
    with pytest.raises(Exception, match="needs a model with a trained dense"):
        SentenceEncoder.load(path, pooling="pooler")
    assert SentenceEncoder.load(tiny_bert, pooling="pooler").encoder.has_pooler()  # a trained one stays


def test_a_checkpoint_with_a_pretraining_head_loads(tmp_path, make_tiny_bert):
    from transformers import BertConfig, BertForMaskedLM

    path = make_tiny_bert(str(tmp_path / "m"))
    BertForMaskedLM(BertConfig.from_pretrained(path)).save_pretrained(path)  # cls.* head beside bert.*
    assert SentenceEncoder.load(path).encode("今天").shape == (32,)
