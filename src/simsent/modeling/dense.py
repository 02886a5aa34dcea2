"""A linear (+activation) layer on sentence vectors, saved as sentence-transformers' ``Dense``.

Used for BERT-whitening (identity activation), trainable heads on a frozen encoder
(:func:`add_trainable_head`), and projections in distillation.

Example:
    >>> import torch
    >>> layer = DenseLayer(4, 2, activation="identity")
    >>> layer(torch.ones(3, 4)).shape
    torch.Size([3, 2])
"""

from __future__ import annotations

import json
import os

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from simsent.errors import ConfigError

ACTIVATIONS = {
    "identity": ("torch.nn.modules.linear.Identity", nn.Identity),
    "tanh": ("torch.nn.modules.activation.Tanh", nn.Tanh),
}


class DenseLayer(nn.Module):
    """``activation(x @ W.T + b)`` with ``W`` of shape (out, in)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, activation: str = "identity"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {activation!r}; choose one of {list(ACTIVATIONS)}")
        self.activation_name = activation
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        self.activation = ACTIVATIONS[activation][1]()

    @classmethod
    def from_weights(cls, weight: torch.Tensor, bias: torch.Tensor | None, activation: str = "identity"):
        """Build a frozen-value layer from a (out, in) weight and an (out,) bias."""
        layer = cls(weight.shape[1], weight.shape[0], bias=bias is not None, activation=activation)
        with torch.no_grad():
            layer.linear.weight.copy_(weight)
            if bias is not None:
                layer.linear.bias.copy_(bias)
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(x))

    # sentence-transformers Dense format: config.json + model.safetensors with linear.weight/bias
    def save(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)
        config = {
            "in_features": self.linear.in_features,
            "out_features": self.linear.out_features,
            "bias": self.linear.bias is not None,
            "activation_function": ACTIVATIONS[self.activation_name][0],
        }
        with open(os.path.join(path, "config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2)
        state = {
            k: v.detach().cpu().contiguous() for k, v in self.state_dict().items() if k.startswith("linear.")
        }
        save_file(state, os.path.join(path, "model.safetensors"))

    @classmethod
    def load(cls, path: str) -> DenseLayer:
        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        act = next(
            (k for k, (name, _) in ACTIVATIONS.items() if name == config.get("activation_function")), None
        )
        if act is None:
            act = "tanh" if "activation_function" not in config else "identity"
        layer = cls(
            config["in_features"], config["out_features"], bias=config.get("bias", True), activation=act
        )
        weights_file = os.path.join(path, "model.safetensors")
        if os.path.isfile(weights_file):
            state = load_file(weights_file)
        else:
            state = torch.load(os.path.join(path, "pytorch_model.bin"), map_location="cpu", weights_only=True)
        layer.load_state_dict({k: v for k, v in state.items() if k.startswith("linear.")})
        return layer


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
