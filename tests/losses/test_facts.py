"""A loss's facts live on its class: what it trains on, whether it is supervised, whether a sweep may
vary it; the sweep, fit and the CLI read them there (registered once, by name)."""

from __future__ import annotations

import pytest

from simsent.errors import ConfigError
from simsent.losses import OBJECTIVES, objective_class


def test_every_registered_objective_states_its_facts():
    facts = {n: (objective_class(n).trains_on, objective_class(n).sweepable) for n in OBJECTIVES}
    assert facts["simcse"] == ("texts", True) and facts["simcse_mlm"] == ("texts", False)
    assert facts["cosent"] == facts["angle"] == facts["sbert_softmax"] == ("pairs", True)
    assert facts["supervised_simcse"] == ("queries", True)
    assert all(on in ("texts", "pairs", "queries") for on, _ in facts.values())
    assert objective_class("cosent").supervised() and not objective_class("ct").supervised()


def test_fit_and_the_sweep_read_the_facts_from_the_classes():
    from simsent.experiments.fit.config import FitRecipe
    from simsent.experiments.sweep.config import SweepConfig
    from simsent.experiments.sweep.study import _check_sweep

    assert FitRecipe("cosent").trains_on == "pairs" and FitRecipe("supervised_simcse").trains_on == "queries"
    assert FitRecipe(None).trains_on == "texts"
    sweep = SweepConfig(model="m", output="o", epochs=[1], supervised_epochs=[4])
    assert sweep.epochs_of("angle") == [4] and sweep.epochs_of("simcse") == [1]
    sweepable = "simcse, supervised_simcse, sbert_softmax, cosent, angle"
    with pytest.raises(ConfigError, match=f"a sweep trains {sweepable}; got objective 'ct'"):
        _check_sweep(SweepConfig(model="m", output="o", objectives=["ct"]))
