"""Loss history of a pretraining run: a JSON file and a PNG curve.

Example:
    >>> history = [{"step": 1, "loss": 8.1}, {"step": 2, "loss": 7.9}]
    >>> save_history(history, "runs/mlm", {"seconds": 3.2})   # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

HISTORY_FILE = "loss_history.json"
CURVE_FILE = "loss_curve.png"


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over at most ``window`` values (same length as ``values``).

    Example:
        >>> moving_average([1.0, 3.0, 5.0], 2).tolist()
        [1.0, 2.0, 4.0]
    """
    v = np.asarray(values, dtype=float)
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(0, idx - window)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_loss_curve(history: Sequence[dict[str, Any]], path: str, title: str = "MLM loss") -> None:
    """Save the per-step loss and its moving average as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    losses = [h["loss"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, losses, lw=0.6, alpha=0.35, label="per step")
    window = max(1, len(losses) // 50)
    ax.plot(steps, moving_average(losses, window), lw=1.8, label=f"mean of {window} steps")
    ax.set_xlabel("step")
    ax.set_ylabel("masked-LM loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save_history(
    history: Sequence[dict[str, Any]], output_dir: str, summary: dict[str, Any] | None = None
) -> None:
    """Write ``loss_history.json`` (summary + per-step rows) and ``loss_curve.png`` to ``output_dir``."""
    with open(os.path.join(output_dir, HISTORY_FILE), "w", encoding="utf-8") as f:
        json.dump({"summary": summary or {}, "history": list(history)}, f, indent=1)
    if history:
        plot_loss_curve(history, os.path.join(output_dir, CURVE_FILE))
