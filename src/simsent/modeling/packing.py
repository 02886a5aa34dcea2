"""Packed transformer forward: the real tokens of a batch in a few full rows, none of them padding.

A padded batch of short sentences is mostly padding (the shared tasks' sentences average about 20
tokens at max length 64), and every padded token costs the same linear layers as a real one. Packing
puts the sentences, longest first, one after another into rows of ``row_tokens`` tokens; a
block-diagonal attention mask keeps each sentence attending to itself only, position ids restart at
each sentence, and the hidden states are gathered back into the usual padded ``(batch, length,
hidden)`` layout, so pooling, the loss and the gradients are those of the padded forward (tested to
1e-5; only the dropout masks differ, being drawn for other positions).

Only models with absolute position embeddings that accept ``position_ids`` and a 4-D attention mask
are packed (:data:`PACKABLE`); the pooler output is not computed (it reads the first token of a row).

Example:
    >>> plan = pack_plan([5, 3, 2], row_tokens=8)
    >>> plan.rows, plan.starts
    (2, [(0, 0), (0, 5), (1, 0)])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from transformers import PreTrainedModel

#: model types that can be packed -> how their position ids are offset (RoBERTa: pad_token_id + 1)
PACKABLE = {"bert": "zero", "electra": "zero", "roberta": "padding", "xlm-roberta": "padding"}


@dataclass
class PackPlan:
    """Where each sentence goes: ``starts[i] = (row, offset)``; ``rows`` rows of ``width`` tokens."""

    lengths: list[int]
    starts: list[tuple[int, int]]
    rows: int
    width: int


def pack_plan(lengths: list[int], row_tokens: int) -> PackPlan:
    """Place sentences of ``lengths`` tokens, longest first, into rows of ``max(row_tokens, longest)``
    tokens (next fit: a new row when the next sentence does not fit)."""
    width = max([int(row_tokens), *lengths, 1])
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    starts: list[tuple[int, int]] = [(0, 0)] * len(lengths)
    row, used = 0, 0
    for i in order:
        if used + lengths[i] > width:
            row, used = row + 1, 0
        starts[i] = (row, used)
        used += lengths[i]
    return PackPlan(list(lengths), starts, row + 1 if lengths else 0, width)


def packable(model: PreTrainedModel) -> bool:
    """Whether ``model`` (a Hugging Face model) can run packed."""
    return getattr(getattr(model, "config", None), "model_type", None) in PACKABLE


def _indices(plan: PackPlan, padded_width: int) -> tuple[torch.Tensor, ...]:
    """Host-side index tensors (vectorised, no per-sentence loop): packed slot -> source token,
    position ids, segment ids, and padded slot -> packed slot (the last index of either side stands
    for a pad token / a zero vector)."""
    n, width = len(plan.lengths), plan.width
    total = plan.rows * width
    lengths = np.asarray(plan.lengths, dtype=np.int64)
    rows = np.asarray([r for r, _ in plan.starts], dtype=np.int64)
    offsets = np.asarray([o for _, o in plan.starts], dtype=np.int64)
    sentence = np.repeat(np.arange(n), lengths)  # one entry per real token
    within = np.arange(len(sentence)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    slot = rows[sentence] * width + offsets[sentence] + within
    source = np.full(total, n * padded_width, dtype=np.int64)
    source[slot] = sentence * padded_width + within
    positions = np.zeros(total, dtype=np.int64)
    positions[slot] = within
    segments = np.zeros(total, dtype=np.int64)  # 0: the unused tail of a row
    segments[slot] = sentence + 1
    back = np.full(n * padded_width, total, dtype=np.int64)
    back[sentence * padded_width + within] = slot
    return tuple(torch.from_numpy(a) for a in (source, positions, segments, back))


def _to(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    return t.pin_memory().to(device, non_blocking=True) if device.type == "cuda" else t.to(device)


def packed_forward(
    model: PreTrainedModel,
    features: dict[str, torch.Tensor],
    lengths: list[int],
    row_tokens: int,
    hidden_states: bool,
) -> dict[str, Any]:
    """Run ``model`` (a packable Hugging Face encoder) on ``features`` packed into rows of
    ``row_tokens``; returns ``token_embeddings`` (and ``all_layer_embeddings``) in the padded layout
    of ``features``."""
    ids = features["input_ids"]
    batch, padded_width = ids.shape
    device = ids.device
    plan = pack_plan([int(x) for x in lengths], row_tokens)
    source, positions, segments, back = (_to(t, device) for t in _indices(plan, padded_width))
    config = model.config
    pad_id = int(getattr(config, "pad_token_id", 0) or 0)

    def gather(values: torch.Tensor, fill: int) -> torch.Tensor:
        flat = torch.cat([values.reshape(-1), values.new_full((1,), fill)])
        return flat[source].view(plan.rows, plan.width)

    inputs: dict[str, Any] = {"input_ids": gather(ids, pad_id)}
    if "token_type_ids" in features:
        inputs["token_type_ids"] = gather(features["token_type_ids"], 0)
    offset = pad_id + 1 if PACKABLE[config.model_type] == "padding" else 0
    inputs["position_ids"] = positions.view(plan.rows, plan.width) + offset
    seg = segments.view(plan.rows, plan.width)
    allowed = (seg[:, :, None] == seg[:, None, :])[:, None]  # (rows, 1, width, width), block-diagonal
    if getattr(config, "_attn_implementation", "eager") == "sdpa":
        inputs["attention_mask"] = allowed
    else:  # additive mask for eager attention
        inputs["attention_mask"] = torch.zeros(allowed.shape, device=device).masked_fill(
            ~allowed, torch.finfo(torch.float32).min
        )
    out = model(**inputs, output_hidden_states=hidden_states, return_dict=True)

    def unpack(h: torch.Tensor) -> torch.Tensor:
        flat = torch.cat([h.reshape(-1, h.shape[-1]), h.new_zeros(1, h.shape[-1])])
        return flat[back].view(batch, padded_width, h.shape[-1])

    result: dict[str, Any] = {"token_embeddings": unpack(out.last_hidden_state)}
    if hidden_states:
        result["all_layer_embeddings"] = tuple(unpack(h) for h in out.hidden_states)
    return result
