"""Training objectives, one class per file. ``OBJECTIVES`` maps ``--objective`` names to classes.

Classes are imported on demand (``objective_class(name)``).
"""

from __future__ import annotations

import importlib

from simsent.errors import ConfigError
from simsent.losses.base import Objective

OBJECTIVES: dict[str, str] = {
    "simcse": "simsent.losses.simcse:UnsupervisedSimCSELoss",
    "simcse_mlm": "simsent.losses.simcse_mlm:SimCSEMLMLoss",
    "supervised_simcse": "simsent.losses.supervised_simcse:SupervisedSimCSELoss",
    "sbert_softmax": "simsent.losses.sbert_softmax:SoftmaxLoss",
    "cosent": "simsent.losses.cosent:CoSENTLoss",
    "amsoftmax": "simsent.losses.amsoftmax:AMSoftmaxLoss",
    "distill": "simsent.losses.distill:DistillationLoss",
}


def objective_class(name: str) -> type[Objective]:
    """Return the objective class registered under ``name`` (a clear error for unknown names)."""
    if name not in OBJECTIVES:
        raise ConfigError(f"unknown objective {name!r}; choose one of: {', '.join(OBJECTIVES)}")
    module, cls = OBJECTIVES[name].split(":")
    return getattr(importlib.import_module(module), cls)


__all__ = ["OBJECTIVES", "Objective", "objective_class"]
