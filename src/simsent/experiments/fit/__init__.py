"""The fit study (``simsent fit``): its config and recipes (:mod:`.config`), the judges that score a
candidate on pairs or on retrieval (:mod:`.judges`), the candidate cells (:mod:`.cells`), the study
itself (:mod:`.study`), its leaderboard (:mod:`.report`) and the saved model's card (:mod:`.card`).
It shares the runner, the study outline and the chooser with the other studies.
"""
