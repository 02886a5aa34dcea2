"""``simsent models``: the start models simsent knows, and which are on this machine.

Example:
    $ simsent models
"""

from __future__ import annotations

import typer


def models(
    json_output: bool = typer.Option(False, "--json", help="One JSON object a model instead of the table."),
) -> None:
    """List the built-in start models and well-known hub ids for Chinese: size, vector dimension, licence,
    languages, pooling, prompts, and where each is on this machine (or how it would get here). Any of
    them goes to --model; so does any other hub id or local folder."""
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
