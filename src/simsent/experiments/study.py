"""The one outline every study follows (the seed table, sweeps, fit): find what the state file already
holds, plan the rest with estimates, say so, then run the cells within the budget.

A study supplies only its planning (:class:`StudyPlan`) and its result files; the engine is
:func:`~simsent.experiments.runner.run_cells`.

Example:
    >>> plan = lambda done: StudyPlan(cells, "3 cells")                 # doctest: +SKIP
    >>> outcome = run_study(plan, "runs/x", key, ("name",))            # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from simsent.experiments.runner import CellsOutcome, PlannedCell, cell_id, load_state, run_cells


@dataclass
class StudyPlan:
    """Every planned cell (finished ones included: the runner skips them), what the plan is (one line, or
    empty) and the run-time estimate of the cells left (one line, or ``None`` when none is left)."""

    cells: list[PlannedCell]
    summary: str = ""
    estimate: str | None = None


def run_study(
    plan: Callable[[set[tuple]], StudyPlan],
    output: str,
    key: str,
    id_fields: Sequence[str],
    echo: Callable[[str], None] = print,
    max_minutes: float | None = None,
    describe: Callable[[dict[str, Any]], str] | None = None,
    estimate_only: bool = False,
    started: float | None = None,
) -> CellsOutcome | None:
    """Plan against the finished cells of ``output``'s state (for settings ``key``), print the plan and
    its estimate, then run what is left (``None`` with ``estimate_only``)."""
    done = {cell_id(c, id_fields) for c in load_state(output, key)}
    planned = plan(done)
    if planned.summary:
        echo(planned.summary)
    if planned.estimate:
        echo(planned.estimate)
    if estimate_only:
        return None
    return run_cells(
        planned.cells,
        output,
        key,
        id_fields,
        echo=echo,
        max_minutes=max_minutes,
        describe=describe,
        started=started,
    )
