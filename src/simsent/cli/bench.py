"""``simsent bench``: experiment runners (``bench table``: the raw / whitening / SimCSE seed table).

Example:
    $ simsent bench table --model bert-base-chinese --poolings cls,first_last_avg --tasks all \\
        --seeds 3 --data-dir data/senteval_cn --output results/bert-table
"""

from __future__ import annotations

import typer

from simsent.cli.common import invoked_as, split_list
from simsent.cli.options import settings_command
from simsent.experiments.table.config import TableConfig

bench_app = typer.Typer(
    help="Experiment runners (the raw / whitening / SimCSE seed table).", no_args_is_help=True
)


@bench_app.command("table")
@settings_command(TableConfig)
def bench_table(
    poolings: str = typer.Option("cls,pooler,first_last_avg,last_avg", help="Comma-separated poolings."),
    estimate_only: bool = typer.Option(False, help="Print the run-time estimate and stop."),
    settings: dict | None = None,
) -> None:
    """Raw / whitening / SimCSE Spearman per (pooling, task), mean ± std over seeds, plus a TF-IDF row."""
    from simsent.experiments.table.study import run_table

    cfg = TableConfig(**(settings or {}), poolings=split_list(poolings))
    argv = invoked_as()
    result = run_table(cfg, argv=argv, estimate_only=estimate_only, echo=typer.echo)
    if result is not None:
        typer.echo(result["markdown"])
        typer.echo(f"written: {', '.join(result['files'])}")
