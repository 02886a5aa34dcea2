"""Pooling of token features into one sentence vector, always masked by the attention mask.

Modes:

* ``cls``: the first token's last hidden state.
* ``pooler``: the CLS vector through the model's own dense+tanh pooler (BERT's ``pooler_output``).
* ``first_last_avg``: mean of the first transformer layer's and the last layer's masked token
  averages (BERT-flow / BERT-whitening); "first layer" is ``hidden_states[1]``, the output of
  the first transformer block, not the embedding layer.
* ``last_avg`` / ``mean``: masked average of the last layer's tokens (the same computation; both
  names are kept because the published tables use ``last_avg``).
* ``max``: masked max over time (used by TextCNN).

Example:
    >>> import torch
    >>> pool = Pooling("mean")
    >>> mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    >>> feats = {"token_embeddings": torch.ones(2, 3, 4), "attention_mask": mask}
    >>> pool(feats)["sentence_embedding"].shape
    torch.Size([2, 4])
"""

from __future__ import annotations

import torch
from torch import nn

from simsent.errors import ConfigError

POOLING_MODES = ("cls", "pooler", "first_last_avg", "last_avg", "mean", "max")


def check_pooling(mode: str) -> str:
    """Return ``mode`` if it is a known pooling, else raise a clear :class:`ConfigError`."""
    if mode not in POOLING_MODES:
        raise ConfigError(f"unknown pooling {mode!r}; choose one of: {', '.join(POOLING_MODES)}")
    return mode


def masked_mean(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average ``tokens`` (B, T, H) over positions where ``mask`` (B, T) is 1."""
    m = mask.unsqueeze(-1).to(tokens.dtype)
    return (tokens * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)


def masked_max(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Max of ``tokens`` (B, T, H) over positions where ``mask`` (B, T) is 1."""
    fill = torch.finfo(tokens.dtype).min
    return tokens.masked_fill(~mask.bool().unsqueeze(-1), fill).max(dim=1).values


class Pooling(nn.Module):
    """Turn the encoder's features into ``features["sentence_embedding"]``.

    Args:
        mode: one of :data:`POOLING_MODES`.
    """

    def __init__(self, mode: str = "mean") -> None:
        super().__init__()
        self.mode = check_pooling(mode)

    @property
    def needs_hidden_states(self) -> bool:
        return self.mode == "first_last_avg"

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        mask = features["attention_mask"]
        mode = self.mode
        if mode == "cls":
            emb = features["token_embeddings"][:, 0]
        elif mode == "pooler":
            if features.get("pooler_output") is None:
                raise ConfigError(
                    "pooling 'pooler' needs a model with a dense+tanh pooler (e.g. BERT); "
                    "this model has none: use --pooling cls, mean or first_last_avg"
                )
            emb = features["pooler_output"]
        elif mode == "first_last_avg":
            layers = features.get("all_layer_embeddings")
            if layers is None or len(layers) < 2:
                raise ConfigError("pooling 'first_last_avg' needs per-layer hidden states from the encoder")
            emb = (masked_mean(layers[1], mask) + masked_mean(layers[-1], mask)) / 2
        elif mode in ("last_avg", "mean"):
            emb = masked_mean(features["token_embeddings"], mask)
        else:  # max
            emb = masked_max(features["token_embeddings"], mask)
        features["sentence_embedding"] = emb
        return features
