"""CLI commands: ``simsent data ...`` (data preparation).

Example:
    $ simsent data nli-to-triplets cnsd_snli.jsonl nli_triplets.jsonl
    $ simsent train --model bert-base-chinese --train-file nli_triplets.jsonl --objective supervised_simcse \\
        --output runs/sup
"""

from __future__ import annotations

import typer

from simsent.cli.common import output_file, require_file

data_app = typer.Typer(help="Prepare training data (NLI -> triplets, ...).", no_args_is_help=True)


@data_app.command("nli-to-triplets")
def nli_to_triplets(
    input: str = typer.Argument(
        ..., help="NLI file (.csv/.tsv with header, .jsonl): premise/sentence1, hypothesis/sentence2, label."
    ),
    output: str = typer.Argument(
        ..., help="Triplet file to write: .jsonl, or .tsv (anchor, positive, negative)."
    ),
) -> None:
    """Turn NLI pairs into supervised SimCSE triplets: entailment = positive, contradiction = hard negative.

    Labels: entailment/neutral/contradiction (or e/n/c), or 0/1/2 meaning
    0 = entailment, 1 = neutral, 2 = contradiction (Hugging Face SNLI/MNLI/XNLI). Rows with other
    labels are skipped; premises without a contradiction give no triplet.
    """
    from simsent.data.nli import convert_nli_file

    require_file(input, "INPUT")
    output_file(output, "OUTPUT")
    counts = convert_nli_file(input, output)
    typer.echo(
        f"wrote {counts['triplets']} triplets to {output} (from {counts['pairs']} pairs; "
        f"{counts['skipped_labels']} with an unknown label skipped, {counts['no_negative']} entailment(s) "
        "without a contradiction dropped)"
    )


@data_app.command("hard-negatives")
def hard_negatives(
    model: str = typer.Argument(..., help="Model folder or hub id that ranks the corpus (the start model)."),
    pairs: str = typer.Argument(
        ..., help="Positive pairs: anchor, positive (JSONL query, pos), or sentence1, sentence2, score."
    ),
    corpus: str = typer.Argument(..., help="Unlabelled text to mine from: one sentence a line, or a table."),
    output: str = typer.Argument(..., help="Triplets to write (.jsonl), for --objective supervised_simcse."),
    range_min: int = typer.Option(3, min=0, help="Skip the top N neighbours (often paraphrases)."),
    range_max: int = typer.Option(50, min=1, help="Look no further than the top N neighbours."),
    margin: float = typer.Option(
        0.05, help="Keep negatives whose cosine to the anchor is below the positive's minus this."
    ),
    positive_min: float | None = typer.Option(
        None, help="With scored pairs: pairs scoring at least this are positives (default: the top score)."
    ),
    batch_size: int = typer.Option(64, min=1),
) -> None:
    """Mine a hard negative for every (anchor, positive) from your unlabelled text with MODEL (ranks
    RANGE_MIN..RANGE_MAX, below the positive's cosine minus MARGIN: paraphrases are not negatives)."""
    import json

    from simsent._io import write_text
    from simsent.cli.common import load_model, read_texts
    from simsent.data.triplets import positive_pairs
    from simsent.search.hard_negatives import mine_hard_negatives

    rows = positive_pairs(require_file(pairs, "PAIRS"), positive_min)
    texts = read_texts(corpus, "CORPUS")
    output_file(output, "OUTPUT")
    found = mine_hard_negatives(load_model(model), rows, texts, range_min, range_max, margin, batch_size)
    mined, counts = found
    write_text(output, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in mined))
    typer.echo(
        f"wrote {len(mined)} triplets to {output}: {counts['mined']} with a mined hard negative, "
        f"{counts['none']} without one in range (supervised_simcse gives those another row's positive)"
    )
