"""``simsent encode``: sentences to a ``.npy`` matrix.

Example:
    $ simsent encode runs/stsb --input sents.txt --output vecs.npy
"""

from __future__ import annotations

import typer

from simsent.cli.common import output_file, read_texts, ready_model
from simsent.cli.options import (
    backend_option,
    device_option,
    gpus_per_worker_option,
    precision_option,
    ray_option,
    shard_rows_option,
    workers_option,
)
from simsent.scale.pipeline import Spread


def encode(
    model: str = typer.Argument(..., help="Model folder or hub id."),
    input: str = typer.Option(..., "--input", "-i", help="One sentence per line (or any reader format)."),
    output: str = typer.Option(
        ..., "--output", "-o", help="Output .npy file (n, dim); with --shard-rows/--workers/--ray a folder "
        "of shards (unit vectors; shards.json names the model, the input's sha256 and each shard's checksum) "
        "that `simsent index build --from-vectors` indexes."
    ),
    batch_size: int = typer.Option(64, min=1),
    normalize: bool = typer.Option(False, help="L2-normalise the vectors."),
    dim: int | None = typer.Option(None, "--dim", min=1, help="Keep the first D dimensions (a Matryoshka "
                                   "prefix; renormalised with --normalize)."),
    device: str = device_option(),
    precision: str = precision_option(),
    backend: str = backend_option(),
    precision_out: str = typer.Option(
        "float32",
        "--precision-out",
        help="float32; int8 (per-dimension ranges calibrated on these vectors, saved beside as "
        "OUTPUT.ranges.npy); or ubinary (sign bits packed 8 to a byte: 32x smaller).",
    ),
    shard_rows: int | None = shard_rows_option(None),
    workers: int | None = workers_option(),
    ray: str | None = ray_option(),
    gpus_per_worker: float = gpus_per_worker_option(),
) -> None:
    """Encode sentences into a .npy matrix, one row per input sentence (or a folder of shards)."""
    import numpy as np

    from simsent._io import atomic_path
    from simsent.search.quantize import PRECISIONS, int8_ranges, quantize

    if precision_out not in PRECISIONS:
        raise typer.BadParameter(f"choose from {', '.join(PRECISIONS)}", param_hint="--precision-out")
    if dim is not None and (shard_rows is not None or workers is not None or ray is not None):
        raise typer.BadParameter("is not taken with --shard-rows/--workers/--ray yet", param_hint="--dim")
    if shard_rows is not None or workers is not None or ray is not None:
        spread = Spread(workers or 0, ray, gpus_per_worker)
        return _encode_shards(model, input, output, shard_rows or 100_000, batch_size, device, precision,
                              backend, precision_out, spread)
    output_file(output, "--output")
    texts = read_texts(input, "--input")
    encoder = ready_model(model, device, precision, backend)
    if dim is not None:
        from simsent.modeling.inputs import check_prefix

        check_prefix(encoder, dim)
    vecs = encoder.encode(
        texts, batch_size=batch_size, normalize_embeddings=normalize, show_progress_bar=True
    )
    if dim is not None:
        from simsent.modeling.inputs import prefix_rows

        vecs = prefix_rows(vecs, dim) if normalize else vecs[:, :dim]
    ranges = int8_ranges(vecs) if precision_out == "int8" else None
    out = quantize(vecs, precision_out, ranges)
    # exactly this path (np.save would add .npy)
    with atomic_path(output, out.nbytes) as tmp, open(tmp, "wb") as f:
        np.save(f, out)
    if ranges is not None:
        with atomic_path(f"{output}.ranges.npy") as tmp, open(tmp, "wb") as f:
            np.save(f, ranges)
    typer.echo(f"wrote {vecs.shape[0]} x {vecs.shape[1]} vectors to {output} ({precision_out})")


def _encode_shards(model: str, input: str, output: str, shard_rows: int, batch_size: int, device: str,
                   precision: str, backend: str, precision_out: str, spread: Spread) -> None:
    """``encode --shard-rows`` (or ``--workers`` / ``--ray``): the corpus into a resumable folder of
    shards, encoded here or on Ray workers."""
    from simsent.cli.common import require_file
    from simsent.scale.pipeline import shard_corpus

    require_file(input, "--input")
    manifest, _ = shard_corpus(model, input, output, shard_rows=shard_rows, batch_size=batch_size,
                               device=device, precision=precision, backend=backend,
                               precision_out=precision_out, spread=spread)
    typer.echo(f"wrote {manifest['rows']} vectors in {len(manifest['shards'])} shard(s) to {output} "
               f"({precision_out})")

