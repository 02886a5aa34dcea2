"""Experiments on one cell runner: the raw / whitening / SimCSE seed table, sweeps and fit.

``config`` (settings and protocols), ``protocol`` (who trains and is scored on what), ``cells`` (one
cell's numbers), ``runner`` (state, estimates, budget: :func:`~simsent.experiments.runner.run_cells`),
``table`` / ``sweep`` / ``fit`` (the three studies), ``report`` (tables), ``plots`` (figures),
``provenance`` (what every results file records).
"""
