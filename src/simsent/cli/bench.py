"""``simsent bench``: experiment runners (``bench table``: the raw / whitening / SimCSE seed table).

Example:
    $ simsent bench table --model bert-base-chinese --poolings cls,first_last_avg --tasks all \\
        --seeds 3 --data-dir data/senteval_cn --output results/bert-table
"""

from __future__ import annotations

import typer

from simsent._constants import MAX_DROPOUT
from simsent.cli.common import defaults_of, invoked_as, split_list
from simsent.experiments.table.config import TableConfig

_DEFAULTS = defaults_of(TableConfig)

bench_app = typer.Typer(
    help="Experiment runners (the raw / whitening / SimCSE seed table).", no_args_is_help=True
)


@bench_app.command("table")
def bench_table(
    model: str = typer.Option(..., "--model", "-m", help="Hub id or local folder of the model."),
    poolings: str = typer.Option("cls,pooler,first_last_avg,last_avg", help="Comma-separated poolings."),
    tasks: str = typer.Option("ATEC,BQ,LCQMC,PAWSX,STS-B", help="Comma-separated tasks, or 'all'."),
    seeds: int = typer.Option(
        _DEFAULTS["seeds"], min=1, help="Number of seeds (seed-base, seed-base+1, ...)."
    ),
    seed_base: int = typer.Option(_DEFAULTS["seed_base"], help="First seed."),
    data_dir: str | None = typer.Option(
        None, help="Folder with TASK/TASK.split.data (or $SIMSENT_DATA_DIR)."
    ),
    output: str = typer.Option(
        ..., "--output", "-o", help="Folder for table.md/.csv/.json and the resume state."
    ),
    protocol: str = typer.Option(
        _DEFAULTS["protocol"],
        help="inductive (train/whiten on separate text) or transductive (on all splits' text, as published).",
    ),
    batch_size: int = typer.Option(_DEFAULTS["batch_size"], min=2),
    lr: float = typer.Option(_DEFAULTS["lr"]),
    dropout: float = typer.Option(_DEFAULTS["dropout"], min=0.0, max=MAX_DROPOUT),
    epochs: int = typer.Option(_DEFAULTS["epochs"], min=1),
    temperature: float = typer.Option(_DEFAULTS["temperature"], min=1e-4),
    simcse_variant: str = typer.Option(
        _DEFAULTS["simcse_variant"],
        help="paper (N-1 negatives) or symmetric (2N-2, both directions; Su's Chinese runs).",
    ),
    max_len: int = typer.Option(_DEFAULTS["max_len"], min=2),
    max_train_samples: int | None = typer.Option(
        _DEFAULTS["max_train_samples"], min=2, help="Sentences sampled for SimCSE per run."
    ),
    max_whiten_samples: int | None = typer.Option(
        None, min=2, help="Sentences for whitening (default: the SimCSE sample)."
    ),
    max_eval_pairs: int | None = typer.Option(None, min=2, help="Seeded subset of evaluation pairs."),
    whiten_dim: int | None = typer.Option(None, min=1, help="Whitening dimensions k (default: all)."),
    eval_split: str | None = typer.Option(
        None, help="Split evaluated (default: test if present, else valid)."
    ),
    max_minutes: float | None = typer.Option(
        None, help="Time budget: cells that would overrun it are left out (rerun to resume)."
    ),
    estimate_only: bool = typer.Option(False, help="Print the run-time estimate and stop."),
) -> None:
    """Raw / whitening / SimCSE Spearman per (pooling, task), mean ± std over seeds, plus a TF-IDF row."""
    import dataclasses

    from simsent.experiments.table.study import run_table

    fields = {f.name for f in dataclasses.fields(TableConfig)}
    options = {k: v for k, v in locals().items() if k in fields}
    cfg = TableConfig(**{**options, "poolings": split_list(poolings)})
    argv = invoked_as()
    result = run_table(cfg, argv=argv, estimate_only=estimate_only, echo=typer.echo)
    if result is not None:
        typer.echo(result["markdown"])
        typer.echo(f"written: {', '.join(result['files'])}")
