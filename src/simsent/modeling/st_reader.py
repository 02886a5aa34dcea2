"""Read a folder written by sentence-transformers (``modules.json``) exactly, or refuse it in one line.

Every module a saved folder can list is either read so that :meth:`~simsent.SentenceEncoder.encode`
gives the vectors ``SentenceTransformer(path).encode`` gives (tested module by module), or refused with
a :class:`~simsent.errors.ModelLoadError` naming the module:

====================================  =================================================================
``Transformer``                       the Hugging Face model in its folder; ``max_seq_length`` (or the
                                      tokenizer's ``model_max_length``) and ``do_lower_case``
``Pooling``                           every mode, several concatenated; ``include_prompt=false`` refused
``WeightedLayerPooling``              weighted average of the hidden states before pooling
``Dense`` / ``LayerNorm`` / ``Dropout``  heads on the sentence vector (:mod:`simsent.modeling.dense`)
``Normalize``                         L2 normalisation, as the last module
anything else                         refused (``CNN``, ``LSTM``, ``StaticEmbedding``, ``Router``, ...)
====================================  =================================================================

Prompts (``config_sentence_transformers.json``) are read too.

Example:
    >>> folder = read_st_folder("runs/bge-small-zh")      # doctest: +SKIP
    >>> folder.pooling, folder.normalize    # doctest: +SKIP
    ('cls', True)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from simsent._io import read_json
from simsent.errors import ModelLoadError
from simsent.modeling.dense import HEAD_TYPES
from simsent.modeling.pooling import ST_POOLING_MODES

#: sentence-transformers' legacy boolean pooling keys, in its concatenation order
_LEGACY_POOLING_KEYS = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}


@dataclass
class STFolder:
    """What a sentence-transformers folder asks for, in simsent's terms."""

    transformer_path: str
    max_len: int | None = None
    lowercase: bool = False
    pooling: str | None = None
    layer_weights: torch.Tensor | None = None
    layer_start: int = 0
    heads: list[nn.Module] = field(default_factory=list)
    normalize: bool = False
    prompts: dict[str, str] = field(default_factory=dict)
    default_prompt_name: str | None = None


def _json(path: str, what: str) -> dict[str, Any]:
    data = read_json(path, what=what)
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path} is not a JSON object; re-save or re-download the model")
    return data


def inside_folder(root: str, sub: object, listed_in: str = "modules.json") -> str:
    """``root/sub``, refusing a module path that leaves the folder."""
    if not isinstance(sub, str):
        raise ModelLoadError(f"{root}/{listed_in} names a path that is not a string: {sub!r}")
    full = os.path.realpath(os.path.join(root, sub))
    base = os.path.realpath(root)
    if full != base and not full.startswith(base + os.sep):
        raise ModelLoadError(f"{root}/{listed_in} points outside the model folder ({sub!r}); refusing it")
    return full


def pooling_mode(cfg: dict[str, Any], where: str) -> str:
    """simsent's pooling name for a ``Pooling`` config (old boolean keys or ``pooling_mode``)."""
    if cfg.get("include_prompt", True) is False:
        raise ModelLoadError(
            f"the Pooling module in {where} leaves prompt tokens out (include_prompt=false); "
            "simsent cannot load it"
        )
    raw = cfg.get("pooling_mode")
    if raw is None:
        modes = [m for k, m in _LEGACY_POOLING_KEYS.items() if cfg.get(k)] or ["mean"]
    else:
        modes = [raw] if isinstance(raw, str) else list(raw)
    modes = [{"mean_sqrt_len_tokens": "mean_sqrt_len"}.get(m, m) for m in modes]
    bad = [m for m in modes if m not in ST_POOLING_MODES]
    if bad or not modes:
        raise ModelLoadError(f"the Pooling module in {where} has an unknown mode {bad or modes!r}")
    return "+".join(modes)


def _transformer(folder: STFolder, sub: str) -> None:
    cfg_file = os.path.join(sub, "sentence_bert_config.json")
    cfg = _json(cfg_file, "sentence-transformers config") if os.path.isfile(cfg_file) else {}
    task = cfg.get("transformer_task", "feature-extraction")
    output = cfg.get("module_output_name", "token_embeddings")
    if task != "feature-extraction" or output != "token_embeddings":
        raise ModelLoadError(
            f"the Transformer module in {sub} is a {task!r} model; simsent loads feature-extraction encoders"
        )
    folder.transformer_path = sub
    folder.max_len = cfg.get("max_seq_length") if isinstance(cfg.get("max_seq_length"), int) else None
    folder.lowercase = bool(cfg.get("do_lower_case", False))


def _weighted_layers(folder: STFolder, sub: str) -> None:
    from simsent.modeling.dense import load_state

    cfg = _json(os.path.join(sub, "config.json"), "WeightedLayerPooling config")
    weights = load_state(sub).get("layer_weights")
    start = cfg.get("layer_start", 4)
    layers = cfg.get("num_hidden_layers", 12)
    if weights is None or weights.dim() != 1 or len(weights) != layers + 1 - start:
        raise ModelLoadError(f"the WeightedLayerPooling weights in {sub} do not fit its config.json")
    folder.layer_weights, folder.layer_start = weights.float(), int(start)


def _prompts(folder: STFolder, root: str) -> None:
    path = os.path.join(root, "config_sentence_transformers.json")
    if not os.path.isfile(path):
        return
    cfg = _json(path, "sentence-transformers config")
    prompts = cfg.get("prompts") or {}
    if not isinstance(prompts, dict) or not all(isinstance(v, str) for v in prompts.values()):
        raise ModelLoadError(f"{path}: 'prompts' must map names to strings")
    folder.prompts = dict(prompts)
    name = cfg.get("default_prompt_name")
    if name is not None and name not in prompts:
        raise ModelLoadError(f"{path}: default_prompt_name {name!r} is not one of the prompts")
    folder.default_prompt_name = name


def read_st_folder(path: str) -> STFolder | None:
    """The modules of the sentence-transformers folder ``path``; ``None`` when it has no ``modules.json``."""
    modules_file = os.path.join(path, "modules.json")
    if not os.path.isfile(modules_file):
        return None
    modules = read_json(modules_file, what="modules.json")
    if not isinstance(modules, list) or not all(isinstance(m, dict) and "type" in m for m in modules):
        raise ModelLoadError(f"{modules_file} is not a list of modules; re-save or re-download the model")
    folder = STFolder(transformer_path=path)
    for i, m in enumerate(modules):
        kind = str(m["type"]).rsplit(".", 1)[-1]
        sub = inside_folder(path, m.get("path", ""))
        if folder.normalize and kind != "Normalize":
            raise ModelLoadError(f"{modules_file}: module {kind} after Normalize; simsent normalises last")
        if kind == "Transformer" and i == 0:
            _transformer(folder, sub)
        elif kind == "Pooling" and folder.pooling is None:
            folder.pooling = pooling_mode(_json(os.path.join(sub, "config.json"), "Pooling config"), sub)
        elif kind == "WeightedLayerPooling" and folder.pooling is None and folder.layer_weights is None:
            _weighted_layers(folder, sub)
        elif kind in HEAD_TYPES and folder.pooling is not None:
            folder.heads.append(HEAD_TYPES[kind].load(sub))
        elif kind == "Normalize":
            folder.normalize = True
        else:
            raise ModelLoadError(
                f"module {i} of {modules_file} ({m['type']}) is not supported by simsent here; "
                "it reads Transformer, WeightedLayerPooling, Pooling, Dense, LayerNorm, Dropout, Normalize"
            )
    _prompts(folder, path)
    return folder
