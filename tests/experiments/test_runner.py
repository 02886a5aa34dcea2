"""The one cell runner: a budget that skips what would overrun, with the estimate it compared."""

from __future__ import annotations


def test_skipped_cells_carry_the_corrected_estimate_the_budget_was_compared_with(tmp_path):
    import time

    from simsent.experiments.runner import PlannedCell, run_cells

    def slow():
        time.sleep(0.05)  # 50x its estimate: the next cell of its kind is expected to overrun likewise
        return {"name": "a", "seconds": 0.05}

    plan = [
        PlannedCell(("a",), "a", slow, 0.001, kind="k"),
        PlannedCell(("b",), "b", lambda: {"name": "b"}, 10.0, kind="k"),
    ]
    out = run_cells(plan, str(tmp_path), "k", ("name",), echo=lambda _m: None, max_minutes=1)
    assert [p.id for p in out.skipped] == [("b",)] and out.skipped[0].seconds >= 10.0 * 50
