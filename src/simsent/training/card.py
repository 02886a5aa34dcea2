"""A README model card for saved models: how it was trained and what it scored.

Example:
    >>> print(model_card(model, args, {"spearman": 70.1}, []))   # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import Any


def model_card(model: Any, args: Any, metrics: dict[str, Any], history: list[dict[str, Any]]) -> str:
    """Markdown text with the base model, pooling, training config and dev scores."""
    cfg = model.config_dict()
    lines = [
        "---",
        "library_name: sentence-transformers",
        "tags: [sentence-transformers, sentence-similarity, simsent, simcse]",
        "---",
        "",
        "# simsent model",
        "",
        f"Trained with simsent, objective `{args.objective}`, pooling `{cfg['pooling']}`, "
        f"base model `{cfg.get('base_model', 'unknown')}`.",
        "",
        "```python",
        "from sentence_transformers import SentenceTransformer",
        "model = SentenceTransformer('PATH')   # or simsent.SentenceEncoder.load('PATH')",
        "```",
        "",
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
