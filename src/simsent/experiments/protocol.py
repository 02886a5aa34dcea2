"""What a cell trains on and is scored on: the train text, whitening text and evaluation pairs of a
(task, seed) under a protocol (see :data:`simsent.experiments.config.PROTOCOLS`).

Example:
    >>> data = task_data(cfg, "STS-B", seed=42, data_dir="data/senteval_cn")   # doctest: +SKIP
    >>> set(data.train_texts) & {r["sentence1"] for r in data.eval_rows}      # doctest: +SKIP
    set()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simsent.data.sampling import seeded_halves, seeded_subset
from simsent.errors import ConfigError
from simsent.experiments.config import SeedsAndTasks


@dataclass
class TaskData:
    """Texts and pairs of one (task, seed) under a protocol."""

    task: str
    eval_split: str
    train_texts: list[str]
    whiten_texts: list[str]
    eval_rows: list[dict[str, Any]]
    files: list[str]
    #: labelled pairs a supervised cell may train on (the train split, else the seeded train half);
    #: under the inductive protocol none of them shares a sentence with an evaluated pair
    train_pairs: list[dict[str, Any]] = field(default_factory=list)


def task_data(cfg: SeedsAndTasks | Any, task: str, seed: int, data_dir: str) -> TaskData:
    """Build the train text, whitening text and evaluation pairs of ``task`` for ``seed``.

    ``cfg`` is any config with ``protocol``, ``eval_split``, ``max_train_samples``,
    ``max_whiten_samples`` and ``max_eval_pairs`` (the table's and the sweep's).
    """
    from simsent.data.columns import sentences_of
    from simsent.data.tasks import available_splits, load_task, task_file

    splits = available_splits(data_dir, task)
    eval_split = cfg.eval_split or ("test" if "test" in splits else "valid")
    if eval_split not in splits:
        task_file(data_dir, task, eval_split)  # raises the clear "not found" error
    eval_rows = load_task(task, eval_split, data_dir)
    files = [task_file(data_dir, task, eval_split)]
    train_pairs: list[dict[str, Any]] = []
    if "train" in splits and eval_split != "train":
        train_pairs = load_task(task, "train", data_dir)
    if cfg.protocol == "transductive":
        texts: list[str] = []
        for s in splits:
            texts += sentences_of(eval_rows if s == eval_split else load_task(task, s, data_dir))
            files.append(task_file(data_dir, task, s))
    elif train_pairs:
        texts = sentences_of(train_pairs)
        files.append(task_file(data_dir, task, "train"))
    else:
        train_pairs, eval_rows = seeded_halves(eval_rows, seed)
        texts = sentences_of(train_pairs)
    if cfg.protocol != "transductive":  # inductive: no evaluated sentence is ever trained or fitted on
        texts, train_pairs = without_sentences(texts, train_pairs, sentences_of(eval_rows))
    texts = list(dict.fromkeys(texts))
    if len(texts) < 2:
        raise ConfigError(
            f"{task}: fewer than 2 train sentences under the {cfg.protocol} protocol; add a train "
            "split or use more evaluation pairs"
        )
    train_texts = seeded_subset(texts, cfg.max_train_samples, seed)
    whiten_texts = (
        train_texts if cfg.max_whiten_samples is None else seeded_subset(texts, cfg.max_whiten_samples, seed)
    )
    eval_rows = seeded_subset(eval_rows, cfg.max_eval_pairs, seed)
    return TaskData(task, eval_split, train_texts, whiten_texts, eval_rows, sorted(set(files)), train_pairs)


def without_sentences(
    texts: list[str], pairs: list[dict[str, Any]], banned: list[str]
) -> tuple[list[str], list[dict[str, Any]]]:
    """``texts`` and ``pairs`` minus every sentence / pair that contains a sentence of ``banned``.

    Example:
        >>> without_sentences(["a", "b"], [{"sentence1": "a", "sentence2": "c"}], ["a"])
        (['b'], [])
    """
    seen = set(banned)
    keep_pairs = [p for p in pairs if p["sentence1"] not in seen and p["sentence2"] not in seen]
    return [t for t in texts if t not in seen], keep_pairs


@dataclass
class SweepData:
    """The seeded sentence and labelled-pair orders of one (task, seed) of a sweep.

    A cell of size ``n`` takes the first ``n`` of an order, so the sets are nested: the 100
    sentences of a seed contain its 50. Extra text comes after all of the task's own text.
    """

    task: str
    eval_split: str
    sentences: list[str]
    pairs: list[dict[str, Any]]
    eval_rows: list[dict[str, Any]]
    files: list[str]
    own_sentences: int


def seeded_order(items: list[Any], seed: int) -> list[Any]:
    """``items`` shuffled with ``seed``: every prefix is a seeded random subset of that size.

    Example:
        >>> seeded_order([1, 2, 3, 4], 0)[:2] == seeded_order([1, 2, 3, 4], 0)[:3][:2]
        True
    """
    import random

    out = list(items)
    random.Random(seed).shuffle(out)
    return out


def sweep_data(cfg: Any, task: str, seed: int, data_dir: str, extra_texts: list[str]) -> SweepData:
    """Sentence and pair orders of ``task`` for ``seed`` under ``cfg.protocol`` (see :func:`task_data`).

    Extra text (``--extra-text``) loses every evaluated sentence under the inductive protocol too.
    """
    from simsent.data.columns import sentences_of

    data = task_data(cfg, task, seed, data_dir)
    own = seeded_order(data.train_texts, seed)
    extra = list(dict.fromkeys(extra_texts))
    if cfg.protocol != "transductive":
        extra, _ = without_sentences(extra, [], sentences_of(data.eval_rows))
    mine = set(own)
    extra = seeded_order([t for t in extra if t not in mine], seed)
    return SweepData(
        task,
        data.eval_split,
        own + extra,
        seeded_order(data.train_pairs, seed),
        data.eval_rows,
        data.files,
        len(own),
    )


@dataclass
class FitSplits:
    """fit's labelled pairs, split once by seed: the winner is chosen on ``selection`` and its score
    reported on ``report``, which no candidate sees. Supervised candidates train on ``train`` (may be
    empty). With ``folds`` > 1 (cross-fitting), ``train`` and ``selection`` are the same pairs: a
    supervised candidate is scored on fold f by a copy trained on the other folds (pair i is in fold
    ``i % folds``), then trained on all of them for the report and the saved model; candidates that use
    no labels are scored on every selection pair directly. ``audit`` pairs (a benchmark's, optional) are
    scored for every candidate like the report part and never used for choosing."""

    train: list[dict[str, Any]]
    selection: list[dict[str, Any]]
    report: list[dict[str, Any]]
    folds: int = 1
    audit: list[Any] = field(default_factory=list)
    #: what the items are: labelled ``pairs`` or FAQ ``queries``
    items: str = "pairs"

    @property
    def cross_fitted(self) -> bool:
        return self.folds > 1 and bool(self.train)

    def fold(self, f: int) -> tuple[list[dict[str, Any]], list[int]]:
        """The training pairs of fold ``f`` (every selection pair outside it) and its positions."""
        held = [i for i in range(len(self.selection)) if i % self.folds == f]
        return [r for i, r in enumerate(self.selection) if i % self.folds != f], held

    def describe(self) -> str:
        """The split in one phrase, for the console and the leaderboard."""
        if self.cross_fitted:
            return (f"{len(self.selection)} selection ({self.folds}-fold cross-fitted: a supervised "
                    "candidate is scored on each fold by a copy trained on the others, then trained on all), "
                    f"{len(self.report)} report")
        return (f"{len(self.train)} train (supervised only), {len(self.selection)} selection, "
                f"{len(self.report)} report {self.items}")


def fit_splits(
    pairs: list[dict[str, Any]],
    seed: int,
    report_fraction: float = 0.5,
    min_supervised_pairs: int = 400,
    folds: int = 1,
) -> FitSplits:
    """Split ``pairs`` (deduplicated) into train (40% when there are ``min_supervised_pairs``), selection
    and report parts; with ``folds`` > 1 and a train part, train and selection are merged (cross-fitting).

    Example:
        >>> rows = [{"sentence1": str(i), "sentence2": "x", "score": i % 2} for i in range(10)]
        >>> s = fit_splits(rows, seed=0)
        >>> len(s.train), len(s.selection), len(s.report)
        (0, 5, 5)
        >>> s = fit_splits(rows, seed=0, min_supervised_pairs=10, folds=3)
        >>> len(s.train), len(s.selection), len(s.report), s.cross_fitted
        (7, 7, 3, True)
    """
    from simsent.data.sampling import dedup

    order = seeded_order(dedup(pairs), seed)
    train, rest, n_sel = _three_parts(order, report_fraction, min_supervised_pairs, "pairs")
    if folds > 1 and train:
        pool = train + rest[:n_sel]
        splits = FitSplits(pool, pool, rest[n_sel:], folds)
    else:
        splits = FitSplits(train, rest[:n_sel], rest[n_sel:])
    check_rankable(splits.selection, "selection")
    check_rankable(splits.report, "report")
    return splits


def _three_parts(order: list[Any], report_fraction: float, min_supervised: int, what: str) -> tuple:
    """The train part (40% once there are ``min_supervised`` items), the rest, and the selection size."""
    n_train = int(0.4 * len(order)) if len(order) >= min_supervised else 0
    train, rest = order[:n_train], order[n_train:]
    n_report = int(round(report_fraction * len(rest)))
    n_sel = len(rest) - n_report
    if n_sel < 2 or n_report < 2:
        raise ConfigError(
            f"fit needs at least 4 labelled dev {what} (to choose on some, report on others), "
            f"got {len(order)}"
        )
    return train, rest, n_sel


def query_splits(rows: list[Any], seed: int, report_fraction: float = 0.5,
                 min_supervised_queries: int = 400) -> FitSplits:
    """Split FAQ query rows (:class:`~simsent.data.retrieval.QueryRow`, one per query) like
    :func:`fit_splits` splits pairs: 40% train (with ``min_supervised_queries``), selection and report.

    Example:
        >>> from simsent.data.retrieval import QueryRow
        >>> s = query_splits([QueryRow(str(i), ["x"]) for i in range(10)], seed=0)
        >>> len(s.train), len(s.selection), len(s.report)
        (0, 5, 5)
    """
    order = seeded_order(list(rows), seed)
    train, rest, n_sel = _three_parts(order, report_fraction, min_supervised_queries, "queries")
    return FitSplits(train, rest[:n_sel], rest[n_sel:], items="queries")


def check_rankable(pairs: list[dict[str, Any]], part: str) -> None:
    """Refuse dev pairs on which no candidate can be ranked: one label value, or every pair two equal
    texts (every model scores them 1.0).

    Example:
        >>> check_rankable([{"sentence1": "a", "sentence2": "b", "score": 1}] * 2, "report")
        Traceback (most recent call last):
        ...
        simsent.errors.ConfigError: the dev pairs cannot rank candidates: every label of the report part ...
    """
    labels = {float(r["score"]) for r in pairs}
    if len(labels) < 2:
        raise ConfigError(
            f"the dev pairs cannot rank candidates: every label of the {part} part is "
            f"{next(iter(labels)):g}; give pairs with different labels (--dev-file)"
        )
    if all(r["sentence1"].strip() == r["sentence2"].strip() for r in pairs):
        raise ConfigError(
            f"the dev pairs cannot rank candidates: in the {part} part both texts of every pair are the "
            "same; give pairs of different texts (--dev-file)"
        )
