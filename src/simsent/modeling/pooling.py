"""Pooling of token features into one sentence vector, always masked by the attention mask.

Modes:

* ``cls``: the first real token's last hidden state (the first column with right padding).
* ``pooler``: the CLS vector through the model's own dense+tanh pooler (BERT's ``pooler_output``).
* ``first_last_avg``: mean of the first transformer layer's and the last layer's masked token
  averages (BERT-flow / BERT-whitening); "first layer" is ``hidden_states[1]``, the output of
  the first transformer block, not the embedding layer.
* ``last_avg`` / ``mean``: masked average of the last layer's tokens (the same computation; both
  names are kept because the published tables use ``last_avg``).
* ``max``: masked max over time (used by TextCNN).
* ``mean_sqrt_len``, ``weightedmean``, ``lasttoken``: sentence-transformers' modes of those names
  (sum over sqrt(length); position-weighted mean; the last real token, for decoder models).

Modes of sentence-transformers' ``Pooling`` can be combined with ``+`` (``cls+mean``): the vectors are
concatenated in that order, as a ``Pooling`` module listing several modes does. ``layer_weights``
(sentence-transformers' ``WeightedLayerPooling``) first replaces the token features by the weighted
average of the hidden states from ``layer_start`` on.

Example:
    >>> import torch
    >>> pool = Pooling("mean")
    >>> mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    >>> feats = {"token_embeddings": torch.ones(2, 3, 4), "attention_mask": mask}
    >>> pool(feats)["sentence_embedding"].shape
    torch.Size([2, 4])
    >>> Pooling("cls+mean")(feats)["sentence_embedding"].shape
    torch.Size([2, 8])
"""

from __future__ import annotations

import torch
from torch import nn

from simsent.errors import ConfigError

#: modes sentence-transformers' ``Pooling`` module computes (and may concatenate)
ST_POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len", "weightedmean", "lasttoken")
POOLING_MODES = ("cls", "pooler", "first_last_avg", "last_avg", "mean", "max", "mean_sqrt_len",
                 "weightedmean", "lasttoken")


def pooling_parts(mode: str) -> list[str]:
    """The modes a (possibly ``+``-combined) pooling concatenates.

    Example:
        >>> pooling_parts("cls+mean")
        ['cls', 'mean']
    """
    parts = mode.split("+") if isinstance(mode, str) else []
    if len(parts) > 1:
        for p in parts:
            if p not in ST_POOLING_MODES or parts.count(p) > 1:
                raise ConfigError(
                    f"cannot combine pooling {mode!r}: join distinct modes of {', '.join(ST_POOLING_MODES)} "
                    "with '+'"
                )
    return parts


def check_pooling(mode: str) -> str:
    """Return ``mode`` if it is a known pooling, else raise a clear :class:`ConfigError`."""
    parts = pooling_parts(mode)
    if len(parts) == 1 and mode not in POOLING_MODES:
        raise ConfigError(
            f"unknown pooling {mode!r}; choose one of: {', '.join(POOLING_MODES)} "
            "(or several of cls, max, mean, ... joined with '+')"
        )
    return mode


def masked_mean(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average ``tokens`` (B, T, H) over positions where ``mask`` (B, T) is 1."""
    m = mask.unsqueeze(-1).to(tokens.dtype)
    return (tokens * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)


def masked_max(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Max of ``tokens`` (B, T, H) over positions where ``mask`` (B, T) is 1."""
    fill = torch.finfo(tokens.dtype).min
    return tokens.masked_fill(~mask.bool().unsqueeze(-1), fill).max(dim=1).values


def first_token(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The first real token of each row (after any left padding)."""
    first = mask.to(torch.int32).argmax(dim=1)
    return tokens[torch.arange(tokens.shape[0], device=tokens.device), first]


def last_token(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The last real token of each row (before any right padding)."""
    t = mask.shape[1]
    values, back = mask.to(torch.int32).flip(1).max(dim=1)
    last = torch.where(values == 0, torch.zeros_like(back), t - 1 - back)
    return tokens[torch.arange(tokens.shape[0], device=tokens.device), last] * values.unsqueeze(-1)


def weighted_mean(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean with weights 1, 2, 3, ... counted from the first real token (sentence-transformers')."""
    m = mask.to(tokens.dtype)
    positions = torch.arange(1, mask.shape[1] + 1, device=tokens.device, dtype=tokens.dtype).unsqueeze(0)
    w = m * (positions - mask.to(torch.int32).argmax(dim=1, keepdim=True).to(tokens.dtype))
    return (tokens * w.unsqueeze(-1)).sum(dim=1) / w.sum(dim=1, keepdim=True).clamp(min=1e-9)


def _pool_one(mode: str, features: dict[str, torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
    tokens = features["token_embeddings"]
    if mode == "cls":
        return first_token(tokens, mask)
    if mode == "pooler":
        if features.get("pooler_output") is None:
            raise ConfigError(
                "pooling 'pooler' needs a model with a dense+tanh pooler (e.g. BERT); "
                "this model has none: use --pooling cls, mean or first_last_avg"
            )
        return features["pooler_output"]
    if mode == "first_last_avg":
        layers = features.get("all_layer_embeddings")
        if layers is None or len(layers) < 2:
            raise ConfigError("pooling 'first_last_avg' needs per-layer hidden states from the encoder")
        return (masked_mean(layers[1], mask) + masked_mean(layers[-1], mask)) / 2
    if mode in ("last_avg", "mean"):
        return masked_mean(tokens, mask)
    if mode == "mean_sqrt_len":
        m = mask.unsqueeze(-1).to(tokens.dtype)
        return (tokens * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9).sqrt()
    if mode == "weightedmean":
        return weighted_mean(tokens, mask)
    if mode == "lasttoken":
        return last_token(tokens, mask)
    return masked_max(tokens, mask)


class Pooling(nn.Module):
    """Turn the encoder's features into ``features["sentence_embedding"]``.

    Args:
        mode: one of :data:`POOLING_MODES`, or modes of :data:`ST_POOLING_MODES` joined with ``+``.
        layer_weights: weights of the hidden states ``layer_start``, ``layer_start + 1``, ... averaged
            into the token features first (sentence-transformers' ``WeightedLayerPooling``).
    """

    def __init__(self, mode: str = "mean", layer_weights: torch.Tensor | None = None, layer_start: int = 0):
        super().__init__()
        self.mode = check_pooling(mode)
        self.parts = pooling_parts(mode)
        self.layer_start = int(layer_start)
        if layer_weights is not None:
            self.register_buffer("layer_weights", torch.as_tensor(layer_weights, dtype=torch.float32))
        else:
            self.layer_weights = None

    @property
    def needs_hidden_states(self) -> bool:
        return self.mode == "first_last_avg" or self.layer_weights is not None

    def width(self, hidden: int) -> int:
        """Length of the pooled vector for token features of width ``hidden``."""
        return hidden * len(self.parts)

    def _weighted_layers(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        layers = torch.stack(tuple(features["all_layer_embeddings"])[self.layer_start :])
        w = self.layer_weights.to(layers.dtype).view(-1, 1, 1, 1)
        return (w * layers).sum(dim=0) / self.layer_weights.sum()

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        mask = features["attention_mask"]
        if self.layer_weights is not None:
            features["token_embeddings"] = self._weighted_layers(features)
        vectors = [_pool_one(part, features, mask) for part in self.parts]
        features["sentence_embedding"] = vectors[0] if len(vectors) == 1 else torch.cat(vectors, dim=-1)
        return features
