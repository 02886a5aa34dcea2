"""Every training knob in one dataclass, saved next to the trained model.

Example:
    >>> args = TrainingArguments(output_dir="runs/x", epochs=1, batch_size=64, lr=3e-5)
    >>> TrainingArguments.from_dict(args.to_dict()) == args
    True
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any

from simsent._constants import PRECISIONS

#: field metadata of a setting that does not change the training trajectory (where it writes, how often
#: it logs, evaluates or checkpoints, how the rows are read, the device): a checkpoint resumes under
#: another value. Every other field is part of the resume key (:meth:`TrainingArguments.run_settings`),
#: so that a new field is checked on resume unless it says otherwise.
SAME_RUN = {"changes_run": False}


@dataclass
class TrainingArguments:
    """Arguments of :class:`simsent.training.trainer.Trainer`: only what the trainer reads, validated.

    Model settings (pooling, max length, dropout) belong to the model
    (:meth:`SentenceEncoder.from_pretrained`), the dev task to the evaluator. Invalid values
    (``lr=nan``, ``batch_size=0``, an unknown SimCSE variant) raise a one-line ConfigError.
    """

    #: folder that receives the trained model (the best dev checkpoint when a dev task is set)
    output_dir: str = field(default="runs/simsent", metadata=SAME_RUN)
    #: training objective, see ``simsent.losses.OBJECTIVES``
    objective: str = "simcse"
    #: unsupervised SimCSE variant: ``paper`` (N-1 negatives) or ``symmetric`` (2N-2, both directions)
    simcse_variant: str = "paper"
    #: softmax temperature of the contrastive losses
    temperature: float = 0.05
    #: passes over the training data
    epochs: int = 1
    #: stop after this many optimiser steps (the schedule spans them); None: every epoch to the end
    max_steps: int | None = None
    #: sentences (or rows) per batch
    batch_size: int = 64
    #: peak learning rate of AdamW
    lr: float = 3e-5
    #: share of the steps used for linear warm-up (then linear decay to 0)
    warmup_ratio: float = 0.0
    #: AdamW weight decay
    weight_decay: float = 0.0
    #: gradient clipping norm (0 disables)
    max_grad_norm: float = 1.0
    #: random seed for sampling, shuffling, dropout and initialisation
    seed: int = 42
    #: keep a seeded random subset of this many training rows (the 10k-sentence recipe)
    max_train_samples: int | None = None
    #: drop duplicate training rows before sampling
    dedup: bool = False
    #: evaluate (and keep the best model) every this many steps; 0 evaluates only at the end
    eval_steps: int = field(default=125, metadata=SAME_RUN)
    #: write a resumable checkpoint every this many steps (0: only at the end of each epoch)
    checkpoint_steps: int = field(default=250, metadata=SAME_RUN)
    #: write resumable checkpoints (experiment cells that retrain from scratch turn them off)
    checkpoints: bool = field(default=True, metadata=SAME_RUN)
    #: resume from ``<output_dir>/checkpoint-last`` when it exists
    resume: bool = field(default=True, metadata=SAME_RUN)
    #: resume a checkpoint written under another process count (the batches are the same global
    #: batches; the dropout masks of the processes are drawn anew)
    allow_world_size_change: bool = field(default=False, metadata=SAME_RUN)
    #: log the running loss every this many steps
    logging_steps: int = field(default=10, metadata=SAME_RUN)
    #: rows per encoder call inside a batch: the rows are sorted by length, encoded this many at a time
    #: with trailing padding cut off, and put back in order (same embeddings, gradients and in-batch
    #: negatives, far fewer padded tokens). None = 16 on CPU (about 2.5x faster SimCSE training than
    #: one call on the duplicated 2N-row batch); on a GPU length-sorted chunks of about 16k padded tokens
    #: in fp32 and the whole batch in bf16/fp16; 0 = whole batch always.
    forward_chunk_size: int | None = None
    #: pack the rows of a batch, longest first, into rows of this many tokens with block-diagonal
    #: attention: no padding tokens through the transformer (BERT, RoBERTa, ELECTRA; not with pooling
    #: "pooler"). Same loss and gradients as padded (only the dropout masks differ); replaces the
    #: chunking above. None: off
    pack_tokens: int | None = None
    #: cached contrastive steps (GradCache): embed the batch this many rows at a time without a graph,
    #: then back-propagate chunk by chunk with the same dropout masks, so the in-batch-negative batch
    #: size is not bounded by memory; the loss and gradients are the plain step's. In-batch-negative
    #: objectives only (simcse, supervised_simcse). None: off
    cache_chunk: int | None = None
    #: read the training file lazily (:mod:`simsent.data.streaming`): memory does not grow with the file.
    #: None: streamed when larger than ``STREAMING_AUTO_BYTES`` (1 GiB), else read into memory
    streaming: bool | None = None
    #: rows held by the streaming shuffle buffer (the order within about this many rows is random)
    shuffle_buffer: int = 10000
    #: DataLoader worker processes that read and tokenise a streamed file (0: the training process)
    data_workers: int = field(default=1, metadata=SAME_RUN)
    #: numeric precision of training: fp32, or bf16 / fp16 autocast (mixed precision; fp16 needs CUDA)
    precision: str = "fp32"
    #: device: auto (the first CUDA device when there is one, else CPU), cpu, cuda, cuda:N or mps
    device: str = field(default="auto", metadata=SAME_RUN)
    #: torch.compile the encoder while training: off, default, reduce-overhead (CUDA graphs) or
    #: max-autotune; the saved model is the same eager model either way
    torch_compile: str = field(default="off", metadata=SAME_RUN)
    #: show a tqdm progress bar
    show_progress_bar: bool = field(default=True, metadata=SAME_RUN)
    #: extra keyword arguments for the objective (e.g. {"scale": 20.0} for CoSENT)
    objective_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Reject values that cannot train, with one line naming the argument and the fix."""
        from simsent.errors import ConfigError, check_number

        for name in ("epochs", "batch_size"):
            check_number(name, getattr(self, name), integer=True, minimum=1)
        for name in ("lr", "temperature"):
            check_number(name, getattr(self, name), minimum=0, exclusive_minimum=True)
        for name in ("weight_decay", "max_grad_norm"):
            check_number(name, getattr(self, name), minimum=0)
        for name in ("eval_steps", "checkpoint_steps", "logging_steps"):
            check_number(name, getattr(self, name), integer=True, minimum=0)
        check_number("warmup_ratio", self.warmup_ratio, minimum=0, maximum=1)
        check_number("max_train_samples", self.max_train_samples, integer=True, minimum=1, optional=True)
        check_number("max_steps", self.max_steps, integer=True, minimum=1, optional=True)
        check_number("forward_chunk_size", self.forward_chunk_size, integer=True, minimum=0, optional=True)
        check_number("pack_tokens", self.pack_tokens, integer=True, minimum=1, optional=True)
        check_number("cache_chunk", self.cache_chunk, integer=True, minimum=1, optional=True)
        check_number("shuffle_buffer", self.shuffle_buffer, integer=True, minimum=1)
        check_number("data_workers", self.data_workers, integer=True, minimum=0)
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        from simsent.training.compile import check_compile_mode

        check_compile_mode(self.torch_compile, "torch_compile")
        if not isinstance(self.objective_kwargs, dict):
            raise ConfigError("objective_kwargs must be a dict of keyword arguments for the objective")
        from simsent.losses.simcse import check_variant

        check_variant(self.simcse_variant)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def run_settings(self) -> dict[str, Any]:
        """The settings a checkpoint must have been written with to be resumed: every field but those
        marked :data:`SAME_RUN`.

        Example:
            >>> settings = TrainingArguments(lr=1e-5, logging_steps=1).run_settings()
            >>> settings["lr"], "logging_steps" in settings
            (1e-05, False)
        """
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.metadata.get("changes_run", True)
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingArguments:
        """Build from a dict, ignoring unknown keys (saved by other versions); v0.1's
        ``mixed_precision`` (no / bf16 / fp16) becomes ``precision``."""
        data = dict(data)
        if "mixed_precision" in data and "precision" not in data:
            data["precision"] = {"no": "fp32"}.get(data["mixed_precision"], data["mixed_precision"])
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def save(self, path: str) -> None:
        with open(os.path.join(path, "training_args.json"), "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2, ensure_ascii=False)
