"""The sentence-transformers folder of a :class:`~simsent.SentenceEncoder`: read and write.

The folder uses the classic module names (``sentence_transformers.models.*``), which every
sentence-transformers release from 2.x to 6.x loads. How each pooling is expressed:

==================  ==========================================================================
``cls`` / ``mean``  ``Pooling`` with that mode (``last_avg`` is ``mean``)
``max``             ``Pooling`` max
``pooler``          ``Pooling`` cls + ``Dense(H, H, Tanh)`` holding the model's pooler weights
``first_last_avg``  ``WeightedLayerPooling`` with weight 1 on layers 1 and L (0 elsewhere), then
                    ``Pooling`` mean: the masked mean is linear, so this equals the average of the
                    two layers' masked means
==================  ==========================================================================

Whitening and other heads are ``Dense`` modules (identity activation); normalisation is
``Normalize``. Encoders that are not transformers (TextCNN) are written under ``0_Encoder``; one
that names a custom sentence-transformers module in ``st_module_class`` (TextCNN does) gets a
``modules.json`` listing it, which sentence-transformers 6.x loads with ``trust_remote_code=True``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from typing import Any

import torch
from safetensors.torch import save_file

from simsent._io import replace_dir
from simsent.modeling.dense import DenseLayer

logger = logging.getLogger(__name__)


ST = "sentence_transformers.models."
SIMSENT_CONFIG = "simsent_config.json"


def read_st_modules(path: str) -> tuple[str | None, list[DenseLayer], bool]:
    """Pooling mode, Dense layers and normalisation of a sentence-transformers folder (if it is one)."""
    modules_file = os.path.join(path, "modules.json")
    if not os.path.isfile(modules_file):
        return None, [], False
    with open(modules_file, encoding="utf-8") as f:
        modules = json.load(f)
    mode, dense, normalize = None, [], False
    for m in modules:
        kind = m["type"].rsplit(".", 1)[-1]
        sub = os.path.join(path, m.get("path", ""))
        if kind == "Pooling":
            with open(os.path.join(sub, "config.json"), encoding="utf-8") as f:
                cfg = json.load(f)
            raw = cfg.get("pooling_mode")
            if isinstance(raw, list):
                raw = raw[0]
            if raw is None:
                raw = (
                    "cls"
                    if cfg.get("pooling_mode_cls_token")
                    else "max"
                    if cfg.get("pooling_mode_max_tokens")
                    else "mean"
                )
            mode = {"cls": "cls", "max": "max"}.get(raw, "mean")
        elif kind == "Dense":
            dense.append(DenseLayer.load(sub))
        elif kind == "Normalize":
            normalize = True
        elif kind != "Transformer":
            logger.warning("module %s of %s is not supported by simsent and is ignored", kind, path)
    return mode, dense, normalize


def _write_json(path: str, obj: object) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)


def _write_pooling(folder: str, dim: int, mode: str) -> None:
    os.makedirs(folder, exist_ok=True)
    _write_json(
        os.path.join(folder, "config.json"),
        {
            "word_embedding_dimension": dim,
            "pooling_mode_cls_token": mode == "cls",
            "pooling_mode_mean_tokens": mode == "mean",
            "pooling_mode_max_tokens": mode == "max",
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )


def _write_first_last(folder: str, dim: int, num_layers: int) -> None:
    os.makedirs(folder, exist_ok=True)
    _write_json(
        os.path.join(folder, "config.json"),
        {"word_embedding_dimension": dim, "layer_start": 1, "num_hidden_layers": num_layers},
    )
    weights = torch.zeros(num_layers)
    weights[0] = 1.0
    weights[-1] = 1.0
    save_file({"layer_weights": weights}, os.path.join(folder, "model.safetensors"))


def write_sentence_transformers_folder(
    model: Any, path: str, model_card: str | None = None
) -> None:
    """Save ``model`` under ``path`` atomically (written to a temporary folder, then renamed)."""
    from simsent import __version__

    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not os.path.isdir(path):
        from simsent.errors import DataError

        raise DataError(f"cannot save the model to {path}: it is an existing file; give a folder path")
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-save-", dir=parent)
    try:
        enc = model.encoder
        dim = enc.get_embedding_dimension()
        modules: list[dict] = []

        def add(kind: str, sub: str) -> None:
            modules.append({"idx": len(modules), "name": str(len(modules)), "path": sub, "type": ST + kind})

        is_transformer = enc.kind == "transformer"
        # other encoders may name a custom sentence-transformers module (loaded with trust_remote_code=True)
        custom_st_class = getattr(enc, "st_module_class", None)
        st_compatible = is_transformer or custom_st_class is not None
        encoder_path = "" if is_transformer else "0_Encoder"
        enc.save(os.path.join(tmp, encoder_path))
        mode = model.pooling.mode
        dense_paths: list[str] = []
        if is_transformer:
            add("Transformer", "")
            _write_json(
                os.path.join(tmp, "sentence_bert_config.json"),
                {"max_seq_length": enc.max_len, "do_lower_case": False},
            )
            if mode == "first_last_avg":
                # sentence-transformers returns all hidden states only when the config asks for them
                cfg_file = os.path.join(tmp, "config.json")
                with open(cfg_file, encoding="utf-8") as f:
                    hf_cfg = json.load(f)
                hf_cfg["output_hidden_states"] = True
                _write_json(cfg_file, hf_cfg)
                sub = f"{len(modules)}_WeightedLayerPooling"
                _write_first_last(os.path.join(tmp, sub), dim, enc.model.config.num_hidden_layers)
                add("WeightedLayerPooling", sub)
            st_mode = {"last_avg": "mean", "first_last_avg": "mean", "pooler": "cls"}.get(mode, mode)
            sub = f"{len(modules)}_Pooling"
            _write_pooling(os.path.join(tmp, sub), dim, st_mode)
            add("Pooling", sub)
            if mode == "pooler":
                weight, bias = enc.pooler_weights()
                sub = f"{len(modules)}_Dense"
                DenseLayer.from_weights(weight, bias, activation="tanh").save(os.path.join(tmp, sub))
                add("Dense", sub)
        elif custom_st_class is not None:
            modules.append({"idx": 0, "name": "0", "path": encoder_path, "type": custom_st_class})
            sub = f"{len(modules)}_Pooling"
            _write_pooling(os.path.join(tmp, sub), dim, {"last_avg": "mean"}.get(mode, mode))
            add("Pooling", sub)
        for layer in model.dense:
            sub = f"{len(modules) if st_compatible else len(dense_paths) + 1}_Dense"
            layer.save(os.path.join(tmp, sub))
            dense_paths.append(sub)
            if st_compatible:
                add("Dense", sub)
        if model.normalize and st_compatible:
            sub = f"{len(modules)}_Normalize"
            os.makedirs(os.path.join(tmp, sub), exist_ok=True)
            add("Normalize", sub)
        if st_compatible:
            _write_json(os.path.join(tmp, "modules.json"), modules)
            _write_json(
                os.path.join(tmp, "config_sentence_transformers.json"),
                {
                    "__version__": {"simsent": __version__},
                    "prompts": {},
                    "default_prompt_name": None,
                    "similarity_fn_name": "cosine",
                },
            )
        config = model.config_dict()
        config.update(
            {"encoder_path": encoder_path, "dense_paths": dense_paths, "simsent_version": __version__}
        )
        _write_json(os.path.join(tmp, SIMSENT_CONFIG), config)
        if model_card:
            with open(os.path.join(tmp, "README.md"), "w", encoding="utf-8") as f:
                f.write(model_card)
        # keep what else lives in the folder (checkpoint, history, plots), drop stale module folders
        replace_dir(tmp, path, carry_over=lambda name: not re.match(r"^\d+_", name))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
