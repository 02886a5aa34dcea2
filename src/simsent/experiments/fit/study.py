"""fit: the best sentence encoder for a user's data, chosen honestly (``simsent fit``), one runner.

The labelled data is scored pairs (chosen on Spearman) or FAQ queries with their standard questions in a
corpus (:class:`FaqDev`, chosen on a retrieval metric, MRR@10 by default); a judge
(:mod:`simsent.experiments.fit.judges`) hides the difference. Candidate families x poolings run cheapest
first within a budget; each is scored with and without whitening, and merged with the start model, on a
selection part; the winner is reported on a held-out report part and saved with its leaderboard and
model card.

Example:
    >>> run_fit(FitConfig(model="m", output="runs/best"), sentences, labelled_pairs)  # doctest: +SKIP
    >>> run_fit(FitConfig(model="m", output="runs/faq"), [], FaqDev(query_rows, faq_base))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from simsent.errors import ConfigError
from simsent.experiments.cells import nan_low
from simsent.experiments.fit.candidate import Candidate
from simsent.experiments.fit.config import FitConfig
from simsent.experiments.fit.judges import PairJudge, RetrievalJudge
from simsent.experiments.runner import PlannedCell, load_state, measure_costs
from simsent.experiments.study import StudyPlan, run_study

FIT_IDS = ("family", "pooling")
FIT_WORK = "fit-runs"
DEFAULT_FIT_POOLINGS = ("cls", "first_last_avg", "mean")


def _fit_poolings(cfg: FitConfig) -> list[str]:
    """The poolings to try, the start model's own first: ``cfg.poolings``, else the pooling the model's
    folder declares (a sentence-transformers or simsent folder), else cls, first_last_avg and mean."""
    from simsent.modeling.pooling import check_pooling
    from simsent.modeling.sentence_encoder import SentenceEncoder

    own = declared_pooling(cfg.model)
    poolings = list(cfg.poolings or ([own] if own else DEFAULT_FIT_POOLINGS))
    for p in poolings:
        check_pooling(p)
    if own in poolings:
        poolings.remove(own)
        poolings.insert(0, own)
    if (
        "pooler" in poolings
        and not SentenceEncoder.from_pretrained(cfg.model, pooling="cls").encoder.has_pooler()
    ):
        raise ConfigError(
            "pooling 'pooler' needs a model with a dense+tanh pooler; leave it out of --poolings"
        )
    return poolings


def declared_pooling(model: str) -> str | None:
    """The pooling a local model folder declares (sentence-transformers ``modules.json`` or simsent's
    config), or None (a plain Hugging Face folder or a hub id: nothing to go by)."""
    from simsent.modeling.builtin import builtin_path
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.modeling.st_format import SIMSENT_CONFIG

    model = builtin_path(model)
    if not any(os.path.isfile(os.path.join(model, f)) for f in ("modules.json", SIMSENT_CONFIG)):
        return None
    return SentenceEncoder.from_pretrained(model, backend="torch").pooling.mode


@dataclass
class FaqDev:
    """fit's labelled data for FAQ retrieval: query rows (each with its positives) and the corpus they are
    searched in (every positive in it), as :func:`simsent.data.retrieval.faq_rows` returns them."""

    rows: list[Any]
    corpus: list[str]
    #: what was merged, dropped, skipped or added on the way (shown as notes)
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Sequence[Any], corpus: Sequence[str] | None = None,
           source: str = "--dev-file") -> FaqDev:
        """Merge duplicate queries, drop what cannot be used (counted and logged), add missing positives."""
        from simsent.data.retrieval import faq_rows

        kept, texts, counts = faq_rows(rows, corpus, source)
        return cls(kept, texts, counts)


def run_fit(cfg: FitConfig, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """:func:`fit_in_folder` with ``cfg.output`` locked: a second fit into it is refused at once."""
    from simsent._io import folder_lock

    with folder_lock(cfg.output, "fit"):
        return fit_in_folder(cfg, *args, **kwargs)


def fit_in_folder(
    cfg: FitConfig,
    texts: Sequence[str],
    pairs: Sequence[dict[str, Any]] | FaqDev,
    argv: str | None = None,
    echo: Callable[[str], None] = print,
    data_files: Sequence[str] = (),
    audit_pairs: Sequence[Any] = (),
) -> dict[str, Any]:
    """Choose the best sentence encoder for ``pairs`` (scored pairs, or a :class:`FaqDev`) honestly and save
    it in ``cfg.output``.

    Candidate families (:data:`~simsent.experiments.config.FIT_RECIPES`) x poolings run through the
    one cell runner, cheapest first, within ``cfg.max_minutes``; every family is scored with and without
    whitening on the selection part; the winner (:func:`simsent.experiments.choice.choose`) is reported on
    the report part and saved as a sentence-transformers folder with ``leaderboard.md/.csv/.json``,
    ``leaderboard.png`` and a model card. ``audit_pairs`` (a benchmark's pairs or query rows disjoint from
    the dev data) are scored for every candidate, as ``audit`` in its leaderboard row, never to choose.

    Example:
        >>> run_fit(FitConfig(model="m", output="runs/best"), sentences, labelled_pairs)  # doctest: +SKIP
    """
    import time

    started = time.perf_counter()  # the budget counts from here: timing the model is part of it
    cfg = _resolved(cfg, pairs)
    poolings = _check_fit(cfg)
    data = _fit_data(cfg, texts, pairs)
    data.splits.audit = _audit_part(pairs, audit_pairs)
    for n in data.notes:
        echo(f"note: {n}")
    echo(f"{len(data.texts)} unlabelled sentences; labelled {data.splits.items}: {data.splits.describe()}")
    work = os.path.join(cfg.output, FIT_WORK)
    dev = [*pairs.rows, *pairs.corpus] if isinstance(pairs, FaqDev) else list(pairs)
    key = cfg.cell_key(_data_hash(data.texts, [*dev, *data.splits.audit]))
    done = load_state(work, key)
    keeper = _BestKeeper(os.path.join(work, "best"), done)
    outcome = run_study(
        lambda done_ids: _plan(cfg, data, poolings, done_ids, keeper),
        work,
        key,
        FIT_IDS,
        echo=echo,
        max_minutes=cfg.max_minutes,
        describe=_describe,
        started=started,
    )
    for c in outcome.skipped:
        data.notes.append(f"{c.label}: not run, over the time budget (estimated {c.seconds / 60:.1f} min)")
    board = _leaderboard(outcome)
    winner, sureness = _choose(cfg, board, data, poolings[0])
    if sureness.get("kept_start"):
        _save_start(cfg, winner)
    elif _refits(cfg, winner.family, data):
        winner.refit = _refit(cfg, winner, data, os.path.join(work, "refit"), echo)
    else:
        _place_winner(cfg.output, keeper.folder)
    return _write_results(cfg, board, winner, sureness, data, poolings, outcome, argv, data_files)


def _resolved(cfg: FitConfig, dev: Any) -> Any:
    """``cfg`` with the metric and the recipes the data implies: Spearman and the pair recipes for scored
    pairs, ``--metric`` (default MRR@10) and the retrieval recipes for FAQ queries."""
    import dataclasses

    from simsent.experiments.choice import check_rule
    from simsent.experiments.fit.config import PAIR_FIT_RECIPES, RETRIEVAL_FIT_RECIPES
    from simsent.experiments.fit.judges import check_metric

    check_rule(cfg.choice_rule)
    faq = isinstance(dev, FaqDev)
    metric = check_metric(cfg.metric or ("mrr@10" if faq else "spearman"))
    if not faq and metric != "spearman":
        raise ConfigError(f"--metric {metric} needs queries: give a queries dev file (query<TAB>positive or "
                          'JSONL {"query", "pos"}) and --corpus, or leave --metric out to choose on Spearman')
    if faq and metric == "spearman":
        raise ConfigError("--metric spearman scores pairs; FAQ queries are chosen on recall@1/5/10, mrr@10 "
                          "or ndcg@10")
    recipes = list(cfg.recipes or (RETRIEVAL_FIT_RECIPES if faq else PAIR_FIT_RECIPES))
    return dataclasses.replace(cfg, metric=metric, recipes=recipes)


def _check_fit(cfg: FitConfig) -> list[str]:
    """Refuse unknown recipes, a ``reranker_model`` no recipe uses and an output folder that is not fit's
    own; the poolings to try."""
    from simsent.experiments.fit.config import FIT_RECIPES, FitRecipe

    unknown = [r for r in cfg.recipes if r not in FIT_RECIPES]
    if unknown or not cfg.recipes:
        raise ConfigError(
            f"unknown fit recipe {', '.join(unknown) or '(none given)'}; choose from {', '.join(FIT_RECIPES)}"
        )
    if cfg.reranker_model and not any(FitRecipe.named(r).trains_reranker for r in cfg.recipes):
        raise ConfigError("--reranker-model starts the reranker of the rerank and augsbert candidates; "
                          f"neither is in --recipes ({', '.join(cfg.recipes)})")
    if (
        os.path.isdir(cfg.output)
        and os.listdir(cfg.output)
        and not os.path.isdir(os.path.join(cfg.output, FIT_WORK))
    ):
        raise ConfigError(
            f"--output {cfg.output} is a folder with other files; give a new folder (or a fit folder)"
        )
    return _fit_poolings(cfg)


def _audit_part(dev: Any, audit: Sequence[Any]) -> list[Any]:
    """The audit items as given (scored like the report part); refused when one is also a dev item (fit
    would have seen it), or, for queries, when a positive is not in the corpus."""
    if isinstance(dev, FaqDev):
        seen = {r.query for r in dev.rows}
        shared = sum(r.query in seen for r in audit)
        corpus = set(dev.corpus)
        missing = sum(p not in corpus for r in audit for p in r.positives)
        if missing:
            raise ConfigError(f"{missing} positives of the audit queries are not in the corpus")
    else:
        seen = {(r["sentence1"], r["sentence2"]) for r in dev}
        shared = sum((r["sentence1"], r["sentence2"]) in seen for r in audit)
    if shared:
        what = "queries" if isinstance(dev, FaqDev) else "pairs"
        raise ConfigError(f"{shared} audit {what} are also dev {what}; audit {what} must be ones fit never "
                          "sees")
    return list(audit)


@dataclass
class _FitData:
    """The unlabelled texts, the splits of the labelled items, the judge, the recipes left, the notes."""

    texts: list[str]
    splits: Any
    recipes: list[str]
    notes: list[str]
    judge: Any


def _fit_data(cfg: FitConfig, texts: Sequence[str], dev: Any) -> _FitData:
    """Distinct unlabelled texts (a seeded subset; for FAQ queries without them, the corpus), the train /
    selection / report splits, the judge, and notes on what the data allows and how to read the result."""
    from simsent.data.sampling import seeded_subset

    texts = seeded_subset(list(dict.fromkeys(t for t in texts if t.strip())), cfg.max_train_samples, cfg.seed)
    data = _faq_data(cfg, texts, dev) if isinstance(dev, FaqDev) else _pair_data(cfg, texts, dev)
    if len(data.texts) < 2:
        raise ConfigError("fit needs at least 2 distinct unlabelled training sentences (--train-file)")
    _leave_out(cfg, data)
    if len(data.splits.report) < 200:
        data.notes.append(
            f"small report part ({len(data.splits.report)} {data.splits.items}): read the winner's score "
            "with its 95% bootstrap interval"
        )
    return data


def _pair_data(cfg: FitConfig, texts: list[str], pairs: Sequence[dict[str, Any]]) -> _FitData:
    from simsent.experiments.protocol import fit_splits

    splits = fit_splits(list(pairs), cfg.seed, cfg.report_fraction, cfg.min_supervised_pairs, cfg.folds)
    data = _FitData(texts, splits, list(cfg.recipes), [], PairJudge(batch_size=cfg.encode_batch_size))
    dev_sentences = {s for r in splits.selection + splits.report for s in (r["sentence1"], r["sentence2"])}
    overlap = sum(t in dev_sentences for t in texts)
    if overlap:
        data.notes.append(
            f"{overlap} of the {len(texts)} unlabelled training sentences also occur in the dev pairs "
            "(their labels are never used for training)"
        )
    return data


def _faq_data(cfg: FitConfig, texts: list[str], dev: FaqDev) -> _FitData:
    from simsent.experiments.protocol import query_splits

    splits = query_splits(dev.rows, cfg.seed, cfg.report_fraction, cfg.min_supervised_pairs)
    judge = RetrievalJudge(dev.corpus, cfg.metric, batch_size=cfg.encode_batch_size,
                           margin=cfg.hard_negative_margin)
    notes = [f"{len(dev.rows)} queries searched in a corpus of {len(dev.corpus)} texts; chosen on "
             f"{judge.label}; a query never finds its own text"]
    notes += [f"{n} {what}" for what, n in dev.counts.items() if n]
    if cfg.folds > 1:
        notes.append(f"--folds {cfg.folds} ignored: queries are chosen on one selection part")
        splits.folds = 1
    return _FitData(texts or judge.corpus, splits, list(cfg.recipes), notes, judge)


def _leave_out(cfg: FitConfig, data: _FitData) -> None:
    """Drop the recipes the data cannot train, each with a note saying why."""
    from simsent.experiments.fit.config import FitRecipe

    splits, items = data.splits, data.splits.items
    why: dict[str, str] = {}
    for r in data.recipes:
        recipe = FitRecipe.named(r)
        if recipe.supervised and not splits.train:
            why[r] = (f"{len(splits.selection) + len(splits.report)} labelled {items}, fewer than "
                      f"--min-supervised-pairs {cfg.min_supervised_pairs} needed to split off a training "
                      "part")
        elif recipe.reranks and items == "pairs":
            why[r] = "it re-orders a search's hits: give a queries dev file and --corpus"
        elif recipe.trains_on == "queries" and items == "pairs":
            why[r] = "it trains on (query, positive) rows: give a queries dev file and --corpus"
        elif recipe.trains_on == "pairs" and items == "queries" and not recipe.silver and not any(
                q.negatives for q in splits.train):
            why[r] = "it needs scored pairs, and no training query has a negative (a score column or neg)"
    if why:
        data.recipes = [r for r in data.recipes if r not in why]
        data.notes += [f"{r} not tried: {reason}" for r, reason in why.items()]


def _data_hash(texts: Sequence[str], pairs: Sequence[dict[str, Any]]) -> str:
    import hashlib

    blob = json.dumps([list(texts), list(pairs)], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class _BestKeeper:
    """Keeps the best candidate's saved model in ``folder`` (replaced only by a better selection score)."""

    def __init__(self, folder: str, done: list[dict[str, Any]]) -> None:
        self.folder = folder
        self.score = max(
            (r["selection"] for c in done for r in c["rows"] if not math.isnan(r["selection"])),
            default=-math.inf,
        )

    def __call__(self, score: float, save: Callable[[str], None]) -> bool:
        import shutil

        from simsent._io import replace_dir

        if score <= self.score:
            return False
        tmp = self.folder + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        save(tmp)
        replace_dir(tmp, self.folder)
        self.score = score
        return True


