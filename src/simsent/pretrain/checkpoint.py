"""Resumable pretraining checkpoints in one file, written atomically.

The file holds the model weights and config, the optimiser, the learning-rate schedule, the step,
the random-number states, the elapsed training time and the loss history. It is written to a
temporary file that replaces the previous checkpoint with ``os.replace``, so an interruption
while writing never leaves a half-written checkpoint.

Example:
    >>> save_checkpoint("runs/mlm/pretrain_checkpoint.pt", {"step": 10})   # doctest: +SKIP
    >>> load_checkpoint("runs/mlm/pretrain_checkpoint.pt")["step"]          # doctest: +SKIP
    10
"""

from __future__ import annotations

import logging
import os
import random
from typing import Any

import numpy as np
import torch

logger = logging.getLogger(__name__)

CHECKPOINT_FILE = "pretrain_checkpoint.pt"


def rng_state() -> dict[str, Any]:
    """Random-number states of python, numpy and torch (CPU and CUDA)."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str, state: dict[str, Any]) -> None:
    """Write ``state`` with ``torch.save`` to ``path`` atomically."""
    tmp = f"{path}.tmp-{os.getpid()}"
    torch.save(state, tmp)
    os.replace(tmp, path)
    logger.info("checkpoint written at step %d: %s", state.get("step", -1), path)


def load_checkpoint(path: str) -> dict[str, Any] | None:
    """The state saved at ``path``, or ``None`` when there is none."""
    if not os.path.isfile(path):
        return None
    return torch.load(path, map_location="cpu", weights_only=False)
