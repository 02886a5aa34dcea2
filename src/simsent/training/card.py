"""A README model card for saved models: how it was trained and what it scored.

Example:
    >>> print(model_card(model, args, {"spearman": 70.1}, []))   # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simsent.modeling.sentence_encoder import SentenceEncoder


def _card_top(tag: str, title: str, summary: str) -> list[str]:
    """The YAML header, title, summary and the loading snippet every simsent card starts with."""
    return [
        "---",
        "library_name: sentence-transformers",
        f"tags: [sentence-transformers, sentence-similarity, simsent, {tag}]",
        "---",
        "",
        f"# {title}",
        "",
        summary,
        "",
        "```python",
        "from sentence_transformers import SentenceTransformer",
        "model = SentenceTransformer('PATH')   # or simsent.SentenceEncoder.load('PATH')",
        "```",
        "",
    ]


def model_card(
    model: SentenceEncoder, args: Any, metrics: dict[str, Any], history: list[dict[str, Any]]
) -> str:
    """Markdown text with the base model, pooling, training config and dev scores."""
    cfg = model.config_dict()
    lines = _card_top(
        "simcse",
        "simsent model",
        f"Trained with simsent, objective `{args.objective}`, pooling `{cfg['pooling']}`, "
        f"base model `{cfg.get('base_model', 'unknown')}`.",
    )
    lines += [
        "## Dev scores",
        "",
    ]
    if metrics:
        lines += ["| metric | value |", "|---|---:|"]
        lines += [
            f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in metrics.items()
        ]
    else:
        lines.append("No dev task was evaluated.")
    if history:
        lines += ["", "## Evaluation history", "", "| step | spearman |", "|---:|---:|"]
        lines += [f"| {h['step']} | {h.get('spearman', float('nan')):.2f} |" for h in history]
    lines += [
        "",
        "## Training arguments",
        "",
        "```json",
        json.dumps(args.to_dict(), indent=2, ensure_ascii=False),
        "```",
        "",
    ]
    return "\n".join(lines)


def fit_card(
    winner: dict[str, Any], board: list[dict[str, Any]], prov: dict[str, Any], how_sure: str = ""
) -> str:
    """The README of a folder written by ``simsent fit``: chosen recipe, alternatives, protocol, and how
    sure the choice is (``how_sure``: :func:`simsent.experiments.choice.choice_sentence`)."""
    cfg = prov["config"]
    sizes = cfg.get("split_sizes", {})
    saved = winner.get("refit") or winner  # the retrained winner (--refit) is what the folder holds
    lo, hi = saved.get("report_ci") or (float("nan"), float("nan"))
    retrained = f" It was retrained on {saved['pairs']} pairs (train + selection) after the choice." if (
        saved is not winner) else ""
    lines = _card_top(
        "simsent-fit",
        "simsent fit model",
        f"Chosen by `simsent fit` from `{cfg.get('model')}`: **{winner['recipe']}**, pooling "
        f"**{winner['pooling']}**.{retrained}\n\nSpearman x 100 on held-out labelled pairs (report part, "
        f"{sizes.get('report')} pairs, never used to choose or train): **{saved['report']:.2f}** (95% "
        f"bootstrap interval {lo:.2f} – {hi:.2f}).",
    )
    lines += [
        "## How it was chosen",
        "",
        f"The labelled pairs were split once (seed {cfg.get('seed')}): {sizes.get('description')}. "
        "Every candidate was scored on the selection part; the best one was kept (unless it was not surely "
        "better than the start model, which then wins the tie) and scored once on the report part. "
        + how_sure,
        "",
        "| recipe | pooling | selection | report |",
        "|---|---|---:|---:|",
    ]
    lines += [
        f"| {r['recipe']} | {r['pooling']} | {r['selection']:.2f} | {r['report']:.2f} |" for r in board[:10]
    ]
    if len(board) > 10:
        lines.append(f"| ... {len(board) - 10} more in leaderboard.md | | | |")
    for note in cfg.get("notes", []):
        lines += ["", f"Note: {note}"]
    lines.append("")
    return "\n".join(lines)
