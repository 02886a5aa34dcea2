"""Frozen encoder + trainable linear head (``simsent train --freeze-encoder``).

:func:`add_trainable_head` freezes every parameter the model already has (encoder, and any
dense layers such as whitening) and appends a :class:`~simsent.dense.DenseLayer` to
``model.dense``. Only that layer trains (plus any head the objective itself owns, e.g. the SBERT
classifier), and it is saved with the model as a sentence-transformers ``Dense`` module.

The new layer starts as the identity (``W = I``, ``b = 0``): before training the model embeds
exactly as the frozen encoder does, so training can only move away from the starting point the
objective sees. For ``dim`` smaller/larger than the input, ``W`` is the rectangular identity
(keeps / pads the first coordinates).

Example:
    >>> model = SentenceEncoder.from_pretrained("bert-base-chinese")      # doctest: +SKIP
    >>> head = add_trainable_head(model)                                  # doctest: +SKIP
    >>> sum(p.numel() for p in model.parameters() if p.requires_grad)     # doctest: +SKIP
    590592
"""

from __future__ import annotations

import torch

from simsent.dense import DenseLayer


def add_trainable_head(model, dim: int | None = None, activation: str = "identity") -> DenseLayer:
    """Freeze ``model`` and append an identity-initialised trainable Dense layer; returns the layer."""
    in_dim = model.get_sentence_embedding_dimension()
    out_dim = int(dim or in_dim)
    for p in model.parameters():
        p.requires_grad_(False)
    head = DenseLayer.from_weights(torch.eye(out_dim, in_dim), torch.zeros(out_dim), activation=activation)
    head.to(next(model.parameters()).device)
    model.dense.append(head)
    model.extra_config["frozen_encoder"] = True
    return head
