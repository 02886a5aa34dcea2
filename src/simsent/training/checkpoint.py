"""Resumable checkpoints in one file, written atomically and read without running code.

A checkpoint holds tensors and plain Python values only (weights, optimiser and schedule states,
the random states of :func:`simsent.training.seed.rng_state`, counters and histories), so it is
read back with ``torch.load(..., weights_only=True)``: a crafted file cannot execute anything.
Both the SimCSE :class:`~simsent.training.trainer.Trainer` and masked-LM pretraining use it.

Example:
    >>> save_checkpoint("runs/x/checkpoint.pt", {"step": 10})   # doctest: +SKIP
    >>> load_checkpoint("runs/x/checkpoint.pt")["step"]          # doctest: +SKIP
    10
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import threading
from typing import Any

import torch

from simsent._io import atomic_path
from simsent.errors import ModelLoadError

logger = logging.getLogger(__name__)


def save_checkpoint(path: str, state: dict[str, Any]) -> None:
    """Write ``state`` with ``torch.save`` to ``path`` atomically (a temporary file renamed into place)."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    logger.info("checkpoint written at step %s: %s", state.get("step", state.get("global_step", "?")), path)


def check_same_run(saved: dict[str, Any], current: dict[str, Any], path: str) -> None:
    """Refuse to resume from the checkpoint at ``path`` when it was written with other settings than
    ``current`` (a one-line ConfigError naming what changed); ``model`` and ``data`` are fingerprints.

    Example:
        >>> check_same_run({"lr": 1e-5}, {"lr": 3e-5}, "runs/x/checkpoint-last")
        Traceback (most recent call last):
        ...
        simsent.errors.ConfigError: runs/x/checkpoint-last belongs to another run (lr 1e-05 -> 3e-05); ...
    """
    from simsent.errors import ConfigError

    unrecorded = [k for k in current if k not in saved] if "key_version" not in saved else []
    if unrecorded:
        logger.warning("%s was written by an older simsent that did not record %s; resuming without "
                       "checking them", path, ", ".join(unrecorded))
    changed = [k for k in current if k not in unrecorded and saved.get(k) != current[k]]
    if changed:
        what = ", ".join(
            f"{k} {saved.get(k)!r} -> {current[k]!r}" if k not in ("model", "data") else f"another {k}"
            for k in changed
        )
        raise ConfigError(
            f"{path} belongs to another run ({what}); rerun with --no-resume (resume=False) to start over, "
            "or use another --output"
        )


def load_checkpoint(path: str) -> dict[str, Any] | None:
    """The state saved at ``path`` (``None`` when there is none); never unpickles code."""
    if not os.path.isfile(path):
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(
            f"cannot read the checkpoint {path}: {first[:200]}; delete it or rerun with --no-resume"
        ) from exc


class StepBoundaryInterrupt:
    """Defer Ctrl-C (SIGINT) to the end of the training step in flight.

    Inside the ``with`` block the first Ctrl-C only sets :attr:`requested`; the loop checks it after
    each step, writes its checkpoint at that step boundary and stops, so resuming gives the weights
    of an uninterrupted run. A second Ctrl-C stops at once. Outside the main thread (where Python
    delivers no signals) it does nothing.

    Example:
        >>> with StepBoundaryInterrupt() as interrupt:     # doctest: +SKIP
        ...     for batch in loader:
        ...         step(batch)
        ...         if interrupt.requested:
        ...             raise KeyboardInterrupt
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        logger.warning("Ctrl-C: stopping after the step in flight (press Ctrl-C again to stop now)")

    def __enter__(self) -> StepBoundaryInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
