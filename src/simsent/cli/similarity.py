"""``simsent similarity``: cosine of two texts (and same / not same with a calibrated threshold).

Example:
    $ simsent similarity runs/stsb "今天天气不错" "今天天气很好"
"""

from __future__ import annotations

import typer


def similarity(
    model: str = typer.Argument(..., help="Model folder or hub id."),
    text_a: str = typer.Argument(...),
    text_b: str = typer.Argument(...),
) -> None:
    """Cosine similarity of two texts (and same / not same when the model has a calibrated threshold)."""
    from simsent.errors import DataError
    from simsent.modeling.sentence_encoder import SentenceEncoder

    if not text_a.strip() or not text_b.strip():
        raise DataError("both texts must be non-empty")
    encoder = SentenceEncoder.from_pretrained(model)
    score = encoder.similarity(text_a, text_b)
    line = f"{score:.4f}"
    threshold = encoder.extra_config.get("threshold")
    if isinstance(threshold, dict) and "value" in threshold:
        verdict = "same" if score >= threshold["value"] else "not same"
        line += f"\t{verdict} (threshold {threshold['value']:.4f})"
    typer.echo(line)
