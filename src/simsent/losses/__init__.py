"""Training objectives, one class per file, registered by name in :mod:`simsent.losses.registry`.

Classes are imported on demand (``objective_class(name)``); importing this package imports no torch.
"""

from __future__ import annotations

from typing import Any

from simsent.losses.registry import OBJECTIVES, objective_class


def __getattr__(name: str) -> Any:
    if name == "Objective":  # the base class, imported when asked for (it needs torch)
        from simsent.losses.base import Objective

        return Objective
    raise AttributeError(f"module 'simsent.losses' has no attribute {name!r}")


__all__ = ["OBJECTIVES", "Objective", "objective_class"]
