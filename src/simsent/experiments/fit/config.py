"""Settings of ``simsent fit`` (:class:`FitConfig`) and its candidate recipes (:class:`FitRecipe`).

Example:
    >>> FitRecipe.named("mnrl-hard").trains_on, FitRecipe.named("raw").trains
    ('queries', False)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from simsent._constants import DEFAULT_MAX_LEN
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
        from simsent.losses import objective_class

        return objective_class(self.objective).trains_on if self.objective else "texts"


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
