"""Training objectives, one class per file. ``OBJECTIVES`` maps ``--objective`` names to classes.

Classes are imported on demand (``objective_class(name)``).
"""

from __future__ import annotations

from simsent._registry import load_registered
from simsent.losses.base import Objective

OBJECTIVES: dict[str, str] = {
    "simcse": "simsent.losses.simcse:UnsupervisedSimCSELoss",
    "simcse_mlm": "simsent.losses.simcse_mlm:SimCSEMLMLoss",
    "supervised_simcse": "simsent.losses.supervised_simcse:SupervisedSimCSELoss",
    "sbert_softmax": "simsent.losses.sbert_softmax:SoftmaxLoss",
    "cosent": "simsent.losses.cosent:CoSENTLoss",
    "angle": "simsent.losses.angle:AnglELoss",
    "ct": "simsent.losses.contrastive_tension:ContrastiveTensionLoss",
    "amsoftmax": "simsent.losses.amsoftmax:AMSoftmaxLoss",
    "distill": "simsent.losses.distill:DistillationLoss",
}


def objective_class(name: str) -> type[Objective]:
    """Return the objective class registered under ``name`` (a clear error for unknown names)."""
    return load_registered(OBJECTIVES, name, "objective")


__all__ = ["OBJECTIVES", "Objective", "objective_class"]
