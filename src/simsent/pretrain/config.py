"""Every knob of ``simsent pretrain`` in one dataclass, saved next to the pretrained model.

Example:
    >>> cfg = PretrainConfig(output_dir="runs/mlm", layers=4, hidden=256, heads=4, max_len=64)
    >>> PretrainConfig.from_dict(cfg.to_dict()) == cfg
    True
    >>> cfg.intermediate_size
    1024
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from simsent._constants import MAX_DROPOUT, PRECISIONS
from simsent.errors import ConfigError, check_number


@dataclass
class PretrainConfig:
    """Arguments of :func:`simsent.pretrain.mlm.pretrain` (and of ``simsent pretrain``)."""

    #: folder that receives the model, tokenizer, loss history and checkpoint
    output_dir: str = "runs/mlm"
    #: tokenizer built from the corpus: ``char`` or ``wordpiece`` (ignored with ``init``)
    tokenizer: str = "char"
    #: tokens seen fewer times become ``[UNK]``
    min_freq: int = 1
    #: cap of the vocabulary size, special tokens included (None: every character / 8000 word pieces)
    max_vocab: int | None = None
    #: transformer layers (ignored with ``init``)
    layers: int = 4
    #: hidden size (ignored with ``init``)
    hidden: int = 256
    #: attention heads; must divide ``hidden`` (ignored with ``init``)
    heads: int = 4
    #: feed-forward size (None: 4 * hidden)
    intermediate: int | None = None
    #: longest input in tokens, [CLS] and [SEP] included (also the number of position embeddings)
    max_len: int = 64
    #: hidden and attention dropout of a model built from scratch
    dropout: float = 0.1
    #: continue pretraining this masked-LM model and its tokenizer (hub id or folder) instead of building one
    init: str | None = None
    #: passes over the corpus (``max_steps`` overrides it)
    epochs: int = 1
    #: sentences per batch
    batch_size: int = 64
    #: peak learning rate of AdamW
    lr: float = 5e-4
    #: share of the steps used for linear warm-up, then linear decay to 0
    warmup_ratio: float = 0.06
    #: AdamW weight decay (not applied to biases and LayerNorm weights)
    weight_decay: float = 0.01
    #: gradient clipping norm (0 disables)
    max_grad_norm: float = 1.0
    #: share of tokens selected for the MLM loss (of which 80% [MASK], 10% random, 10% kept)
    mlm_probability: float = 0.15
    #: stop after this many optimiser steps (overrides ``epochs``)
    max_steps: int | None = None
    #: stop after this many minutes of training (counted across resumes); the learning-rate decay
    #: is re-planned from the measured speed so that it ends near the budget
    max_minutes: float | None = None
    #: seed of initialisation, shuffling, masking and dropout
    seed: int = 42
    #: write a resumable checkpoint every this many steps (0: at the end of each epoch, as in training);
    #: one is always written when the run is interrupted
    checkpoint_steps: int = 500
    #: resume from ``<output_dir>/pretrain_checkpoint.pt`` when it exists
    resume: bool = True
    #: keep the checkpoint (with optimiser state) after a completed run, to extend it later
    keep_checkpoint: bool = False
    #: refresh the progress bar every this many steps
    logging_steps: int = 10
    #: show a tqdm progress bar with loss and tokens/s
    show_progress_bar: bool = True
    #: device: auto (the first CUDA device when there is one, else CPU), cpu, cuda, cuda:N or mps
    device: str = "auto"
    #: fp32, or bf16 / fp16 autocast (mixed precision; fp16 needs CUDA and uses a gradient scaler)
    precision: str = "fp32"

    def __post_init__(self) -> None:
        for name in ("layers", "hidden", "heads"):
            check_number(name, getattr(self, name), integer=True, minimum=1)
        if self.precision not in PRECISIONS:
            raise ConfigError(f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.hidden % self.heads:
            raise ConfigError(f"--hidden {self.hidden} is not a multiple of --heads {self.heads}")
        if self.max_len < 3:
            raise ConfigError("--max-len must be at least 3 ([CLS], one token, [SEP])")
        for name in ("epochs", "batch_size", "min_freq"):
            check_number(name, getattr(self, name), integer=True, minimum=1)
        check_number("lr", self.lr, minimum=0, exclusive_minimum=True)
        for name in ("weight_decay", "max_grad_norm"):
            check_number(name, getattr(self, name), minimum=0)
        check_number("warmup_ratio", self.warmup_ratio, minimum=0, maximum=1)
        check_number("dropout", self.dropout, minimum=0, maximum=MAX_DROPOUT)
        check_number("checkpoint_steps", self.checkpoint_steps, integer=True, minimum=0)
        if not 0.0 < self.mlm_probability < 1.0:
            raise ConfigError("mlm_probability must be between 0 and 1")
        check_number("max_steps", self.max_steps, integer=True, minimum=1, optional=True)
        check_number("max_minutes", self.max_minutes, minimum=0, exclusive_minimum=True, optional=True)

    @property
    def intermediate_size(self) -> int:
        """Feed-forward size: ``intermediate`` or 4 * ``hidden``."""
        return int(self.intermediate or 4 * self.hidden)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PretrainConfig:
        """Build from a dict; unknown keys are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})
