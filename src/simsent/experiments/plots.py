"""PNG figures of experiment results: a sweep's Spearman vs training size and vs epochs, fit's leaderboard.

Example:
    >>> plot_sweep(rows, "STS-B", "results/sweep")        # doctest: +SKIP
    ['results/sweep/spearman_vs_size.png', 'results/sweep/spearman_vs_epochs.png']
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _line(ax: Any, xs: list[float], rows: list[dict[str, Any]], label: str, style: str, color: Any) -> None:
    means = [r["spearman"]["mean"] for r in rows]
    stds = [r["spearman"]["std"] for r in rows]
    ax.plot(xs, means, style, color=color, label=label, lw=1.6, ms=4)
    if any(r["spearman"]["n"] > 1 for r in rows):
        lo = [m - s for m, s in zip(means, stds, strict=True)]
        hi = [m + s for m, s in zip(means, stds, strict=True)]
        ax.fill_between(xs, lo, hi, color=color, alpha=0.15, lw=0)


def _log_ticks(ax: Any, values: list[int]) -> None:
    """A log x axis with the grid's own values as plain tick labels."""
    ax.set_xscale("log")
    if values:
        ax.set_xticks(values)
        ax.set_xticklabels([f"{v:,}" for v in values])
        ax.minorticks_off()


def _raw_line(ax: Any, rows: Sequence[dict[str, Any]]) -> None:
    raw = [r for r in rows if r["objective"] == "raw"]
    if raw:
        ax.axhline(
            raw[0]["spearman"]["mean"],
            color="black",
            ls=":",
            lw=1.2,
            label=f"untrained model ({raw[0]['spearman']['mean']:.1f})",
        )


def _sweep_figure(
    trained: list[dict[str, Any]],
    mine: list[dict[str, Any]],
    x: str,
    group: str,
    label: Any,
    title: str,
    xlabel: str,
    path: str,
) -> str:
    """One sweep plot: a line (± std band) per (objective, ``group`` value) over ``x``; SimCSE solid,
    supervised objectives dashed; the untrained model dotted."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    objectives = sorted({r["objective"] for r in trained}, key=lambda o: (o != "simcse", o))
    for oi, objective in enumerate(objectives):
        of = [r for r in trained if r["objective"] == objective]
        values = sorted({r[group] for r in of})
        cmap = plt.get_cmap("viridis" if oi == 0 else "autumn")
        for vi, v in enumerate(values):
            line = sorted((r for r in of if r[group] == v), key=lambda r: r[x])
            color = cmap(0.85 * vi / max(1, len(values) - 1))  # the palettes' last tenth is too pale
            _line(ax, [r[x] for r in line], line, label(objective, v), "o-" if oi == 0 else "s--", color)
    _raw_line(ax, mine)
    _log_ticks(ax, sorted({r[x] for r in trained}))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Spearman x 100 (evaluation pairs)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="best", ncol=1 if group == "epochs" else 2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_sweep(rows: Sequence[dict[str, Any]], task: str, output: str, suffix: str = "") -> list[str]:
    """Write ``spearman_vs_size{suffix}.png`` (log x, one line per objective and epochs, ± std band, the
    untrained model as a dotted line) and ``spearman_vs_epochs{suffix}.png`` (one line per size)."""
    mine = [r for r in rows if r["task"] == task]
    trained = [r for r in mine if r["objective"] != "raw"]

    def by_epochs(objective: str, e: int) -> str:
        unit = "" if objective == "simcse" else " (labelled pairs)"
        return f"{objective}{unit}, {e} epoch{'s' * (e > 1)}"

    return [
        _sweep_figure(
            trained,
            mine,
            "size",
            "epochs",
            by_epochs,
            f"{task}: Spearman vs training size (mean ± std over seeds)",
            "training size N (sentences for SimCSE, labelled pairs for supervised; log scale)",
            os.path.join(output, f"spearman_vs_size{suffix}.png"),
        ),
        _sweep_figure(
            trained,
            mine,
            "epochs",
            "size",
            lambda o, n: f"{o}, N={n}",
            f"{task}: Spearman vs epochs, one line per training size",
            "epochs (log scale)",
            os.path.join(output, f"spearman_vs_epochs{suffix}.png"),
        ),
    ]


def plot_leaderboard(
    board: Sequence[Any], path: str, top: int = 20, label: str = "Spearman"
) -> str:
    """Horizontal bars of the selection Spearman of the ``top`` candidates (winner highlighted), with each
    one's report score as a dot and its 95% interval as a line."""
    plt = _pyplot()
    rows = list(board)[:top][::-1]
    fig, ax = plt.subplots(figsize=(8, 0.38 * len(rows) + 1.6))
    ys = range(len(rows))
    colors = ["tab:orange" if i == len(rows) - 1 else "tab:blue" for i in ys]
    ax.barh(
        list(ys), [r.selection for r in rows], color=colors, alpha=0.8, label="selection part (chooses)"
    )
    for y, r in zip(ys, rows, strict=True):
        lo, hi = r.report_ci or (r.report, r.report)
        ax.plot([lo, hi], [y, y], color="black", lw=1)
    ax.plot([r.report for r in rows], list(ys), "o", color="black", ms=4, label="report part (95% CI)")
    ax.set_yticks(list(ys))
    ax.set_yticklabels([f"{r.recipe} / {r.pooling}" for r in rows], fontsize=8)
    ax.set_xlabel(f"{label} x 100")
    ax.set_title("simsent fit: candidates (winner in orange)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
