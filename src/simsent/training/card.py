"""A README model card for saved models: how it was trained and what it scored.

Example:
    >>> print(model_card(model, args, {"spearman": 70.1}, []))   # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simsent.modeling.sentence_encoder import SentenceEncoder


def card_top(tag: str, title: str, summary: str) -> list[str]:
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
    lines = card_top(
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
