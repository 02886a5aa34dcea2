"""The seed table (``simsent bench table``): raw / BERT-whitening / SimCSE per (pooling, task, seed).
Its config (:mod:`.config`), cells (:mod:`.cells`), the study (:mod:`.study`) and its report
(:mod:`.report`).
"""
