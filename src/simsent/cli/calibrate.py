"""``simsent calibrate``: the same / not-same cosine threshold, stored in the model's config.

Example:
    $ simsent calibrate runs/lcqmc --pairs LCQMC.valid.data --metric f1
"""

from __future__ import annotations

import typer

from simsent.cli.common import output_dir, require_file
from simsent.cli.options import backend_option


def calibrate(
    model: str = typer.Argument(..., help="Model folder (the threshold is stored in its config)."),
    pairs: str = typer.Option(
        ..., "--pairs", "-p", help="Labelled pairs: .data (a<TAB>b<TAB>label), .csv/.jsonl."
    ),
    metric: str = typer.Option("f1", help="f1 | accuracy"),
    positive_threshold: float | None = typer.Option(
        None, help="Label at or above which a pair is 'same' (needed for graded labels, e.g. 4 for STS-B)."
    ),
    output: str | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Save a calibrated copy here instead (needed when MODEL is not a simsent folder).",
    ),
    batch_size: int = typer.Option(64, min=1),
    backend: str = backend_option(),
) -> None:
    """Pick the cosine threshold maximising F1 or accuracy and store it in the model's config."""
    from simsent.adapt.calibration import METRICS, calibrate_model
    from simsent.errors import ConfigError

    if metric not in METRICS:
        raise ConfigError(f"unknown --metric {metric!r}; choose f1 or accuracy")
    require_file(pairs, "--pairs")
    if output:
        output_dir(output)
    r = calibrate_model(
        model,
        pairs,
        metric=metric,
        positive_threshold=positive_threshold,
        output=output,
        batch_size=batch_size,
        backend=backend,
    )
    typer.echo(
        f"threshold {r['value']:.4f} ({metric}): f1 {r['f1']:.4f}, accuracy {r['accuracy']:.4f}, "
        f"precision {r['precision']:.4f}, recall {r['recall']:.4f} on {r['pairs']} pairs; "
        f"stored in {r['stored_in']}"
    )
