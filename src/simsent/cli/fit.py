"""``simsent fit``: the best sentence encoder for your own data, chosen honestly.

Example:
    $ simsent fit --model bert-base-chinese --train-file my_queries.txt --dev-file my_pairs.tsv \\
        --output runs/best --max-minutes 30
    $ simsent fit --model e5-small-ml-zh --dev-file faq_queries.tsv --corpus faq.txt --output runs/faq
"""

from __future__ import annotations

import typer

from simsent.cli.common import invoked_as, output_dir, require_file, split_ints, split_list
from simsent.cli.options import settings_command
from simsent.experiments.fit.config import (
    FIT_RECIPES,
    PAIR_FIT_RECIPES,
    RETRIEVAL_FIT_RECIPES,
    FitConfig,
)
from simsent.experiments.fit.judges import METRICS

_TRAIN_FILE = typer.Option(
    None,
    "--train-file",
    "-t",
    help="Unlabelled in-domain text (.txt one a line, or any pair/table file). With FAQ queries it is "
    "optional (default: the corpus).",
)
_DEV_FILE = typer.Option(
    None, help="Labelled data to choose and report on: scored pairs (text_a, text_b, score), or FAQ "
    'queries (query<TAB>positive lines, or JSONL {"query", "pos", "neg"}), chosen by its shape.'
)
_CORPUS = typer.Option(
    None, help="FAQ base the queries are searched in (one text a line, or .jsonl/.csv with id and text). "
    "Default: every distinct text of the queries file. Makes scored pairs count as queries."
)
_METRIC = typer.Option(
    None, help=f"What chooses: {', '.join(METRICS)} (default: spearman on pairs, mrr@10 on queries)."
)
_DEV_TASK = typer.Option(
    None, help="Or a task's labelled pairs (ATEC, BQ, LCQMC, PAWSX, STS-B)."
)
_DATA_DIR = typer.Option(
    None, help="Folder with TASK/TASK.split.data (or $SIMSENT_DATA_DIR)."
)
_POOLINGS = typer.Option(
    None,
    help="Poolings to try (default: the model folder's own pooling; for a plain Hugging Face model "
    "cls, first_last_avg, mean).",
)
_RECIPES = typer.Option(
    None,
    help=f"Candidate families: {', '.join(FIT_RECIPES)} (default: {','.join(PAIR_FIT_RECIPES)} on "
    f"pairs, {','.join(RETRIEVAL_FIT_RECIPES)} on queries).",
)
_MERGE_WEIGHTS = typer.Option(
    ",".join(map(str, FitConfig(model="", output="").merge_weights)),
    help="Every trained candidate is also scored merged with the start model, (1-a)*start + a*tuned, "
    "for each a here ('' for none)."
)


@settings_command(FitConfig)
def fit(
    train_file: str | None = _TRAIN_FILE,
    dev_file: str | None = _DEV_FILE,
    corpus: str | None = _CORPUS,
    metric: str | None = _METRIC,
    dev_task: str | None = _DEV_TASK,
    data_dir: str | None = _DATA_DIR,
    dev_split: str = typer.Option("valid", help="Split of --dev-task."),
    poolings: str | None = _POOLINGS,
    recipes: str | None = _RECIPES,
    merge_weights: str = _MERGE_WEIGHTS,
    whiten_dims: str = typer.Option("all,256,128", help="Whitening dimensions k tried on every candidate."),
    settings: dict | None = None,
) -> None:
    """Try raw vectors, whitening, SimCSE, CoSENT, MNRL (+ hard negatives) and merges with the start model
    over poolings, on scored pairs or FAQ queries; keep the best honestly."""
    from simsent.cli.common import split_floats
    from simsent.experiments.fit.study import run_fit

    settings = settings or {}
    dev, files = _dev_data(dev_file, dev_task, data_dir, dev_split, corpus, metric)
    texts = _unlabelled(train_file, dev, files)
    output = output_dir(settings["output"])
    dims = [None if d == "all" else split_ints(d, "--whiten-dims")[0] for d in split_list(whiten_dims)]
    lists = {"poolings": split_list(poolings) if poolings else None,
             "recipes": split_list(recipes) if recipes else None,
             "merge_weights": split_floats(merge_weights, "--merge-weights", 0.0, 1.0)}
    sources = {"train_file": train_file, "dev_file": dev_file, "dev_task": dev_task, "dev_split": dev_split,
               "corpus": corpus}
    cfg = FitConfig(**settings, **lists, metric=metric, whiten_dims=dims, sources=sources)
    result = run_fit(cfg, texts, dev, argv=invoked_as(), echo=typer.echo, data_files=files)
    _say_result(result, output)


