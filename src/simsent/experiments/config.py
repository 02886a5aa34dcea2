"""Settings of the seed table (``bench table``) and the sweep (``sweep``), and the protocols they know.

Example:
    >>> cfg = TableConfig(model="bert-base-chinese", output="results/x", tasks="STS-B", seeds=1)
    >>> cfg.seed_list
    [42]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from simsent._constants import DEFAULT_MAX_LEN

PROTOCOLS = {
    "inductive": "SimCSE and whitening use only separate train text (the task's train split, else a seeded "
    "half of the evaluation pairs, text only, minus sentences of the evaluated half); "
    "evaluated pairs are never seen",
    "transductive": "SimCSE and whitening use the text (no labels) of all available splits of the task, "
    "the evaluated pairs included, as in the published experiment",
}


def _task_list(tasks: str | list[str]) -> list[str]:
    from simsent.data.tasks import check_task, parse_tasks

    return parse_tasks(tasks) if isinstance(tasks, str) else [check_task(t) for t in tasks]


def command_of(words: list[str], cfg: Any, flags: dict[str, str | None] | None = None) -> str:
    """An equivalent shell command for the dataclass ``cfg``: ``words``, then ``--field-name value`` for
    every field that differs from its default (lists joined by commas), derived from the fields so that no
    flag is spelled twice. ``flags`` renames a field's flag, or (``None``) leaves the field out.

    Example:
        >>> command_of(["simsent", "sweep"], SweepConfig(model="m", output="a b", sizes=[50, 100]))
        "simsent sweep --model m --output 'a b' --sizes 50,100"
    """
    flags = flags or {}
    parts = list(words)
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING
            )
        )
        flag = flags.get(f.name, "--" + f.name.replace("_", "-"))
        if flag is None or value is None or value == default:
            continue
        parts += [flag, ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)]
    return shlex.join(parts)


def settings_hash(settings: dict[str, Any], skip: Iterable[str] = ()) -> str:
    """A short hash of ``settings`` without the keys in ``skip``: the identity of a study's cells.

    Example:
        >>> settings_hash({"lr": 1e-5, "output": "a"}, skip=["output"]) == settings_hash({"lr": 1e-5})
        True
    """
    skip = set(skip)
    keep = {k: v for k, v in settings.items() if k not in skip}
    return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:16]


class SeedsAndTasks:
    """What a seeded study over tasks shares: ``seed_list``, ``task_list`` and the recorded settings."""

    seeds: int
    seed_base: int
    tasks: str | list[str]
    protocol: str

    @property
    def seed_list(self) -> list[int]:
        return [self.seed_base + i for i in range(self.seeds)]

    @property
    def task_list(self) -> list[str]:
        return _task_list(self.tasks)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["tasks"] = self.task_list
        d["seed_list"] = self.seed_list
        d["protocol_description"] = PROTOCOLS.get(self.protocol, "")
        return d


@dataclass
class TableConfig(SeedsAndTasks):
    """Settings of one seed-table run (the CLI flags of ``simsent bench table``)."""

    model: str
    output: str
    poolings: list[str] = field(default_factory=lambda: ["cls", "pooler", "first_last_avg", "last_avg"])
    tasks: str | list[str] = "ATEC,BQ,LCQMC,PAWSX,STS-B"
    seeds: int = 3
    seed_base: int = 42
    data_dir: str | None = None
    protocol: str = "inductive"
    batch_size: int = 64
    lr: float = 1e-5
    dropout: float = 0.3
    epochs: int = 1
    temperature: float = 0.05
    simcse_variant: str = "paper"
    max_len: int = DEFAULT_MAX_LEN
    max_train_samples: int | None = 10000
    max_whiten_samples: int | None = None
    max_eval_pairs: int | None = None
    whiten_dim: int | None = None
    eval_split: str | None = None
    tfidf_ngram_range: tuple[int, int] = (1, 3)
    encode_batch_size: int = 64
    #: time budget in minutes: cells that would overrun it are not started (a rerun resumes)
    max_minutes: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["tfidf_ngram_range"] = list(self.tfidf_ngram_range)
        return d

    def cell_key(self) -> str:
        """Hash of the settings that change a cell's numbers (not the list of poolings/tasks/seeds)."""
        skip = (
            "output",
            "poolings",
            "tasks",
            "seeds",
            "seed_base",
            "seed_list",
            "data_dir",
            "encode_batch_size",
            "protocol_description",
            "max_minutes",
        )
        return settings_hash(self.to_dict(), skip)

    def command_line(self) -> str:
        """An equivalent ``simsent bench table`` command."""
        return command_of(
            ["simsent", "bench", "table"], self, {"tfidf_ngram_range": None, "encode_batch_size": None}
        )


#: objectives a sweep can train: unsupervised SimCSE on sentences, the rest on labelled pairs
SWEEP_OBJECTIVES = ("simcse", "cosent", "angle", "sbert_softmax", "supervised_simcse")
SUPERVISED = ("cosent", "angle", "sbert_softmax", "supervised_simcse")
#: objectives that train on fit's labelled training pairs (the rest on the unlabelled text)
PAIR_OBJECTIVES = ("cosent", "angle")


