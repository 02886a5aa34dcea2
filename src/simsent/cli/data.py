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
