"""``simsent sweep``: Spearman over a grid of training sizes x epochs x seeds, with plots.

Example:
    $ simsent sweep --model bert-base-chinese --task STS-B --data-dir data/senteval_cn \\
        --sizes 50,100,200,400,800 --epochs 1,2,5,10 --seeds 3 --objective simcse,cosent --output runs/sweep
"""

from __future__ import annotations

import typer

from simsent.cli.common import invoked_as, require_file, split_ints, split_list
from simsent.cli.options import settings_command
from simsent.experiments.sweep.config import SweepConfig


@settings_command(SweepConfig)
def sweep(
    task: str = typer.Option(
        "STS-B",
        "--task",
        "--tasks",
        help="Evaluated task(s), comma-separated (ATEC, BQ, LCQMC, PAWSX, STS-B).",
    ),
    sizes: str = typer.Option("50,100,200,400,800", help="Training sizes N (sentences, or labelled pairs)."),
    epochs: str = typer.Option("1", help="Epoch settings, comma-separated, e.g. 1,2,5,10,20."),
    supervised_epochs: str | None = typer.Option(
        None, help="Epoch settings of the supervised objectives (default: --epochs)."
    ),
    objective: str = typer.Option(
        "simcse",
        help="Objective(s), comma-separated, e.g. simcse,cosent; supervised ones train on N labelled pairs "
        "of the train split (one a sweep cannot vary is refused, naming those it can).",
    ),
    extra_text: list[str] | None = typer.Option(
        None, help="More unlabelled text (any readable file), used after the task's own text (repeatable)."
    ),
    estimate_only: bool = typer.Option(False, help="Print the run-time estimate and stop."),
    settings: dict | None = None,
) -> None:
    """Spearman over training size x epochs x seeds, every cell trained from the same start; tables, plots."""
    from simsent.cli.common import output_dir
    from simsent.experiments.sweep.study import run_sweep

    for path in extra_text or []:
        require_file(path, "--extra-text")
    settings = settings or {}
    output_dir(settings["output"])
    cfg = SweepConfig(
        **settings,
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
