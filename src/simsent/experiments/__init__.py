"""Experiments on one cell runner, one folder a study: ``table/`` (the raw / whitening / SimCSE seed
table), ``sweep/`` (training size x epochs) and ``fit/`` (the best model for a user's data), each with
its config, cells, study and report.

Shared by the three: ``config`` (seeds, tasks, protocols, the command line of a config), ``protocol``
(who trains and is scored on what), ``cells`` (training a cell in place), ``runner`` (state, estimates,
budget: :func:`~simsent.experiments.runner.run_cells`), ``study`` (the outline every study follows),
``choice`` (the one chooser), ``report`` (number formats, result files), ``plots`` (figures) and
``provenance`` (what every results file records).
"""
