"""Modules on sentence vectors after pooling, each saved as the sentence-transformers module of its name.

* :class:`DenseLayer` (``Dense``): ``activation(x @ W.T + b)`` [+ x]; BERT-whitening (identity
  activation), trainable heads on a frozen encoder (:func:`add_trainable_head`), distillation projections
  and the ``Dense`` modules of hub models (any ``torch.nn`` activation, optional residual).
* :class:`LayerNormLayer` (``LayerNorm``) and :class:`DropoutLayer` (``Dropout``).

:func:`load_head` reads any of them back from its folder.

Example:
    >>> import torch
    >>> layer = DenseLayer(4, 2, activation="identity")
    >>> layer(torch.ones(3, 4)).shape
    torch.Size([3, 2])
    >>> DenseLayer(4, 4, activation="torch.nn.modules.activation.ReLU")(-torch.ones(1, 4)).sum().item() >= 0
    True
"""

from __future__ import annotations

import importlib
import os

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from simsent._io import read_json, write_json
from simsent.errors import ConfigError, ModelLoadError

#: short names of the activations simsent itself uses
ACTIVATIONS = {
    "identity": "torch.nn.modules.linear.Identity",
    "tanh": "torch.nn.modules.activation.Tanh",
}


def activation_module(name: str) -> nn.Module:
    """The ``torch.nn`` activation named by a short name or a class path (``torch.nn.modules...ReLU``).

    Only classes of ``torch.nn`` taking no arguments are built: a saved folder cannot run code of its own.
    """
    path = ACTIVATIONS.get(name, name)
    module_name, _, cls_name = str(path).rpartition(".")
    cls = None
    if module_name.startswith("torch.nn"):
        try:
            cls = getattr(importlib.import_module(module_name), cls_name, None)
        except ImportError:
            cls = None
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ConfigError(
            f"unknown activation {name!r}; use identity, tanh or a torch.nn activation class path "
            "such as torch.nn.modules.activation.ReLU"
        )
    return cls()


def _read_config(path: str, what: str) -> dict:
    cfg = read_json(os.path.join(path, "config.json"), what=f"{what} config")
    if not isinstance(cfg, dict):
        raise ModelLoadError(f"{path}/config.json is not a JSON object; re-save the model")
    return cfg


def load_state(path: str) -> dict[str, torch.Tensor]:
    weights_file = os.path.join(path, "model.safetensors")
    if os.path.isfile(weights_file):
        return load_file(weights_file)
    bin_file = os.path.join(path, "pytorch_model.bin")
    if not os.path.isfile(bin_file):
        raise ModelLoadError(f"no weights in {path} (model.safetensors or pytorch_model.bin); re-save it")
    return torch.load(bin_file, map_location="cpu", weights_only=True)


def _load_exact(module: nn.Module, path: str, state: dict[str, torch.Tensor] | None = None) -> None:
    """Load ``module``'s weights from ``path``: a missing, unexpected or mis-shaped tensor is an error."""
    state = load_state(path) if state is None else state
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    shapes = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or extra or shapes:
        what = "; ".join(
            f"{label}: {', '.join(keys[:3])}"
            for label, keys in (("missing", missing), ("unexpected", extra), ("wrong shape", shapes))
            if keys
        )
        raise ModelLoadError(f"the weights in {path} do not fit its config.json ({what}); re-save the model")
    module.load_state_dict(state)


