"""A study's cell key comes from its config's field declarations (``changes_run=False``: not in the key),
and equals the key the hand-kept skip lists gave, so state files written before still resume."""

from __future__ import annotations

import dataclasses

from simsent._fields import setting
from simsent.experiments.config import settings_hash
from simsent.experiments.fit.config import FIT_RECIPES, FitConfig
from simsent.experiments.sweep.config import SweepConfig
from simsent.experiments.table.config import TableConfig

#: the skip lists the configs kept by hand before their fields said it (issue 35)
OLD_SKIPS = {
    TableConfig: ("output", "poolings", "tasks", "seeds", "seed_base", "seed_list", "data_dir",
                  "encode_batch_size", "protocol_description", "max_minutes"),
    SweepConfig: ("output", "tasks", "sizes", "epochs", "supervised_epochs", "objectives", "seeds",
                  "seed_base", "seed_list", "data_dir", "encode_batch_size", "max_minutes",
                  "protocol_description"),
}


def test_table_and_sweep_keys_equal_the_old_hand_kept_ones():
    for cls, skip in OLD_SKIPS.items():
        cfg = cls(model="m", output="o", lr=2e-5, max_minutes=3.0)
        assert cfg.cell_key() == settings_hash(cfg.to_dict(), skip), cls.__name__


def test_the_fit_key_equals_the_old_one_and_ignores_what_does_not_change_a_score():
    cfg = FitConfig(model="m", output="o", poolings=["cls"], confidence=0.8)
    skip = ("output", "max_minutes", "encode_batch_size", "recipes", "poolings", "recipe_settings", "sources",
            "confidence", "choice_rule", "refit")
    old = settings_hash({**cfg.to_dict(), "recipes_known": FIT_RECIPES, "data": "d", "cells": 3}, skip)
    assert cfg.cell_key("d") == old
    assert FitConfig(model="m", output="elsewhere", max_minutes=1.0).cell_key("d") == cfg.cell_key("d")
    assert FitConfig(model="m", output="o", seed=7).cell_key("d") != cfg.cell_key("d")


def test_a_new_field_is_in_the_key_unless_it_says_otherwise():
    @dataclasses.dataclass
    class Wider(SweepConfig):
        warmup_ratio: float = setting(0.0, "Warm-up share.", minimum=0, maximum=1)
        log_every: int = setting(10, "Log every N cells.", changes_run=False)

    base = Wider(model="m", output="o")
    assert Wider(model="m", output="o", warmup_ratio=0.1).cell_key() != base.cell_key()
    assert Wider(model="m", output="o", log_every=1).cell_key() == base.cell_key()
