"""Experiment runners: the raw / whitening / SimCSE seed table.

``config`` (settings and protocols), ``protocol`` (train / whitening / evaluation text of a cell),
``cells`` (one cell's numbers), ``runner`` (resume state, run-time estimate, the loop),
``report`` (tables), ``provenance`` (what every results file records).
"""
