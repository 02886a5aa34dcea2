"""The objectives ``simsent train --objective`` knows, registered once by name; classes are imported only
when asked for, so that ``simsent --help`` imports no torch. What an objective trains on and whether a
sweep may vary it are facts on its class (:class:`~simsent.losses.base.Objective`).

Example:
    >>> "cosent" in OBJECTIVES
    True
"""

from __future__ import annotations

from typing import Any

from simsent._registry import load_registered

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
    "rerank_bce": "simsent.losses.rerank:RerankBCELoss",
    "rerank_listwise": "simsent.losses.rerank:RerankListwiseLoss",
    "rerank_mse": "simsent.losses.rerank:RerankMSELoss",
}


def objective_class(name: str) -> Any:
    """Return the objective class registered under ``name`` (a clear error for unknown names)."""
    return load_registered(OBJECTIVES, name, "objective")
