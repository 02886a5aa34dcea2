"""``simsent encode``: sentences to a ``.npy`` matrix.

Example:
    $ simsent encode runs/stsb --input sents.txt --output vecs.npy
"""

from __future__ import annotations

import os

import typer

from simsent.cli.common import require_file


def encode(
    model: str = typer.Argument(..., help="Model folder or hub id."),
    input: str = typer.Option(..., "--input", "-i", help="One sentence per line (or any reader format)."),
    output: str = typer.Option(..., "--output", "-o", help="Output .npy file (n, dim) float32."),
    batch_size: int = typer.Option(64, min=1),
    normalize: bool = typer.Option(False, help="L2-normalise the vectors."),
) -> None:
    """Encode sentences into a .npy matrix, one row per input sentence."""
    import numpy as np

    from simsent.data.columns import sentences_of
    from simsent.data.readers import read_any
    from simsent.modeling.sentence_encoder import SentenceEncoder

    texts = sentences_of(read_any(require_file(input, "--input")))
    encoder = SentenceEncoder.from_pretrained(model)
    vecs = encoder.encode(
        texts, batch_size=batch_size, normalize_embeddings=normalize, show_progress_bar=True
    )
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    np.save(output, vecs.astype(np.float32))
    typer.echo(f"wrote {vecs.shape[0]} x {vecs.shape[1]} vectors to {output}")
