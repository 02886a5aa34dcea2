"""One row of fit's leaderboard, typed: a scored variant of a candidate family (trained, whitened or
merged), its scores on the selection, report and audit parts, and what the choice said of it.

The study works with :class:`Candidate` objects; the state file, ``leaderboard.json`` and
:func:`~simsent.experiments.fit.study.run_fit`'s result hold their :meth:`Candidate.to_dict` form (the
keys they always had).

Example:
    >>> c = Candidate("cosent", "cosent", "mean", None, selection=80.1, report=78.0, report_ci=[75.0, 81.0])
    >>> Candidate.from_dict(c.to_dict()) == c, c.to_dict()["whiten_dim"]
    (True, None)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

#: fields written even when None (the rest are left out when None, as rows always were)
_ALWAYS = ("recipe", "family", "pooling", "whiten_dim", "selection", "report", "report_ci")


@dataclass
class Candidate:
    """A scored model variant (see the module docstring)."""

    recipe: str
    family: str
    pooling: str
    whiten_dim: int | None
    selection: float
    report: float
    report_ci: list[float]
    #: per-item selection evidence, which the chooser resamples; not written to the leaderboard
    selection_items: list[float] | None = None
    merge_weight: float | None = None
    report_figures: dict[str, float] | None = None
    audit: float | None = None
    audit_figures: dict[str, float] | None = None
    #: the family's training time and steps (every variant of a family shares them)
    seconds: float | None = None
    train_steps: int | None = None
    #: share of bootstrap resamples on which it beats the start model (NaN for the start itself)
    beats_start: float | None = None
    #: milliseconds a second stage adds to each report query (reranking its hits, batched)
    rerank_ms: float | None = None
    #: the retrained winner's held-out scores (``--refit``)
    refit: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # keys of rows written by other versions

    def to_dict(self) -> dict[str, Any]:
        """The row as the state file and ``leaderboard.json`` hold it."""
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**{k: v for k, v in row.items() if k in _ALWAYS or v is not None}, **self.extra}

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Candidate:
        """A row read back (unknown keys kept in ``extra``)."""
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in row.items() if k in names}
        known.setdefault("report_ci", [])
        return cls(**known, extra={k: v for k, v in row.items() if k not in names})