@dataclass
class SweepConfig(SeedsAndTasks):
    """Settings of ``simsent sweep``: Spearman over a grid of training sizes x epochs x seeds.

    Example:
        >>> cfg = SweepConfig(model="m", output="o", sizes=[50, 100], epochs=[1, 5], seeds=2)
        >>> len(cfg.grid("STS-B"))
        8
    """

    model: str
    output: str
    tasks: str | list[str] = "STS-B"
    data_dir: str | None = None
    sizes: list[int] = field(default_factory=lambda: [50, 100, 200, 400, 800])
    epochs: list[int] = field(default_factory=lambda: [1])
    #: epochs of the supervised objectives (default: ``epochs``)
    supervised_epochs: list[int] | None = None
    objectives: list[str] = field(default_factory=lambda: ["simcse"])
    seeds: int = 3
    seed_base: int = 42
    protocol: str = "inductive"
    pooling: str | None = None
    batch_size: int = 64
    lr: float = 3e-5
    dropout: float | None = None
    temperature: float = 0.05
    simcse_variant: str = "paper"
    max_len: int = DEFAULT_MAX_LEN
    eval_split: str | None = None
    max_eval_pairs: int | None = None
    #: files of extra unlabelled text, used only after the task's own text runs out
    extra_text: list[str] = field(default_factory=list)
    encode_batch_size: int = 64
    max_minutes: float | None = None
    #: the table's protocol code reads these; a sweep samples its own sizes
    max_train_samples: None = None
    max_whiten_samples: None = None

    def epochs_of(self, objective: str) -> list[int]:
        if objective in SUPERVISED and self.supervised_epochs:
            return list(self.supervised_epochs)
        return list(self.epochs)

    def grid(self, task: str) -> list[tuple[str, str, int, int, int]]:
        """Every ``(task, objective, size, epochs, seed)`` cell of one task."""
        return [
            (task, o, n, e, s)
            for o in self.objectives
            for n in self.sizes
            for e in self.epochs_of(o)
            for s in self.seed_list
        ]

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        for k in ("max_train_samples", "max_whiten_samples"):
            d.pop(k)
        return d

    def cell_key(self) -> str:
        """Hash of the settings that change a cell's numbers (not the grid, the budget or the output)."""
        skip = {
            "output",
            "tasks",
            "sizes",
            "epochs",
            "supervised_epochs",
            "objectives",
            "seeds",
            "seed_base",
            "seed_list",
            "data_dir",
            "encode_batch_size",
            "max_minutes",
            "protocol_description",
        }
        return settings_hash(self.to_dict(), skip)

    def command_line(self) -> str:
        """An equivalent ``simsent sweep`` command (each ``--extra-text`` file after it)."""
        flags = {
            "tasks": "--task",
            "objectives": "--objective",
            "extra_text": None,
            "encode_batch_size": None,
        }
        command = command_of(["simsent", "sweep"], self, flags)
        return " ".join([command, *(shlex.join(["--extra-text", path]) for path in self.extra_text)])


#: what fit trains, per family: the published SimCSE recipe (Gao et al. 2021), a stronger one (Su's
#: Chinese finding: dropout 0.3, both directions' negatives, and at least ``min_steps`` steps on small
#: data) and CoSENT on the labelled training part. Whitening variants are scored on every family.
FIT_RECIPES: dict[str, dict[str, Any]] = {
    "raw": {},
    "simcse": {
        "objective": "simcse",
        "lr": 3e-5,
        "dropout": 0.1,
        "epochs": 1,
        "batch_size": 64,
        "simcse_variant": "paper",
    },
    "simcse-strong": {
        "objective": "simcse",
        "lr": 3e-5,
        "dropout": 0.3,
        "epochs": 1,
        "batch_size": 64,
        "simcse_variant": "symmetric",
        "min_steps": 100,
        "max_epochs": 10,
    },
    "cosent": {"objective": "cosent", "lr": 2e-5, "dropout": None, "epochs": 4, "batch_size": 32},
    "angle": {"objective": "angle", "lr": 2e-5, "dropout": None, "epochs": 4, "batch_size": 32},
    # Contrastive Tension (in-batch negatives): unlabelled text, a trained twin copy of the model
    "ct": {"objective": "ct", "lr": 3e-5, "dropout": 0.1, "epochs": 1, "batch_size": 64},
    # retrieval (FAQ queries): (query, positive) rows with in-batch negatives (MultipleNegativesRanking /
    # supervised SimCSE), and the same with a hard negative per row mined from the corpus by the start model
    "mnrl": {"objective": "supervised_simcse", "lr": 2e-5, "dropout": None, "epochs": 3, "batch_size": 32,
             "min_steps": 50, "max_epochs": 6},
    "mnrl-hard": {"objective": "supervised_simcse", "lr": 2e-5, "dropout": None, "epochs": 3,
                  "batch_size": 32, "min_steps": 50, "max_epochs": 6, "hard_negatives": True},
}
#: fit's candidate families when it chooses on pairs, and when it chooses on queries (retrieval)
PAIR_FIT_RECIPES = ("raw", "simcse", "cosent", "simcse-strong")
RETRIEVAL_FIT_RECIPES = ("raw", "mnrl", "mnrl-hard", "cosent")


