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
from simsent._fields import check_fields, run_settings, setting
from simsent.errors import ConfigError


@dataclass
class PretrainConfig:
    """Arguments of :func:`simsent.pretrain.mlm.pretrain` (and of ``simsent pretrain``), each declared once
    (:func:`simsent._fields.setting`): help and bounds make the CLI option and the check; every field not
    marked ``changes_run=False`` (budgets, output, device, logging) must match for a checkpoint to resume."""

    output_dir: str = setting("runs/mlm", changes_run=False)  # the CLI's --output
    tokenizer: str = setting("char", "char (a token per character) or wordpiece (ignored with --init).",
                             choices=("char", "wordpiece"))
    min_freq: int = setting(1, "Tokens seen fewer times become [UNK].", minimum=1)
    max_vocab: int | None = setting(None, "Vocabulary cap, specials included (default: all chars / 8000 "
                                    "pieces).", minimum=6)
    layers: int = setting(4, "Transformer layers.", minimum=1)
    hidden: int = setting(256, "Hidden size (intermediate = 4 x hidden).", minimum=8)
    heads: int = setting(4, "Attention heads (must divide --hidden).", minimum=1)
    intermediate: int | None = setting(None, minimum=1)  # feed-forward size (None: 4 * hidden)
    max_len: int = setting(64, "Max tokens per text ([CLS]/[SEP] included).", minimum=3)
    dropout: float = setting(0.1, "Hidden and attention dropout.", minimum=0, maximum=MAX_DROPOUT)
    init: str | None = setting(None, "Continue pretraining this masked-LM (folder or hub id) with its own "
                               "tokenizer (domain-adaptive pretraining).")
    epochs: int = setting(1, "Passes over the corpus (--max-steps overrides).", minimum=1, changes_run=False)
    batch_size: int = setting(64, "Texts per batch.", minimum=1)
    lr: float = setting(5e-4, "Peak learning rate (AdamW, linear warm-up then decay).", minimum=0,
                        exclusive_minimum=True)
    warmup_ratio: float = setting(0.06, "Share of the steps for linear warm-up.", minimum=0, maximum=1)
    weight_decay: float = setting(0.01, "AdamW weight decay (not on biases and LayerNorm).", minimum=0)
    max_grad_norm: float = setting(1.0, "Gradient clipping norm (0: off).", minimum=0)
    mlm_probability: float = setting(0.15, "Share of tokens masked (80/10/10).", minimum=0.01, maximum=0.9)
    max_steps: int | None = setting(None, "Stop after N steps (overrides --epochs).", minimum=1,
                                    changes_run=False)
    max_minutes: float | None = setting(
        None, "Stop after N minutes of training (counted across resumes); the lr decay is planned from the "
        "measured speed.", minimum=0, exclusive_minimum=True, changes_run=False)
    seed: int = setting(42, "Seed of initialisation, shuffling, masking and dropout.")
    checkpoint_steps: int = setting(500, "Resumable checkpoint every N steps (0: each epoch; one is always "
                                    "written when interrupted).", minimum=0, changes_run=False)
    resume: bool = setting(True, "Resume from OUTPUT/pretrain_checkpoint.pt when present.", changes_run=False)
    keep_checkpoint: bool = setting(False, "Keep the checkpoint after the run (to extend it).",
                                    changes_run=False)
    logging_steps: int = setting(10, minimum=1, changes_run=False)  # progress bar refresh
    show_progress_bar: bool = setting(True, changes_run=False)
    device: str = setting("auto", "auto (cuda when available), cpu, cuda, cuda:N or mps.", changes_run=False)
    precision: str = setting("fp32", "fp32, or bf16 / fp16 autocast (fp16: CUDA, with a gradient scaler).",
                             choices=PRECISIONS, changes_run=False)

    def __post_init__(self) -> None:
        check_fields(self)
        if self.hidden % self.heads:
            raise ConfigError(f"--hidden {self.hidden} is not a multiple of --heads {self.heads}")

    def run_settings(self) -> dict[str, Any]:
        """What a checkpoint must have been written with to be resumed (see the class docstring)."""
        return run_settings(self)

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
