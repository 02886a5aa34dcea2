"""``simsent sweep``: Spearman over a grid of training sizes x epochs x seeds, with plots.

Example:
    $ simsent sweep --model bert-base-chinese --task STS-B --data-dir data/senteval_cn \\
        --sizes 50,100,200,400,800 --epochs 1,2,5,10 --seeds 3 --objective simcse,cosent --output runs/sweep
"""

from __future__ import annotations

import typer

from simsent._constants import MAX_DROPOUT
from simsent.cli.common import defaults_of, invoked_as, require_file, split_ints, split_list
from simsent.experiments.sweep.config import SweepConfig

_DEFAULTS = defaults_of(SweepConfig)
#: options passed to SweepConfig by their own name (the others are parsed first)
_FIELDS = (
    "model",
    "output",
    "data_dir",
    "seeds",
    "seed_base",
    "protocol",
    "pooling",
    "batch_size",
    "lr",
    "dropout",
    "temperature",
    "simcse_variant",
    "max_len",
    "eval_split",
    "max_eval_pairs",
    "max_minutes",
)


def sweep(
    model: str = typer.Option(..., "--model", "-m", help="Hub id or local folder of the starting model."),
    task: str = typer.Option(
        "STS-B",
        "--task",
        "--tasks",
        help="Evaluated task(s), comma-separated (ATEC, BQ, LCQMC, PAWSX, STS-B).",
    ),
    data_dir: str | None = typer.Option(
        None, help="Folder with TASK/TASK.split.data (or $SIMSENT_DATA_DIR)."
    ),
    sizes: str = typer.Option("50,100,200,400,800", help="Training sizes N (sentences, or labelled pairs)."),
    epochs: str = typer.Option("1", help="Epoch settings, comma-separated, e.g. 1,2,5,10,20."),
    supervised_epochs: str | None = typer.Option(
        None, help="Epoch settings of the supervised objectives (default: --epochs)."
    ),
    seeds: int = typer.Option(
        _DEFAULTS["seeds"], min=1, help="Seeds per cell (seed-base, seed-base+1, ...)."
    ),
    seed_base: int = typer.Option(_DEFAULTS["seed_base"], help="First seed."),
    objective: str = typer.Option(
        "simcse",
        help="Objective(s), comma-separated, e.g. simcse,cosent; supervised ones train on N labelled pairs "
        "of the train split (one a sweep cannot vary is refused, naming those it can).",
    ),
    protocol: str = typer.Option(
        _DEFAULTS["protocol"],
        help="inductive (training text never holds an evaluated sentence) or transductive (all splits).",
    ),
    pooling: str | None = typer.Option(None, help="Pooling (default: the model's own, else mean)."),
    batch_size: int = typer.Option(_DEFAULTS["batch_size"], min=2),
    lr: float = typer.Option(_DEFAULTS["lr"]),
    dropout: float | None = typer.Option(
        None, min=0.0, max=MAX_DROPOUT, help="Dropout (default: the model's)."
    ),
    temperature: float = typer.Option(_DEFAULTS["temperature"], min=1e-4),
    simcse_variant: str = typer.Option(_DEFAULTS["simcse_variant"], help="paper or symmetric."),
    max_len: int = typer.Option(_DEFAULTS["max_len"], min=2),
    eval_split: str | None = typer.Option(
        None, help="Split evaluated (default: test if present, else valid)."
    ),
    max_eval_pairs: int | None = typer.Option(None, min=2, help="Seeded subset of evaluation pairs."),
    extra_text: list[str] | None = typer.Option(
        None, help="More unlabelled text (any readable file), used after the task's own text (repeatable)."
    ),
    max_minutes: float | None = typer.Option(
        None, help="Time budget: stop cleanly between cells (cheapest cells run first); rerun to resume."
    ),
    output: str = typer.Option(
        ..., "--output", "-o", help="Folder for table.md/.csv/.json, plots and state."
    ),
    estimate_only: bool = typer.Option(False, help="Print the run-time estimate and stop."),
) -> None:
    """Spearman over training size x epochs x seeds, every cell trained from the same start; tables, plots."""
    from simsent.cli.common import output_dir
    from simsent.experiments.sweep.study import run_sweep

    for path in extra_text or []:
        require_file(path, "--extra-text")
    output_dir(output)
    options = {k: v for k, v in locals().items() if k in _FIELDS}
    cfg = SweepConfig(
        **options,
        tasks=task,
        sizes=split_ints(sizes, "--sizes"),
        epochs=split_ints(epochs, "--epochs"),
        supervised_epochs=split_ints(supervised_epochs, "--supervised-epochs") if supervised_epochs else None,
        objectives=split_list(objective),
        extra_text=list(extra_text or []),
    )
    argv = invoked_as()
    result = run_sweep(cfg, argv=argv, estimate_only=estimate_only, echo=typer.echo)
    if result is not None:
        typer.echo(result["markdown"].split("\n## Plots")[0].split("\n## Data files")[0])
        typer.echo(f"written: {', '.join(result['files'])}")
