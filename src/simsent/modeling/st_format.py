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
others              ``Pooling`` with that mode, or several (``cls+mean``) concatenated
==================  ==========================================================================

Whitening and other heads are ``Dense`` / ``LayerNorm`` / ``Dropout`` modules; normalisation is
``Normalize``; prompts go to ``config_sentence_transformers.json``. Reading such folders:
:mod:`simsent.modeling.st_reader`. Encoders that are not transformers (TextCNN) are written under
``0_Encoder``; one that names a custom sentence-transformers module in ``st_module_class`` (TextCNN
does) gets a ``modules.json`` listing it, which sentence-transformers 6.x loads with
``trust_remote_code=True``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from typing import Any

import torch
from safetensors.torch import save_file

from simsent._io import replace_dir, temp_dir, write_guard
from simsent.modeling.dense import DenseLayer

ST = "sentence_transformers.models."
SIMSENT_CONFIG = "simsent_config.json"


def _write_json(path: str, obj: object) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)


#: sentence-transformers' boolean key of each Pooling mode, in its concatenation order
_POOLING_KEYS = {
    "cls": "pooling_mode_cls_token",
    "max": "pooling_mode_max_tokens",
    "mean": "pooling_mode_mean_tokens",
    "mean_sqrt_len": "pooling_mode_mean_sqrt_len_tokens",
    "weightedmean": "pooling_mode_weightedmean_tokens",
    "lasttoken": "pooling_mode_lasttoken",
}


def _write_pooling(folder: str, dim: int, mode: str) -> None:
    """A ``Pooling`` config: the boolean keys every release reads, or (for modes out of
    sentence-transformers' fixed order) the ``pooling_mode`` list that 6.x reads."""
    from simsent.modeling.pooling import pooling_parts

    parts = pooling_parts({"last_avg": "mean", "first_last_avg": "mean", "pooler": "cls"}.get(mode, mode))
    config: dict[str, Any] = {"word_embedding_dimension": dim}
    if parts == [m for m in _POOLING_KEYS if m in parts]:
        config.update({key: m in parts for m, key in _POOLING_KEYS.items()})
    else:
        config.update({"pooling_mode": [{"mean_sqrt_len": "mean_sqrt_len_tokens"}.get(m, m) for m in parts]})
    os.makedirs(folder, exist_ok=True)
    _write_json(os.path.join(folder, "config.json"), config)


def _write_layer_weights(folder: str, dim: int, weights: torch.Tensor, start: int) -> None:
    os.makedirs(folder, exist_ok=True)
    _write_json(
        os.path.join(folder, "config.json"),
        {
            "word_embedding_dimension": dim,
            "layer_start": start,
            "num_hidden_layers": len(weights) + start - 1,
        },
    )
    save_file({"layer_weights": weights.detach().float().cpu().contiguous()},
              os.path.join(folder, "model.safetensors"))


def _first_last_weights(num_layers: int) -> torch.Tensor:
    """``WeightedLayerPooling`` weights from layer 1 on: 1 on the first and last layer, 0 between."""
    weights = torch.zeros(num_layers)
    weights[0] = 1.0
    weights[-1] = 1.0
    return weights


class _Modules:
    """The ``modules.json`` list being written into ``root``."""

    def __init__(self, root: str) -> None:
        self.root, self.rows = root, []

    def add(self, kind: str, sub: str | None = None, full_type: str | None = None) -> str:
        sub = f"{len(self.rows)}_{kind}" if sub is None else sub
        self.rows.append({"idx": len(self.rows), "name": str(len(self.rows)), "path": sub,
                          "type": full_type or ST + kind})
        return os.path.join(self.root, sub)


