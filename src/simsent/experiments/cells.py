"""What every study's cells share: training a model in place for a cell, the batch size a small cell
trains with, and NaN sorting low. The cells themselves live in each study's folder.

Example:
    >>> balanced_batch_size(100, 64), nan_low(float("nan")) < nan_low(0.0)
    (50, True)
"""

from __future__ import annotations

import math
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simsent.modeling.sentence_encoder import SentenceEncoder


def train_in_place(model: SentenceEncoder, rows: Any, **settings: Any) -> dict[str, Any]:
    """Train ``model`` on ``rows`` with :class:`~simsent.training.trainer.Trainer` as an experiment cell
    does: no dev evaluation, no checkpoints, no resume, no progress bar, a throw-away output folder.
    ``settings`` are :class:`~simsent.training.arguments.TrainingArguments` fields. Leaves it in eval mode.

    Example:
        >>> result = train_in_place(model, sentences, objective="simcse", lr=3e-5)  # doctest: +SKIP
        >>> result["global_step"]                                                  # doctest: +SKIP
        156
    """
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    tmp = tempfile.mkdtemp(prefix="simsent-cell-")
    try:
        args = TrainingArguments(
            output_dir=tmp,
            eval_steps=0,
            checkpoint_steps=0,
            resume=False,
            checkpoints=False,
            show_progress_bar=False,
            **settings,
        )
        result = Trainer(model, args, train_rows=rows).train()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    model.eval()
    return result


def nan_low(x: float | None) -> float:
    """``x``, or minus infinity when it is NaN or missing: sorts undefined scores last.

    Example:
        >>> nan_low(float("nan")) < nan_low(-1e9)
        True
    """
    return -math.inf if x is None or math.isnan(x) else float(x)


def balanced_batch_size(size: int, batch_size: int) -> int:
    """The batch size a cell of ``size`` rows trains with: as many batches as ``batch_size`` needs, made
    even, so an epoch sees (almost) every row although the trainer drops a last partial batch.

    Example:
        >>> balanced_batch_size(100, 64), balanced_batch_size(800, 64), balanced_batch_size(50, 64)
        (50, 61, 50)
    """
    return max(1, size // max(1, math.ceil(size / batch_size)))