def _plan(
    cfg: FitConfig,
    data: _FitData,
    poolings: list[str],
    done_ids: set[tuple],
    keeper: _BestKeeper,
) -> StudyPlan:
    """A cell per (family, pooling), cheapest first, each with its estimated seconds."""
    from simsent.experiments.fit.cells import run_fit_family
    from simsent.experiments.fit.config import FitRecipe
    from simsent.experiments.fit.reranking import run_rerank_family

    # a second stage runs once (its first stage brings its own pooling), after every bi-encoder family
    last = {f for f in data.recipes if FitRecipe.named(f).reranks}
    family_ids = [(f, p) for f in data.recipes for p in (poolings[:1] if f in last else poolings)]
    costs = None
    if any(fp not in done_ids for fp in family_ids):  # time the model only when a candidate is left to run
        costs = measure_costs(
            cfg.model, data.texts, 64, 3e-5, cfg.encode_batch_size, pooling=poolings[0], max_len=cfg.max_len
        )
    plan = [
        PlannedCell(
            (f, p),
            f"{f} / {p}",
            (lambda p=p: run_rerank_family(cfg, p, data.splits, keeper, data.judge)) if f in last else
            (lambda f=f, p=p: run_fit_family(cfg, f, p, data.texts, data.splits, keeper, data.judge)),
            _estimate(cfg, costs, f, data),
            kind=f,
        )
        for f, p in family_ids
    ]
    plan.sort(key=lambda c: (c.id[0] in last, c.seconds, data.recipes.index(c.id[0])))
    todo = [c for c in plan if c.id not in done_ids]
    if costs is None:
        return StudyPlan(plan)
    budget = (
        f" (budget {cfg.max_minutes:.3g} min: cheapest first, the rest left out)" if cfg.max_minutes else ""
    )
    return StudyPlan(
        plan,
        f"{len(plan)} candidate families ({', '.join(data.recipes)} x {', '.join(poolings)}), "
        f"{len(plan) - len(todo)} already done; estimated {sum(c.seconds for c in todo) / 60:.1f} min"
        f"{budget}{_refit_phrase(cfg, data)} ({costs.describe(64)})",
    )


