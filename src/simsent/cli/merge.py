"""``simsent merge``: weight interpolation of two models of one architecture (WiSE-FT / LM-Cocktail).

Example:
    $ simsent merge runs/start runs/tuned --weight 0.5 --output runs/halfway
"""

from __future__ import annotations

import typer

from simsent.cli.common import output_dir


def merge(
    model_a: str = typer.Argument(..., metavar="A", help="First model (folder or hub id): the start model."),
    model_b: str = typer.Argument(..., metavar="B", help="Second model, same architecture: a fine-tune."),
    weight: float = typer.Option(..., "--weight", "-w", help="Share of B: (1 - w) * A + w * B."),
    output: str = typer.Option(..., "--output", "-o", help="Folder for the merged model."),
) -> None:
    """Interpolate the weights of A and B: (1 - w) * A + w * B (w=0 gives A, w=1 gives B)."""
    from simsent.adapt.merge import merge_models
    from simsent.errors import check_number
    from simsent.modeling.sentence_encoder import SentenceEncoder

    check_number("--weight", weight, minimum=0, maximum=1)
    output_dir(output)
    a = SentenceEncoder.from_pretrained(model_a, backend="torch")
    b = SentenceEncoder.from_pretrained(model_b, backend="torch")
    merged = merge_models(a, b, weight)
    merged.extra_config["merge"] = {"a": model_a, "b": model_b, "weight": float(weight)}
    merged.save(output)
    typer.echo(f"merged (1 - {weight:g}) * {model_a} + {weight:g} * {model_b} into {output}")
