"""``simsent mine``: per class, unlabelled texts close to the class's labelled seeds.

Example:
    $ simsent mine runs/lcqmc --seeds labelled.jsonl --pool unlabelled.txt --output mined.jsonl
"""

from __future__ import annotations

import json

import typer

from simsent.cli.common import load_model, output_file, require_file
from simsent.cli.options import backend_option


def mine(
    model: str = typer.Argument(..., help="Model folder or hub id."),
    seeds: str = typer.Option(..., "--seeds", "-s", help="Labelled seeds: .jsonl/.csv with text and label."),
    pool: str = typer.Option(
        ..., "--pool", "-p", help="Unlabelled texts: one per line, or .jsonl/.csv with text."
    ),
    output: str | None = typer.Option(None, "--output", "-o", help="JSONL file (default: stdout)."),
    threshold: float | None = typer.Option(
        None, help="Cosine cut-off (default: the model's calibrated one)."
    ),
    top_k: int | None = typer.Option(None, min=1, help="At most this many texts per class."),
    batch_size: int = typer.Option(64, min=1),
    backend: str = backend_option(),
) -> None:
    """Per class, pool texts whose cosine to the class's nearest seed is above the threshold."""
    from simsent._io import write_text
    from simsent.data.readers import read_any
    from simsent.errors import DataError, check_number
    from simsent.search.corpus import iter_corpus
    from simsent.search.mining import mine as run_mine
    from simsent.search.mining import parse_seeds

    check_number("--threshold", threshold, minimum=-1, maximum=1, optional=True)
    if output:
        output_file(output, "--output")
    rows = read_any(require_file(seeds, "--seeds"))
    if rows and isinstance(rows[0], str):
        raise DataError(f"{seeds}: seeds need a label: use .jsonl or .csv with text and label fields")
    found = run_mine(
        load_model(model, backend),
        parse_seeds(rows),
        (r["text"] for r in iter_corpus(require_file(pool, "--pool"))),
        threshold=threshold,
        top_k=top_k,
        batch_size=batch_size,
    )
    lines = [
        json.dumps({"label": lab, **hit}, ensure_ascii=False) for lab, hits in found.items() for hit in hits
    ]
    if output:
        write_text(output, "\n".join(lines) + ("\n" if lines else ""))
    else:
        for line in lines:
            typer.echo(line)
    summary = ", ".join(f"{lab}: {len(h)}" for lab, h in found.items())
    typer.echo(f"mined {len(lines)} candidates ({summary})" + (f" -> {output}" if output else ""), err=True)
