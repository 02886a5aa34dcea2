"""The README of a folder written by ``simsent fit``, and the figures of the model that folder holds.

Example:
    >>> saved_figures({"report": 70.0, "refit": {"report": 72.5, "pairs": 700}})["report"]
    72.5
"""

from __future__ import annotations

from typing import Any

from simsent.experiments.fit.candidate import Candidate
from simsent.training.card import card_top

_FIGURE_NAMES = {"recall@1": "Recall@1", "recall@5": "Recall@5", "recall@10": "Recall@10", "mrr@10": "MRR@10",
                 "ndcg@10": "nDCG@10"}


def saved_figures(winner: dict[str, Any]) -> dict[str, Any]:
    """The held-out figures of the model fit saved: the retrained winner's (``--refit``) when there is
    one, else the winner's as chosen.

    Example:
        >>> saved_figures({"report": 70.0})["report"]
        70.0
    """
    return winner.get("refit") or winner


def fit_card(winner: Candidate, board: list[Candidate], prov: dict[str, Any], how_sure: str = "") -> str:
    """The README of a folder written by ``simsent fit``: chosen recipe, alternatives, protocol, and how
    sure the choice is (``how_sure``: :func:`simsent.experiments.choice.choice_sentence`)."""
    cfg = prov["config"]
    sizes = cfg.get("split_sizes", {})
    saved = saved_figures(winner.to_dict())
    lo, hi = saved.get("report_ci") or (float("nan"), float("nan"))
    label, items = cfg.get("metric_label", "Spearman"), cfg.get("items", "pairs")
    retrained = (f" It was retrained on {saved.get('items', saved['pairs'])} {items} (train + selection) "
                 "after the choice.") if winner.refit else ""
    corpus = f", searched in a corpus of {cfg['corpus_size']} texts" if cfg.get("corpus_size") else ""
    lines = card_top(
        "simsent-fit",
        "simsent fit model",
        f"Chosen by `simsent fit` from `{cfg.get('model')}`: **{winner.recipe}**, pooling "
        f"**{winner.pooling}**.{retrained}\n\n{label} x 100 on held-out labelled {items} (report part, "
        f"{sizes.get('report')} {items}{corpus}, never used to choose or train): **{saved['report']:.2f}** "
        f"(95% bootstrap interval {lo:.2f} – {hi:.2f}).",
    )
    if winner.rerank_ms is not None:
        lines += [f"Two stages: this bi-encoder recalls, and the cross-encoder in `reranker/` re-orders its "
                  f"top hits (+{winner.rerank_ms:.0f} ms a query here). Search with `simsent index search "
                  "INDEX QUERY --rerank <this folder>/reranker`, or serve with `--reranker "
                  "<this folder>/reranker`.", ""]
    figures = saved.get("report_figures") or {}
    if figures:
        lines += ["Retrieval on the report queries (x 100): "
                  + ", ".join(f"{_FIGURE_NAMES.get(k, k)} {v:.2f}" for k, v in figures.items()) + ".", ""]
    lines += [
        "## How it was chosen",
        "",
        f"The labelled {items} were split once (seed {cfg.get('seed')}): {sizes.get('description')}. "
        "Every candidate was scored on the selection part; the best one was kept (unless it was not surely "
        "better than the start model, which then wins the tie) and scored once on the report part. "
        + how_sure,
        "",
        "| recipe | pooling | selection | report |",
        "|---|---|---:|---:|",
    ]
    lines += [
        f"| {r.recipe} | {r.pooling} | {r.selection:.2f} | {r.report:.2f} |" for r in board[:10]
    ]
    if len(board) > 10:
        lines.append(f"| ... {len(board) - 10} more in leaderboard.md | | | |")
    for note in cfg.get("notes", []):
        lines += ["", f"Note: {note}"]
    lines.append("")
    return "\n".join(lines)
