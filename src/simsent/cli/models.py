"""``simsent models``: the start models simsent knows, and which are on this machine; ``simsent models
prune``: a smaller copy with the vocabulary a corpus uses.

Example:
    $ simsent models
    $ simsent models prune e5-small-zh --corpus faq.txt --output runs/e5-zh-faq
"""

from __future__ import annotations

import typer

models_app = typer.Typer(help="Start models: list them, or prune one's vocabulary to a corpus.",
                         invoke_without_command=True)


@models_app.callback()
def models(
    ctx: typer.Context,
    json_output: bool = typer.Option(False, "--json", help="One JSON object a model instead of the table."),
) -> None:
    """List the built-in start models and well-known hub ids for Chinese: size, vector dimension, licence,
    languages, pooling, prompts, and where each is on this machine (or how it would get here). Any of
    them goes to --model; so does any other hub id or local folder."""
    if ctx.invoked_subcommand is not None:
        return
    import dataclasses
    import json

    from simsent.modeling.catalogue import KNOWN_MODELS, where_is

    rows = [{**dataclasses.asdict(m), "here": where_is(m)} for m in KNOWN_MODELS]
    if json_output:
        for r in rows:
            typer.echo(json.dumps(r, ensure_ascii=False))
        return
    for r in rows:
        typer.echo(f"{r['name']}\n  {r['params']} parameters, {r['dim']}-d, licence {r['licence']}, "
                   f"languages {r['languages']}, {r['pooling']} pooling, prompts {r['prompts']}")
        if r["note"]:
            typer.echo(f"  {r['note']}")
        typer.echo(f"  here: {r['here']}")


@models_app.command("prune")
def prune(
    model: str = typer.Argument(..., help="A model with a SentencePiece-unigram vocabulary (e5-small-zh, "
                                "or a folder of one)."),
    corpus: str = typer.Option(..., "--corpus", "-c", help="Your texts: every piece they use is kept."),
    output: str = typer.Option(..., "--output", "-o", help="Folder for the pruned copy."),
    keep_top: int = typer.Option(20000, min=0, help="Also keep the N highest-scoring other pieces."),
) -> None:
    """Copy MODEL keeping only the vocabulary pieces CORPUS uses (plus --keep-top others): the corpus's
    texts embed exactly as before, the folder is several times smaller; other text may tokenise
    differently. An option, never the default."""
    from simsent.cli.common import output_dir, read_texts
    from simsent.modeling.builtin import builtin_path
    from simsent.modeling.prune import prune_vocabulary

    texts = read_texts(corpus, "--corpus")
    output_dir(output)
    done = prune_vocabulary(builtin_path(model), texts, output, keep_top)
    before, after = done["bytes_before"] / 2**20, done["bytes_after"] / 2**20
    typer.echo(f"kept {done['kept']:,} of {done['pieces']:,} pieces; weights {before:.0f} -> {after:.0f} "
               f"MiB; saved to {output}")