def _unlabelled(train_file: str | None, dev: object, files: list[str]) -> list[str]:
    """``--train-file``'s texts; without it, none for FAQ queries (fit uses the corpus), else an error."""
    from simsent.cli.common import read_texts
    from simsent.errors import ConfigError
    from simsent.experiments.fit.study import FaqDev

    if train_file is None:
        if isinstance(dev, FaqDev):
            return []
        raise ConfigError("--train-file is required: unlabelled in-domain sentences for SimCSE and whitening")
    files.append(train_file)
    return read_texts(train_file, "--train-file")


def _say_result(result: dict, output: str) -> None:
    """The leaderboard, the winner with its held-out score, and what the choice means."""
    from simsent.experiments.choice import choice_sentence, hurts_sentence

    w = result["winner"]
    lo, hi = w["report_ci"]
    config = result["provenance"]["config"]
    label, items = config.get("metric_label", "Spearman"), config.get("items", "pairs")
    typer.echo(result["markdown"].split("\n![leaderboard]")[0])
    typer.echo(
        f"winner: {w['recipe']} / {w['pooling']}: selection {label} {w['selection']:.2f}, report "
        f"{w['report']:.2f} (95% CI {lo:.2f} – {hi:.2f}); saved to {output}"
    )
    if w.get("refit"):
        r = w["refit"]
        typer.echo(f"saved model: retrained on {r['items']} {items}, report {r['report']:.2f} "
                   f"(95% CI {r['report_ci'][0]:.2f} – {r['report_ci'][1]:.2f})")
    choice = result["provenance"]["config"].get("choice") or {}
    typer.echo(f"what it means: {choice_sentence(result['board'], choice)} "
               f"{hurts_sentence(result['board'], choice)}".rstrip())


def _dev_data(dev_file: str | None, dev_task: str | None, data_dir: str | None, dev_split: str,
              corpus: str | None, metric: str | None) -> tuple:
    """The labelled data of ``--dev-file`` or ``--dev-task`` (exactly one) and the files read: scored
    pairs, or a :class:`~simsent.experiments.fit.study.FaqDev` when the file is queries-shaped, a ``--corpus``
    is given or ``--metric`` is a retrieval metric (scored pairs then give queries and negatives)."""
    from simsent.data.readers import read_pairs
    from simsent.data.retrieval import is_queries_file, queries_from_pairs, read_queries
    from simsent.errors import ConfigError
    from simsent.experiments.fit.judges import check_metric
    from simsent.experiments.fit.study import FaqDev

    if (dev_file is None) == (dev_task is None):
        raise ConfigError("give exactly one of --dev-file FILE or --dev-task TASK (with --data-dir)")
    retrieval = corpus is not None or (metric is not None and check_metric(metric) != "spearman")
    texts = _corpus_texts(corpus) if corpus is not None else None
    files = [corpus] if corpus is not None else []
    if dev_file is not None:
        require_file(dev_file, "--dev-file")
        if not retrieval and not is_queries_file(dev_file):
            return read_pairs(dev_file), [dev_file]
        return FaqDev.of(read_queries(dev_file), texts), [dev_file, *files]
    from simsent.data.tasks import load_task, positive_threshold, resolve_data_dir, task_file

    d = resolve_data_dir(data_dir)
    pairs = load_task(dev_task, dev_split, d)
    files = [task_file(d, dev_task, dev_split), *files]
    if not retrieval:
        return pairs, files
    return FaqDev.of(queries_from_pairs(pairs, positive_threshold(dev_task)), texts, dev_task), files


def _corpus_texts(path: str) -> list[str]:
    """The FAQ base's texts, read as ``index build`` reads a corpus."""
    from simsent.search.corpus import iter_corpus

    return [r["text"] for r in iter_corpus(require_file(path, "--corpus"))]
