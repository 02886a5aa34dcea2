"""The sweep study (``simsent sweep``): Spearman over training size x epochs x seeds. Its config
(:mod:`.config`), cells (:mod:`.cells`), the study (:mod:`.study`) and its report (:mod:`.report`).
"""
