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
from dataclasses import dataclass
from typing import Any

from simsent._constants import PRECISIONS
from simsent._fields import check_fields, run_settings, setting
from simsent.losses.registry import OBJECTIVES

OBJECTIVE_NAMES = tuple(OBJECTIVES)  # the registry imports no torch, so `--help` stays light

@dataclass
class TrainingArguments:
    """Arguments of :class:`simsent.training.trainer.Trainer`: only what the trainer reads, validated.

    Each field is declared once (:func:`simsent._fields.setting`): its help and bounds make the
    ``simsent train`` option and the check; ``changes_run=False`` marks what a checkpoint may resume
    under another value (where it writes, how often it logs or evaluates, the device); every other
    field is part of the resume key. Model settings (pooling, max length, dropout) belong to the model
    (:meth:`SentenceEncoder.from_pretrained`), the dev task to the evaluator. Invalid values
    (``lr=nan``, ``batch_size=0``, an unknown SimCSE variant) raise a one-line ConfigError.
    """

    output_dir: str = setting("runs/simsent", changes_run=False)  # the CLI's --output
    objective: str = setting("simcse", f"Training objective: {', '.join(OBJECTIVE_NAMES)}.")
    simcse_variant: str = setting("paper", "paper (N-1 negatives) or symmetric (2N-2, both directions).")
    temperature: float = setting(0.05, "Softmax temperature of the contrastive losses.", minimum=0,
                                 exclusive_minimum=True)
    epochs: int = setting(1, "Passes over the training data.", minimum=1)
    max_steps: int | None = setting(None, "Stop after N optimiser steps (the schedule spans them).",
                                    minimum=1)
    batch_size: int = setting(64, "Sentences (or rows) per batch.", minimum=1)
    lr: float = setting(3e-5, "Peak learning rate of AdamW.", minimum=0, exclusive_minimum=True)
    warmup_ratio: float = setting(0.0, "Share of the steps for linear warm-up (then linear decay).",
                                  minimum=0, maximum=1)
    weight_decay: float = setting(0.0, "AdamW weight decay.", minimum=0)
    max_grad_norm: float = setting(1.0, "Gradient clipping norm (0: off).", minimum=0)
    seed: int = setting(42, "Seed of sampling, shuffling, dropout and initialisation.")
    max_train_samples: int | None = setting(None, "Seeded random subset of training rows.", minimum=1)
    dedup: bool = setting(False, "Drop duplicate training rows first.")
    eval_steps: int = setting(125, "Evaluate every N steps and keep the best (0: at the end).", minimum=0,
                              changes_run=False)
    checkpoint_steps: int = setting(250, "Resumable checkpoint every N steps (0: each epoch).", minimum=0,
                                    changes_run=False)
    #: write resumable checkpoints (experiment cells that retrain from scratch turn them off)
    checkpoints: bool = setting(True, changes_run=False)
    resume: bool = setting(True, "Resume from OUTPUT/checkpoint-last when present.", changes_run=False)
    allow_world_size_change: bool = setting(
        False, "Resume a checkpoint written under another process count (same global batches; new dropout "
        "streams for the processes).", cli=["--allow-world-size-change"], changes_run=False)
    logging_steps: int = setting(10, "Log the running loss every N steps.", minimum=0, changes_run=False)
    forward_chunk_size: int | None = setting(
        None, "Rows per encoder call within a batch, length-sorted with padding trimmed (default: 16 on "
        "CPU; on a GPU ~16k-token chunks in fp32, the whole batch in bf16/fp16; 0: whole batch). Same loss "
        "and gradients, fewer padded tokens.", minimum=0)
    pack_tokens: int | None = setting(
        None, "Pack each batch's sentences into rows of N tokens (block-diagonal attention): no padding "
        "through the transformer (BERT, RoBERTa, ELECTRA; not with pooling 'pooler'). Same loss and "
        "gradients; e.g. 256 on a GPU.", minimum=1)
    cache_chunk: int | None = setting(
        None, "Cached contrastive steps (GradCache): embed the batch N rows at a time without a graph, then "
        "back-propagate chunk by chunk with the same dropout masks; the batch size of simcse / "
        "supervised_simcse is then not bounded by memory. Same loss and gradients.", minimum=1)
    streaming: bool | None = setting(
        None, "Read the training file lazily (memory does not grow with the file): a seeded shuffle buffer, "
        "tokenised in worker processes, exact resume. Default: streamed when the file is over 1 GiB. With "
        "--max-train-samples N: the first N rows of the file.", cli=["--streaming/--no-streaming"])
    shuffle_buffer: int = setting(10000, "Rows in the streaming shuffle buffer.", minimum=1)
    data_workers: int = setting(1, "Worker processes reading and tokenising a streamed file.", minimum=0,
                                changes_run=False)
    precision: str = setting("fp32", "fp32, or bf16 / fp16 mixed precision (fp16 needs a CUDA device).",
                             choices=PRECISIONS)
    device: str = setting("auto", "auto (cuda when available), cpu, cuda, cuda:N or mps.", changes_run=False)
    torch_compile: str = setting(
        "off", "torch.compile the encoder while training: off, default, reduce-overhead (CUDA graphs, for "
        "small GPU batches) or max-autotune. The first steps compile; the saved model is the same.",
        cli=["--compile"], changes_run=False)
    show_progress_bar: bool = setting(True, changes_run=False)
    #: extra keyword arguments for the objective (e.g. {"scale": 20.0} for CoSENT); the CLI's --objective-arg
    objective_kwargs: dict[str, Any] = setting(default_factory=dict)
    matryoshka_dims: str | list[int] | None = setting(
        None, "Matryoshka: also take the loss on the first d dimensions for each d, e.g. 384,256,128,64, so "
        "a prefix of the vector works alone (simcse, supervised_simcse); the saved model records them.")

    def __post_init__(self) -> None:
        """Reject values that cannot train, with one line naming the argument and the fix."""
        from simsent.errors import ConfigError

        check_fields(self)
        if self.matryoshka_dims is not None:
            from simsent.losses.matryoshka import check_dims

            raw = self.matryoshka_dims
            try:
                dims = [int(d) for d in (raw.split(",") if isinstance(raw, str) else raw) if str(d).strip()]
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"--matryoshka-dims takes integers separated by commas, got {raw!r}"
                                  ) from exc
            self.matryoshka_dims = check_dims(dims)
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
        declared ``changes_run=False``.

        Example:
            >>> settings = TrainingArguments(lr=1e-5, logging_steps=1).run_settings()
            >>> settings["lr"], "logging_steps" in settings
            (1e-05, False)
        """
        return run_settings(self)

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
