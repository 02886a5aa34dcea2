"""``simsent similarity``: cosine of two texts (and same / not same with a calibrated threshold).

Example:
    $ simsent similarity runs/stsb "今天天气不错" "今天天气很好"
"""

from __future__ import annotations

import typer

from simsent.cli.common import ready_model
from simsent.cli.options import backend_option, device_option


def similarity(
    model: str = typer.Argument(..., help="Model folder or hub id."),
    text_a: str = typer.Argument(...),
    text_b: str = typer.Argument(...),
    device: str = device_option(),
    backend: str = backend_option(),
) -> None:
    """Cosine similarity of two texts (and same / not same when the model has a calibrated threshold)."""
    from simsent.data.readers import is_blank
    from simsent.errors import DataError

    if is_blank(text_a) or is_blank(text_b):
        raise DataError("both texts must be non-empty (whitespace or zero-width characters alone are blank)")
    encoder = ready_model(model, device, "fp32", backend)
    score = encoder.similarity(text_a, text_b)
    line = f"{score:.4f}"
    threshold = encoder.extra_config.get("threshold")
    if isinstance(threshold, dict) and "value" in threshold:
        verdict = "same" if score >= threshold["value"] else "not same"
        line += f"\t{verdict} (threshold {threshold['value']:.4f})"
    typer.echo(line)
