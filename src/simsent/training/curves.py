"""Training curves as PNG: loss per logging step and the dev metric at each evaluation.

Example:
    >>> plot_training_curve([(10, 2.1)], [{"step": 0, "spearman": 60.0}], "c.png")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


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