@dataclass(frozen=True)
class FitRecipe:
    """One candidate family of ``fit``, typed (:data:`FIT_RECIPES` holds them as recorded in the results;
    ``raw`` trains nothing).

    Example:
        >>> FitRecipe.named("simcse-strong").min_steps, FitRecipe.named("raw").trains
        (100, False)
    """

    objective: str | None = None
    lr: float = 3e-5
    dropout: float | None = None
    epochs: int = 1
    batch_size: int = 64
    simcse_variant: str = "paper"
    #: raise the epochs until this many steps (capped by ``max_epochs``)
    min_steps: int | None = None
    max_epochs: int | None = None
    #: each (query, positive) row gets a negative mined from the corpus by the start model
    hard_negatives: bool = False

    @classmethod
    def named(cls, name: str) -> FitRecipe:
        return cls(**FIT_RECIPES[name])

    @property
    def trains(self) -> bool:
        return self.objective is not None

    @property
    def supervised(self) -> bool:
        """Trains on the labelled training part (else on the unlabelled text)."""
        return self.trains_on != "texts"

    @property
    def trains_on(self) -> str:
        """``pairs`` (scored pairs), ``queries`` ((query, positive) rows) or ``texts`` (unlabelled)."""
        if self.objective in PAIR_OBJECTIVES:
            return "pairs"
        return "queries" if self.objective == "supervised_simcse" else "texts"


@dataclass
class FitConfig:
    """Settings of ``simsent fit``: which candidates, how the labelled pairs are split, the budget.

    Example:
        >>> FitConfig(model="m", output="o").whiten_dims
        [None, 256, 128]
    """

    model: str
    output: str
    #: poolings tried (None: cls, first_last_avg and mean)
    poolings: list[str] | None = None
    #: candidate families (None: :data:`PAIR_FIT_RECIPES` on pairs, :data:`RETRIEVAL_FIT_RECIPES` on queries)
    recipes: list[str] | None = None
    #: whitening dimensions k scored on every family (None: all dimensions)
    whiten_dims: list[int | None] = field(default_factory=lambda: [None, 256, 128])
    seed: int = 42
    #: share of the (non-training) labelled pairs held out to report the winner's score
    report_fraction: float = 0.5
    #: with at least this many labelled pairs, 40% of them train a CoSENT candidate
    min_supervised_pairs: int = 400
    #: cross-fitting folds: supervised candidates are scored out of fold on the train and selection
    #: pairs together (1: train on one part, choose on another). Each supervised candidate then trains
    #: folds + 1 times: with an 8-minute budget it priced CoSENT out (results/fit_e5_folds3.md); with
    #: 25 minutes it still kept the start on ATEC (results/fit_e5_atec_folds3.md)
    folds: int = 1
    #: retrain a supervised winner on the train and selection pairs together before saving it (its
    #: report score is then the retrained model's); cross-fitting already trains on both. Measured on
    #: e5: +0.95..+1.66 on never-seen pairs over the winner as chosen (results/fit_e5_refit.md)
    refit: bool = True
    max_train_samples: int | None = 10000
    max_len: int = DEFAULT_MAX_LEN
    temperature: float = 0.05
    max_minutes: float | None = None
    encode_batch_size: int = 64
    #: a candidate replaces the start model only when it beats it on this share of bootstrap resamples
    #: of the selection pairs (:mod:`simsent.experiments.choice`)
    confidence: float = 0.9
    #: how a candidate must beat the start: max-stat, split or best (:mod:`simsent.experiments.choice`)
    choice_rule: str = "max-stat"
    #: what chooses: spearman on pairs; recall@1/5/10, mrr@10, ndcg@10 on queries (None: by the data)
    metric: str | None = None
    #: every trained candidate is also scored merged with the start model, ``(1 - a) * start + a * tuned``
    merge_weights: list[float] = field(default_factory=lambda: [0.5])
    #: hard negatives (mnrl-hard): a mined negative scores below its positive by at least this cosine
    hard_negative_margin: float = 0.05
    #: where the pairs and text came from, for the record
    sources: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["recipe_settings"] = {r: FIT_RECIPES.get(r, {}) for r in self.recipes or ()}
        return d

    def cell_key(self, data_hash: str) -> str:
        """Hash of what changes a candidate's scores: the settings and the data, not the budget, the output
        or which families and poolings are tried (a wider rerun reuses the finished ones)."""
        skip = (
            "output",
            "max_minutes",
            "encode_batch_size",
            "recipes",
            "poolings",
            "recipe_settings",
            "sources",
            "confidence",
            "choice_rule",
            "refit",
        )
        # cells: 3 = rows carry their per-item selection evidence (older cells cannot be resampled)
        key = {**self.to_dict(), "recipes_known": FIT_RECIPES, "data": data_hash, "cells": 3}
        return settings_hash(key, skip)
