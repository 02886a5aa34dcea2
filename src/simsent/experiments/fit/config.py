"""Settings of ``simsent fit`` (:class:`FitConfig`) and its candidate recipes (:class:`FitRecipe`).

Example:
    >>> FitRecipe.named("mnrl-hard").trains_on, FitRecipe.named("raw").trains
    ('queries', False)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from simsent._constants import DEFAULT_MAX_LEN
from simsent._fields import check_fields, same_run_fields, setting
from simsent.experiments.config import settings_hash

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
    # mnrl taken at several prefix dimensions (Matryoshka: the model's, 512, 256, 128, 64 below it), so
    # that its first 128 dimensions search nearly as well (encode / index build --dim); not a default
    # candidate: fit judges every candidate at full dimension, where it rarely wins
    "mnrl-matryoshka": {"objective": "supervised_simcse", "lr": 2e-5, "dropout": None, "epochs": 3,
                        "batch_size": 32, "min_steps": 50, "max_epochs": 6, "matryoshka": True},
    # two stages (retrieval): the best bi-encoder so far, its top k re-ordered by a cross-encoder trained
    # listwise on the training queries (one mined negative a row); the reranker's recipe
    "rerank": {"objective": "rerank_listwise", "lr": 5e-5, "dropout": None, "epochs": 3, "batch_size": 16,
               "hard_negatives": True, "reranks": True},
    # Augmented SBERT: CoSENT on the gold pairs plus silver pairs a reranker (the recipe above, trained on
    # the gold ones) scored
    "augsbert": {"objective": "cosent", "lr": 2e-5, "dropout": None, "epochs": 4, "batch_size": 32,
                 "silver": True},
}


#: fit's candidate families when it chooses on pairs, and when it chooses on queries (retrieval)
PAIR_FIT_RECIPES = ("raw", "simcse", "cosent", "simcse-strong")


RETRIEVAL_FIT_RECIPES = ("raw", "mnrl", "mnrl-hard", "cosent", "rerank")


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
    #: a second stage: a cross-encoder re-orders the best bi-encoder's hits (fit.reranking)
    reranks: bool = False
    #: trains on silver pairs scored by a reranker beside the gold ones (fit.silver)
    silver: bool = False
    #: the loss is also taken at prefix dimensions (:func:`matryoshka_dims_of`)
    matryoshka: bool = False

    @classmethod
    def named(cls, name: str) -> FitRecipe:
        return cls(**FIT_RECIPES[name])

    @property
    def trains(self) -> bool:
        return self.objective is not None

    @property
    def trains_reranker(self) -> bool:
        """Trains a cross-encoder (``train_fit_reranker``): the two-stage and the silver-pair recipes."""
        return self.reranks or self.silver

    @property
    def supervised(self) -> bool:
        """Trains on the labelled training part (else on the unlabelled text)."""
        return self.trains_on != "texts"

    @property
    def trains_on(self) -> str:
        """``pairs`` (scored pairs), ``queries`` ((query, positive) rows) or ``texts`` (unlabelled)."""
        from simsent.losses import objective_class

        return objective_class(self.objective).trains_on if self.objective else "texts"


def matryoshka_dims_of(width: int) -> list[int]:
    """The prefix dimensions a Matryoshka recipe trains a ``width``-dimension model at (a half and a
    quarter of a model of 64 or fewer).

    Example:
        >>> matryoshka_dims_of(384), matryoshka_dims_of(768), matryoshka_dims_of(32)
        ([384, 256, 128, 64], [768, 512, 256, 128, 64], [32, 16, 8])
    """
    below = [d for d in (512, 256, 128, 64) if d < width] or [d for d in (width // 2, width // 4) if d >= 1]
    return [width, *below]


@dataclass
class FitConfig:
    """Settings of ``simsent fit``: which candidates, how the labelled pairs are split, the budget.

    Example:
        >>> FitConfig(model="m", output="o").whiten_dims
        [None, 256, 128]
    """

    model: str = setting(help="Hub id or local folder of the starting model.", cli=["--model", "-m"])
    output: str = setting(help="Folder for the winning model and the leaderboard.", cli=["--output", "-o"],
                          changes_run=False)
    #: poolings tried (None: the folder's own, else cls, first_last_avg and mean); a wider rerun reuses
    #: the finished candidates
    poolings: list[str] | None = setting(None, changes_run=False)
    #: candidate families (None: :data:`PAIR_FIT_RECIPES` on pairs, :data:`RETRIEVAL_FIT_RECIPES` on queries)
    recipes: list[str] | None = setting(None, changes_run=False)
    #: whitening dimensions k scored on every family (None: all dimensions)
    whiten_dims: list[int | None] = setting(default_factory=lambda: [None, 256, 128])
    seed: int = setting(42, "Seed of the split and of training.")
    report_fraction: float = setting(0.5, "Share of the dev pairs held out to report.", minimum=0.05,
                                     maximum=0.95)
    min_supervised_pairs: int = setting(400, "Labelled pairs needed before a CoSENT candidate runs.",
                                        minimum=4)
    #: (why 1 is the default: results/defaults.md)
    folds: int = setting(
        1, "Cross-fitting: supervised candidates are scored on each of N folds of the non-report pairs by a "
        "copy trained on the others, so every such pair chooses; each trains N+1 times (1: a 40% train "
        "part and a separate selection part).", minimum=1)
    #: (why it is on: results/defaults.md)
    refit: bool = setting(
        True, "Retrain a supervised winner on the train and selection pairs together before saving it; the "
        "report part scores the retrained model.", cli=["--refit/--no-refit"], changes_run=False)
    max_train_samples: int | None = setting(10000, "Seeded subset of the unlabelled text.", minimum=2)
    max_len: int = setting(DEFAULT_MAX_LEN, "Max tokens per sentence.", minimum=2)
    temperature: float = 0.05
    max_minutes: float | None = setting(
        None, "Time budget: cheap candidates first, the rest left out; rerun to resume.", changes_run=False)
    encode_batch_size: int = setting(64, changes_run=False)
    #: the sureness asked of a candidate before it replaces the start model (:mod:`.choice`): the choice
    #: is remade from the candidates' scores, so another value reuses them
    confidence: float = setting(
        0.9, "How sure the choice must be: the share of bootstrap resamples of the selection part that the "
        "rule asks for (0: the best selection score always wins).", minimum=0, maximum=1, changes_run=False)
    choice_rule: str = setting(
        "max-stat", "max-stat: the best candidate's gain must clear a bound for the best of all candidates; "
        "split: picked on half the selection part, tested on the other; best: tested on the items that "
        "picked it (ignores how many candidates were tried).", changes_run=False)
    #: what chooses: spearman on pairs; recall@1/5/10, mrr@10, ndcg@10 on queries (None: by the data)
    metric: str | None = None
    #: every trained candidate is also scored merged with the start model, ``(1 - a) * start + a * tuned``
    merge_weights: list[float] = setting(default_factory=lambda: [0.5])
    hard_negative_margin: float = setting(
        0.05, "mnrl-hard: a mined negative scores at least this much below the query's positive (cosine), "
        "else it is probably a false negative.", minimum=0, maximum=2)
    rerank_top: int = setting(20, "rerank candidate: how many of the first stage's hits the reranker "
                              "re-orders for each query.", minimum=1)
    reranker_model: str | None = setting(
        None, "rerank and augsbert candidates: the reranker starts from this model instead of --model; a "
        "cross-encoder folder (e.g. a downloaded BAAI/bge-reranker-base) keeps its trained score head.")
    silver_pairs: int = setting(2000, "augsbert candidate: silver pairs drawn from the unlabelled text "
                                "(nearest neighbours and a random partner) for the reranker to score.",
                                minimum=0)
    #: where the pairs and text came from, for the record
    sources: dict[str, Any] = setting(default_factory=dict, changes_run=False)

    def __post_init__(self) -> None:
        check_fields(self)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["recipe_settings"] = {r: FIT_RECIPES.get(r, {}) for r in self.recipes or ()}
        return d

    def cell_key(self, data_hash: str) -> str:
        """Hash of what changes a candidate's scores: the settings and the data (every field not declared
        ``changes_run=False``), not the budget, the output or which families and poolings are tried (a
        wider rerun reuses the finished ones)."""
        skip = [*same_run_fields(self), "recipe_settings"]  # recipe_settings: to_dict's record of ``recipes``
        # cells: 3 = rows carry their per-item selection evidence (older cells cannot be resampled)
        key = {**self.to_dict(), "recipes_known": FIT_RECIPES, "data": data_hash, "cells": 3}
        return settings_hash(key, skip)