def _write_transformer_modules(model: torch.nn.Module, modules: _Modules, dim: int) -> None:
    """Transformer, the layer weighting of ``first_last_avg`` (or of a loaded ``WeightedLayerPooling``),
    Pooling, and the pooler's Dense for ``pooler``."""
    enc, pooling, tmp = model.encoder, model.pooling, modules.root
    modules.add("Transformer", "")
    st_config = {"max_seq_length": enc.max_len, "do_lower_case": False}
    _write_json(os.path.join(tmp, "sentence_bert_config.json"), st_config)
    weights, start = pooling.layer_weights, pooling.layer_start
    if pooling.mode == "first_last_avg":
        weights, start = _first_last_weights(enc.model.config.num_hidden_layers), 1
    if weights is not None:
        # sentence-transformers returns all hidden states only when the config asks for them
        cfg_file = os.path.join(tmp, "config.json")
        with open(cfg_file, encoding="utf-8") as f:
            hf_cfg = json.load(f)
        hf_cfg["output_hidden_states"] = True
        _write_json(cfg_file, hf_cfg)
        _write_layer_weights(modules.add("WeightedLayerPooling"), dim, weights, start)
    _write_pooling(modules.add("Pooling"), dim, pooling.mode)
    if pooling.mode == "pooler":
        weight, bias = enc.pooler_weights()
        DenseLayer.from_weights(weight, bias, activation="tanh").save(modules.add("Dense"))


def _write_st_config(tmp: str, model: torch.nn.Module) -> None:
    from simsent import __version__

    _write_json(
        os.path.join(tmp, "config_sentence_transformers.json"),
        {
            "__version__": {"simsent": __version__},
            "prompts": dict(model.prompts),
            "default_prompt_name": model.default_prompt_name,
            "similarity_fn_name": "cosine",
        },
    )


def _write_folder(model: torch.nn.Module, tmp: str, model_card: str | None) -> None:
    """Everything of the saved folder, written into the empty folder ``tmp``."""
    from simsent import __version__

    enc = model.encoder
    dim = enc.get_embedding_dimension()
    modules = _Modules(tmp)
    is_transformer = enc.kind == "transformer"
    # other encoders may name a custom sentence-transformers module (loaded with trust_remote_code=True)
    custom_st_class = getattr(enc, "st_module_class", None)
    st_compatible = is_transformer or custom_st_class is not None
    encoder_path = "" if is_transformer else "0_Encoder"
    enc.save(os.path.join(tmp, encoder_path))
    if is_transformer:
        _write_transformer_modules(model, modules, dim)
    elif custom_st_class is not None:
        modules.add("Encoder", encoder_path, full_type=custom_st_class)
        _write_pooling(modules.add("Pooling"), dim, model.pooling.mode)
    dense_paths: list[str] = []
    for layer in model.dense:
        sub = f"{len(modules.rows) if st_compatible else len(dense_paths) + 1}_{layer.st_type}"
        layer.save(os.path.join(tmp, sub))
        dense_paths.append(sub)
        if st_compatible:
            modules.add(layer.st_type, sub)
    if model.normalize and st_compatible:
        os.makedirs(modules.add("Normalize"), exist_ok=True)
    if st_compatible:
        _write_json(os.path.join(tmp, "modules.json"), modules.rows)
        _write_st_config(tmp, model)
    config = model.config_dict()
    config.update({"encoder_path": encoder_path, "dense_paths": dense_paths, "simsent_version": __version__})
    _write_json(os.path.join(tmp, SIMSENT_CONFIG), config)
    if model_card:
        with open(os.path.join(tmp, "README.md"), "w", encoding="utf-8") as f:
            f.write(model_card)


def write_sentence_transformers_folder(
    model: torch.nn.Module, path: str, model_card: str | None = None
) -> None:
    """Save ``model`` under ``path`` atomically (written to a temporary folder, then renamed)."""
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not os.path.isdir(path):
        from simsent.errors import DataError

        raise DataError(f"cannot save the model to {path}: it is an existing file; give a folder path")
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = temp_dir(parent, "save")
    needed = sum(p.numel() * p.element_size() for p in model.state_dict().values())
    with write_guard(path, needed):  # outside the clean-up, so that the free space it names is true
        try:
            _write_folder(model, tmp, model_card)
            # keep what else lives in the folder (checkpoint, history, plots), drop stale module folders
            replace_dir(tmp, path, carry_over=lambda name: not re.match(r"^\d+_", name))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
