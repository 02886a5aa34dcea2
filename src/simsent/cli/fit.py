"""``simsent fit``: the best sentence encoder for your own data, chosen honestly.

Example:
    $ simsent fit --model bert-base-chinese --train-file my_queries.txt --dev-file my_pairs.tsv \\
        --output runs/best --max-minutes 30
"""

from __future__ import annotations

import typer

from simsent.cli.common import defaults_of, invoked_as, output_dir, require_file, split_ints, split_list
from simsent.experiments.config import FIT_RECIPES, FitConfig

_DEFAULTS = defaults_of(FitConfig)


def fit(
    model: str = typer.Option(..., "--model", "-m", help="Hub id or local folder of the starting model."),
    train_file: str | None = typer.Option(
        None,
        "--train-file",
        "-t",
        help="Unlabelled in-domain text (.txt one a line, or any pair/table file).",
    ),
    dev_file: str | None = typer.Option(
        None, help="Labelled pairs (text_a, text_b, score) to choose and report on: .tsv/.csv/.jsonl/.data."
    ),
    dev_task: str | None = typer.Option(
        None, help="Or a task's labelled pairs (ATEC, BQ, LCQMC, PAWSX, STS-B)."
    ),
    data_dir: str | None = typer.Option(
        None, help="Folder with TASK/TASK.split.data (or $SIMSENT_DATA_DIR)."
    ),
    dev_split: str = typer.Option("valid", help="Split of --dev-task."),
    output: str = typer.Option(
        ..., "--output", "-o", help="Folder for the winning model and the leaderboard."
    ),
    max_minutes: float | None = typer.Option(
        None, help="Time budget: cheap candidates first, the rest left out; rerun to resume."
    ),
    poolings: str | None = typer.Option(
        None,
        help="Poolings to try (default: the model folder's own pooling; for a plain Hugging Face model "
        "cls, first_last_avg, mean).",
    ),
    recipes: str = typer.Option(
        ",".join(FitConfig(model="", output="").recipes),
        help=f"Candidate families: {', '.join(FIT_RECIPES)}.",
    ),
    whiten_dims: str = typer.Option("all,256,128", help="Whitening dimensions k tried on every candidate."),
    seed: int = typer.Option(_DEFAULTS["seed"], help="Seed of the split and of training."),
    report_fraction: float = typer.Option(
        _DEFAULTS["report_fraction"], min=0.05, max=0.95, help="Share of the dev pairs held out to report."
    ),
    min_supervised_pairs: int = typer.Option(
        _DEFAULTS["min_supervised_pairs"], min=4, help="Labelled pairs needed before a CoSENT candidate runs."
    ),
    folds: int = typer.Option(
        _DEFAULTS["folds"], min=1, help="Cross-fitting: supervised candidates are scored on each of N folds "
        "of the non-report pairs by a copy trained on the others, so every such pair chooses; each trains "
        "N+1 times (1: a 40% train part and a separate selection part)."
    ),
    refit: bool = typer.Option(
        _DEFAULTS["refit"], "--refit/--no-refit", help="Retrain a supervised winner on the train and "
        "selection pairs together before saving it; the report part scores the retrained model."
    ),
    max_train_samples: int | None = typer.Option(
        _DEFAULTS["max_train_samples"], min=2, help="Seeded subset of the unlabelled text."
    ),
    max_len: int = typer.Option(_DEFAULTS["max_len"], min=2),
    confidence: float = typer.Option(
        _DEFAULTS["confidence"],
        min=0.0,
        max=1.0,
        help="A candidate replaces the start model only if it beats it on this share of bootstrap resamples "
        "of the selection pairs (0: the best selection score always wins).",
    ),
) -> None:
    """Try raw vectors, whitening, SimCSE (+ whitening) and CoSENT over poolings; keep the best honestly."""
    from simsent.cli.common import read_texts
    from simsent.errors import ConfigError
    from simsent.experiments.fit import run_fit

    pairs, files = _dev_pairs(dev_file, dev_task, data_dir, dev_split)
    if train_file is None:
        raise ConfigError("--train-file is required: unlabelled in-domain sentences for SimCSE and whitening")
    texts = read_texts(train_file, "--train-file")
    files.append(train_file)
    output_dir(output)
    dims = [None if d == "all" else split_ints(d, "--whiten-dims")[0] for d in split_list(whiten_dims)]
    options = {k: v for k, v in locals().items() if k in _DEFAULTS or k in ("model", "output")}
    lists = {"poolings": split_list(poolings) if poolings else None, "recipes": split_list(recipes)}
    sources = {"train_file": train_file, "dev_file": dev_file, "dev_task": dev_task, "dev_split": dev_split}
    cfg = FitConfig(**{**options, **lists, "whiten_dims": dims}, sources=sources)
    result = run_fit(cfg, texts, pairs, argv=invoked_as(), echo=typer.echo, data_files=files)
    _say_result(result, output)


def _say_result(result: dict, output: str) -> None:
    """The leaderboard, the winner with its held-out score, and what the choice means."""
    from simsent.experiments.choice import choice_sentence, hurts_sentence

    w = result["winner"]
    lo, hi = w["report_ci"]
    typer.echo(result["markdown"].split("\n![leaderboard]")[0])
    typer.echo(
        f"winner: {w['recipe']} / {w['pooling']}: selection {w['selection']:.2f}, report {w['report']:.2f} "
        f"(95% CI {lo:.2f} – {hi:.2f}); saved to {output}"
    )
    if w.get("refit"):
        r = w["refit"]
        typer.echo(f"saved model: retrained on {r['pairs']} pairs, report {r['report']:.2f} "
                   f"(95% CI {r['report_ci'][0]:.2f} – {r['report_ci'][1]:.2f})")
    choice = result["provenance"]["config"].get("choice") or {}
    typer.echo(f"what it means: {choice_sentence(result['leaderboard'], choice)} "
               f"{hurts_sentence(result['leaderboard'], choice)}".rstrip())


def _dev_pairs(dev_file: str | None, dev_task: str | None, data_dir: str | None, dev_split: str) -> tuple:
    """The labelled pairs of ``--dev-file`` or of ``--dev-task`` (exactly one), and the files read."""
    from simsent.data.readers import read_pairs
    from simsent.errors import ConfigError

    if (dev_file is None) == (dev_task is None):
        raise ConfigError("give exactly one of --dev-file FILE or --dev-task TASK (with --data-dir)")
    if dev_file is not None:
        return read_pairs(require_file(dev_file, "--dev-file")), [dev_file]
    from simsent.data.tasks import load_task, resolve_data_dir, task_file

    d = resolve_data_dir(data_dir)
    return load_task(dev_task, dev_split, d), [task_file(d, dev_task, dev_split)]
