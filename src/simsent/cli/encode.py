"""``simsent encode``: sentences to a ``.npy`` matrix.

Example:
    $ simsent encode runs/stsb --input sents.txt --output vecs.npy
"""

from __future__ import annotations

import typer

from simsent.cli.common import (
    backend_option,
    device_option,
    output_file,
    precision_option,
    read_texts,
    ready_model,
)


def encode(
    model: str = typer.Argument(..., help="Model folder or hub id."),
    input: str = typer.Option(..., "--input", "-i", help="One sentence per line (or any reader format)."),
    output: str = typer.Option(..., "--output", "-o", help="Output .npy file (n, dim) float32."),
    batch_size: int = typer.Option(64, min=1),
    normalize: bool = typer.Option(False, help="L2-normalise the vectors."),
    device: str = device_option(),
    precision: str = precision_option(),
    backend: str = backend_option(),
    precision_out: str = typer.Option(
        "float32",
        "--precision-out",
        help="float32; int8 (per-dimension ranges calibrated on these vectors, saved beside as "
        "OUTPUT.ranges.npy); or ubinary (sign bits packed 8 to a byte: 32x smaller).",
    ),
) -> None:
    """Encode sentences into a .npy matrix, one row per input sentence."""
    import numpy as np

    from simsent._io import atomic_path
    from simsent.search.quantize import PRECISIONS, int8_ranges, quantize

    if precision_out not in PRECISIONS:
        raise typer.BadParameter(f"choose from {', '.join(PRECISIONS)}", param_hint="--precision-out")
    output_file(output, "--output")
    texts = read_texts(input, "--input")
    encoder = ready_model(model, device, precision, backend)
    vecs = encoder.encode(
        texts, batch_size=batch_size, normalize_embeddings=normalize, show_progress_bar=True
    )
    ranges = int8_ranges(vecs) if precision_out == "int8" else None
    out = quantize(vecs, precision_out, ranges)
    with atomic_path(output) as tmp, open(tmp, "wb") as f:  # exactly this path (np.save would add .npy)
        np.save(f, out)
    if ranges is not None:
        with atomic_path(f"{output}.ranges.npy") as tmp, open(tmp, "wb") as f:
            np.save(f, ranges)
    typer.echo(f"wrote {vecs.shape[0]} x {vecs.shape[1]} vectors to {output} ({precision_out})")
