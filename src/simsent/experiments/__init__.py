"""Experiment runners: the raw / whitening / SimCSE seed table (:mod:`simsent.experiments.table`),
its reports (:mod:`~simsent.experiments.report`) and provenance records
(:mod:`~simsent.experiments.provenance`)."""