class DenseLayer(nn.Module):
    """``activation(x @ W.T + b)`` with ``W`` of shape (out, in), plus ``x`` (or a projection of it)
    when ``residual``."""

    st_type = "Dense"

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        activation: str = "identity",
        residual: bool = False,
    ):
        super().__init__()
        self.activation = activation_module(activation)
        self.activation_name = activation
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        self.residual = bool(residual)
        if self.residual and in_features != out_features:
            self.residual_proj = nn.Linear(in_features, out_features, bias=False)

    @property
    def out_features(self) -> int:
        return self.linear.out_features

    @classmethod
    def from_weights(cls, weight: torch.Tensor, bias: torch.Tensor | None, activation: str = "identity"):
        """Build a layer from a (out, in) weight and an (out,) bias."""
        layer = cls(weight.shape[1], weight.shape[0], bias=bias is not None, activation=activation)
        with torch.no_grad():
            layer.linear.weight.copy_(weight)
            if bias is not None:
                layer.linear.bias.copy_(bias)
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.activation(self.linear(x))
        if self.residual:
            out = out + (self.residual_proj(x) if hasattr(self, "residual_proj") else x)
        return out

    def save(self, path: str) -> None:
        """sentence-transformers' Dense format: config.json + model.safetensors (``linear.weight/bias``)."""
        os.makedirs(path, exist_ok=True)
        config = {
            "in_features": self.linear.in_features,
            "out_features": self.linear.out_features,
            "bias": self.linear.bias is not None,
            "activation_function": ACTIVATIONS.get(self.activation_name, self.activation_name),
        }
        if self.residual:
            config["use_residual"] = True
        write_json(os.path.join(path, "config.json"), config)
        state = {
            k.replace("residual_proj.", "residual."): v.detach().cpu().contiguous()
            for k, v in self.state_dict().items()
        }
        save_file(state, os.path.join(path, "model.safetensors"))

    @classmethod
    def load(cls, path: str) -> DenseLayer:
        config = _read_config(path, "Dense")
        for key in ("module_input_name", "module_output_name"):
            if config.get(key, "sentence_embedding") != "sentence_embedding":
                raise ModelLoadError(
                    f"the Dense module in {path} works on {config[key]!r}, not the sentence vector; "
                    "simsent cannot load it"
                )
        # sentence-transformers' default activation is Tanh
        activation = config.get("activation_function", ACTIVATIONS["tanh"])
        try:
            layer = cls(
                int(config["in_features"]),
                int(config["out_features"]),
                bias=bool(config.get("bias", True)),
                activation=activation,
                residual=bool(config.get("use_residual", False)),
            )
        except ConfigError as exc:
            raise ModelLoadError(f"the Dense module in {path}: {exc}") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelLoadError(f"{path}/config.json is not a Dense config ({exc}); re-save it") from exc
        state = {k.replace("residual.", "residual_proj."): v for k, v in load_state(path).items()}
        _load_exact(layer, path, state)
        return layer


class LayerNormLayer(nn.Module):
    """``nn.LayerNorm`` over the sentence vector (sentence-transformers' ``LayerNorm`` module)."""

    st_type = "LayerNorm"

    def __init__(self, dimension: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(int(dimension))

    @property
    def out_features(self) -> int:
        return self.norm.normalized_shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x)

    def save(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)
        write_json(os.path.join(path, "config.json"), {"dimension": self.out_features})
        save_file({k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()},
                  os.path.join(path, "model.safetensors"))

    @classmethod
    def load(cls, path: str) -> LayerNormLayer:
        layer = cls(int(_read_config(path, "LayerNorm")["dimension"]))
        _load_exact(layer, path)
        return layer


class DropoutLayer(nn.Module):
    """Dropout on the sentence vector while training (sentence-transformers' ``Dropout``); the identity
    in :meth:`~simsent.SentenceEncoder.encode`."""

    st_type = "Dropout"
    out_features = None

    def __init__(self, dropout: float = 0.2) -> None:
        super().__init__()
        self.dropout = nn.Dropout(float(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x)

    def save(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)
        write_json(os.path.join(path, "config.json"), {"dropout": self.dropout.p})

    @classmethod
    def load(cls, path: str) -> DropoutLayer:
        return cls(float(_read_config(path, "Dropout").get("dropout", 0.2)))


HEAD_TYPES = {c.st_type: c for c in (DenseLayer, LayerNormLayer, DropoutLayer)}


def load_head(path: str, st_type: str | None = None) -> nn.Module:
    """Read a head module from ``path``; without ``st_type`` it is told by its config's keys."""
    if st_type is None:
        cfg = _read_config(path, "module")
        st_type = "LayerNorm" if "dimension" in cfg else "Dropout" if "dropout" in cfg else "Dense"
    return HEAD_TYPES[st_type].load(path)


def heads_output_dim(heads: nn.ModuleList, pooled: int) -> int:
    """Width of the vector after ``heads`` for a pooled vector of width ``pooled``."""
    for head in reversed(heads):
        if head.out_features is not None:
            return int(head.out_features)
    return pooled


def add_trainable_head(model, dim: int | None = None, activation: str = "identity") -> DenseLayer:
    """Freeze ``model`` and append an identity-initialised trainable Dense layer; returns the layer.

    Used by ``simsent train --freeze-encoder``: every parameter the model already has (encoder, and any
    dense layers such as whitening) is frozen; only the new layer trains (plus any head the objective
    owns) and it is saved as a sentence-transformers ``Dense`` module. It starts as the identity
    (rectangular for another ``dim``), so before training the model embeds as the frozen encoder does.

    Example:
        >>> head = add_trainable_head(SentenceEncoder.from_pretrained("bert-base-chinese"))  # doctest: +SKIP
    """
    in_dim = model.get_sentence_embedding_dimension()
    out_dim = int(dim or in_dim)
    for p in model.parameters():
        p.requires_grad_(False)
    head = DenseLayer.from_weights(torch.eye(out_dim, in_dim), torch.zeros(out_dim), activation=activation)
    head.to(next(model.parameters()).device)
    model.dense.append(head)
    model.extra_config["frozen_encoder"] = True
    return head