def _refit_phrase(cfg: FitConfig, data: _FitData) -> str:
    """What ``--refit`` adds to the estimate: one more training of a supervised winner, after the budget."""
    if not any(_refits(cfg, r, data) for r in data.recipes):
        return ""
    return ", plus one retraining if a supervised candidate wins (--refit)"


def _estimate(cfg: FitConfig, costs: Any, family: str, data: _FitData) -> float:
    """Seconds a candidate family should take: its encodes and training steps at the measured costs."""
    from simsent.experiments.cells import balanced_batch_size
    from simsent.experiments.fit.cells import fit_epochs
    from simsent.experiments.fit.config import FitRecipe

    if costs is None:
        return 0.0
    recipe = FitRecipe.named(family)
    splits = data.splits
    n_dev = data.judge.encoded_texts([splits.selection, splits.report, splits.audit])
    # cross-fitted: k copies on (k-1)/k of the pairs, then one on all of them: k times the steps, and
    # k + 1 encodes of the text for whitening
    cross = recipe.supervised and data.splits.cross_fitted
    folds = data.splits.folds if cross else 1
    steps = 0
    if recipe.trains and not recipe.reranks:  # a second stage trains a reranker only (counted below)
        rows = _training_rows(recipe, data) + (cfg.silver_pairs if recipe.silver else 0)
        steps = fit_epochs(recipe, rows) * max(1, rows // balanced_batch_size(rows, recipe.batch_size))
        steps = int(steps * recipe.batch_size / 64 * folds) or 1
    copies = folds + 1 if cross else 1
    merges = len([a for a in cfg.merge_weights if 0 < a < 1]) if recipe.trains and not cross else 0
    # mining (and silver pairs' neighbours) encode the corpus, or the unlabelled text
    mined = getattr(data.judge, "corpus", data.texts)
    mining = len(mined) if recipe.hard_negatives or recipe.silver else 0
    if recipe.trains_reranker:  # a cross-encoder's step and pair read about twice a sentence's
        steps += 2 * _reranker_steps(data)
    queries = len(splits.selection) + len(splits.report) + len(splits.audit)
    scored = 2 * cfg.rerank_top * queries if recipe.reranks else 0
    silver = 4 * cfg.silver_pairs if recipe.silver else 0
    return costs.seconds(encoded=(1 + merges) * n_dev + copies * len(data.texts) + mining + scored + silver,
                         steps=steps)


def _reranker_steps(data: _FitData) -> int:
    """Training steps of fit's reranker (its recipe) in 64-sentence steps, from its unmined rows."""
    from simsent.experiments.fit.config import FitRecipe

    recipe = FitRecipe.named("rerank")
    rows = len(data.splits.train)
    return int(recipe.epochs * max(1, rows // recipe.batch_size) * recipe.batch_size / 64) or 1


def _training_rows(recipe: Any, data: _FitData) -> int:
    """How many rows a recipe trains on: unlabelled texts, or the judge's rows of the training part (as
    many with mined negatives as without: nothing is mined for an estimate)."""
    import dataclasses

    if not recipe.supervised:
        return len(data.texts)
    unmined = dataclasses.replace(recipe, hard_negatives=False)
    return len(data.judge.training_rows(unmined, data.splits.train, None))


def _describe(cell: dict[str, Any]) -> str:
    top = max(cell["rows"], key=lambda r: nan_low(r["selection"]))
    return f"{cell['family']} / {cell['pooling']}: best {top['recipe']} selection {top['selection']:.2f}"


def _leaderboard(outcome: Any) -> list[Candidate]:
    """Every scored variant of the finished cells, best selection score first."""
    board = [
        Candidate.from_dict({**r, "seconds": c["seconds"], "train_steps": c["train_steps"]})
        for c in outcome.cells
        for r in c["rows"]
    ]
    board.sort(key=lambda r: -nan_low(r.selection))
    if not board:
        raise ConfigError("the time budget ran out before any candidate finished; raise --max-minutes")
    return board


def _choose(cfg: FitConfig, board: list[Candidate], data: _FitData, start_pooling: str) -> tuple:
    """The winner and how sure the choice is (:func:`simsent.experiments.choice.choose`): the best
    selection score, unless it is not surely better than the start model (raw, its own pooling)."""
    import numpy as np

    from simsent.experiments.choice import choose

    evidence = [np.asarray(r.selection_items or [], dtype=np.float64) for r in board]
    for r in board:
        r.selection_items = None  # the chooser's evidence, not the leaderboard's
    start = next(
        (i for i, r in enumerate(board)
         if r.family == "raw" and r.whiten_dim is None and r.pooling == start_pooling),
        None,
    )
    if start is None or any(len(c) != len(data.splits.selection) for c in evidence):
        data.notes.append("the start model (raw) was not scored: the best selection score wins unchecked")
        return board[0], {}
    statistic = data.judge.statistic(data.splits.selection)
    index, sureness = choose(board, start, evidence, statistic, cfg.confidence, cfg.seed, cfg.choice_rule)
    for r, share in zip(board, sureness.pop("beats_start"), strict=True):
        r.beats_start = share
    sureness.update(item_word=data.splits.items, metric_label=data.judge.label)
    return board[index], sureness


def _refits(cfg: FitConfig, family: str, data: _FitData) -> bool:
    """Whether a winner of ``family`` is retrained on the train and selection pairs before it is saved
    (``--refit``: a supervised winner of a split that was not cross-fitted, which trained on both)."""
    from simsent.experiments.fit.config import FitRecipe

    recipe = FitRecipe.named(family)
    return cfg.refit and recipe.supervised and not recipe.reranks and not data.splits.cross_fitted


def _refit(
    cfg: FitConfig, winner: Candidate, data: _FitData, folder: str, echo: Callable[[str], None]
) -> dict[str, Any]:
    """Retrain the winner on every non-report pair, save it as fit's result; its held-out scores."""
    from simsent.experiments.fit.cells import refit_winner

    n = len(data.splits.train) + len(data.splits.selection)
    echo(f"refit: {winner.recipe} / {winner.pooling} once more on {n} {data.splits.items} "
         "(train + selection)")
    done = refit_winner(cfg, winner, data.texts, data.splits, folder, data.judge)
    _place_winner(cfg.output, folder)
    echo(f"refit: report {done['report']:.2f} (was {winner.report:.2f} trained on "
         f"{len(data.splits.train)} {data.splits.items}; {done['seconds']:.0f} s)")
    return done


def _save_start(cfg: FitConfig, winner: Candidate) -> None:
    """Save the start model (raw, the winner's pooling) as fit's result, replacing the best candidate's."""
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(cfg.model, pooling=winner.pooling, max_len=cfg.max_len)
    model.extra_config["fit"] = {"recipe": winner.recipe, "pooling": winner.pooling, "seed": cfg.seed}
    folder = os.path.join(cfg.output, FIT_WORK, "start")
    model.save(folder)
    _place_winner(cfg.output, folder)


def _place_winner(output: str, model_dir: str) -> None:
    """Copy the winner's files from ``model_dir`` into ``output`` (the folder is fit's own), replacing
    what was there; ``model_dir`` stays (a later run may choose differently, e.g. with another
    ``--confidence``)."""
    import shutil

    if not os.path.isdir(model_dir):
        raise ConfigError(f"the winner's saved model is missing from {model_dir}; rerun with a new --output")
    for name in os.listdir(output):
        old = os.path.join(output, name)
        if name == FIT_WORK:
            continue
        if os.path.isdir(old):
            shutil.rmtree(old)
        else:
            os.remove(old)
    for name in os.listdir(model_dir):
        src = os.path.join(model_dir, name)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(output, name))
        else:
            shutil.copy2(src, os.path.join(output, name))


def _write_results(
    cfg: FitConfig,
    board: list[Candidate],
    winner: Candidate,
    sureness: dict[str, Any],
    data: _FitData,
    poolings: list[str],
    outcome: Any,
    argv: str | None,
    data_files: Sequence[str],
) -> dict[str, Any]:
    """leaderboard.md/.csv/.json/.png and the model card beside the winner; returns the result."""
    from simsent._io import write_text
    from simsent.experiments.choice import choice_sentence
    from simsent.experiments.fit.card import fit_card
    from simsent.experiments.fit.report import leaderboard_csv_rows, leaderboard_markdown
    from simsent.experiments.plots import plot_leaderboard
    from simsent.experiments.provenance import provenance
    from simsent.experiments.report import write_result_files

    splits = data.splits
    config = cfg.to_dict()
    config.update(
        {
            "poolings_used": poolings,
            "recipes_used": data.recipes,
            "notes": data.notes,
            "split_sizes": {
                "train": len(splits.train),
                "selection": len(splits.selection),
                "report": len(splits.report),
                "folds": splits.folds,
                "description": splits.describe(),
            },
            "unlabelled_sentences": len(data.texts),
            "choice": sureness,
            "items": splits.items,
            "metric_label": data.judge.label,
            "corpus_size": len(getattr(data.judge, "corpus", ())),
        }
    )
    prov = provenance(argv or "simsent fit", config, data_files, argv=argv)
    prov.update({"run_seconds": outcome.seconds, "cells_run": outcome.ran, "cells_resumed": outcome.resumed})
    chart = plot_leaderboard(board, os.path.join(cfg.output, "leaderboard.png"), label=data.judge.label)
    md = leaderboard_markdown(board, winner, prov)
    rows = [r.to_dict() for r in board]
    winner_row = rows[board.index(winner)]
    written = write_result_files(
        cfg.output,
        "leaderboard",
        md,
        leaderboard_csv_rows(board),
        prov,
        {"winner": winner_row, "leaderboard": rows},
    )
    how_sure = choice_sentence(board, sureness)
    write_text(os.path.join(cfg.output, "README.md"), fit_card(winner, board, prov, how_sure))
    return {
        "winner": winner_row,
        "leaderboard": rows,
        "board": board,  # the same rows, typed (Candidate)
        "markdown": md,
        "files": [*written, chart],
        "notes": data.notes,
        "provenance": prov,
    }
