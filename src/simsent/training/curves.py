"""Training curves as PNG (and the loss history as JSON), for SimCSE training and pretraining.

Example:
    >>> plot_training_curve([(10, 2.1)], [{"step": 0, "spearman": 60.0}], "c.png")  # doctest: +SKIP
    >>> save_history([{"step": 1, "loss": 8.1}], "runs/mlm", {"seconds": 3.2})      # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from simsent._io import write_json


def plot_training_curve(
    losses: Sequence[tuple[int, float]],
    evaluations: Sequence[dict[str, Any]],
    path: str,
    metric: str = "spearman",
    title: str = "simsent training",
) -> None:
    """Save the loss curve (left axis) and the dev ``metric`` (right axis, if any) to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    if losses:
        ax.plot([s for s, _ in losses], [v for _, v in losses], color="tab:blue", label="training loss")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss", color="tab:blue")
    ax.grid(alpha=0.3)
    points = [(e["step"], e[metric]) for e in evaluations if isinstance(e.get(metric), (int, float))]
    if points:
        ax2 = ax.twinx()
        ax2.plot(
            [s for s, _ in points], [v for _, v in points], "o-", color="tab:orange", label=f"dev {metric}"
        )
        ax2.set_ylabel(f"dev {metric}", color="tab:orange")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
    record = {"summary": summary or {}, "history": list(history)}
    write_json(os.path.join(output_dir, HISTORY_FILE), record, indent=1)
    if history:
        plot_loss_curve(history, os.path.join(output_dir, CURVE_FILE))
