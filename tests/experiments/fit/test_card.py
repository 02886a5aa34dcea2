"""fit's model card and the figures of the saved model, from leaderboard rows (no model needed)."""

from __future__ import annotations

from simsent.experiments.fit.candidate import Candidate
from simsent.experiments.fit.card import fit_card, saved_figures


def _winner(**extra: object) -> Candidate:
    return Candidate("cosent", "cosent", "mean", None, selection=60.0, report=58.0, report_ci=[50.0, 65.0],
                     **extra)


def _prov(description: str) -> dict:
    sizes = {"train": 400, "selection": 300, "report": 300, "description": description}
    return {"config": {"seed": 7, "model": "tiny", "split_sizes": sizes, "notes": ["one note"]}}


def test_saved_figures_prefer_the_retrained_winner():
    refit = {"pairs": 700, "report": 61.5, "report_ci": [55.0, 68.0]}
    assert saved_figures(_winner().to_dict())["report"] == 58.0
    assert saved_figures(_winner(refit=refit).to_dict()) is refit


def test_card_quotes_the_saved_model_and_the_split_as_described():
    refit = {"pairs": 700, "report": 61.5, "report_ci": [55.0, 68.0]}
    split = "700 selection (3-fold cross-fitted: ...), 300 report"
    card = fit_card(_winner(refit=refit), [_winner()], _prov(split), "Sure on 95% of resamples.")
    assert "**61.50** (95% bootstrap interval 55.00 – 68.00)" in card
    assert "retrained on 700 pairs" in card
    assert f"split once (seed 7): {split}." in card
    assert "Sure on 95% of resamples." in card and "Note: one note" in card
    assert "CoSENT only" not in card


def test_card_without_refit_quotes_the_winner():
    card = fit_card(_winner(), [_winner()], _prov("400 train (supervised only), 300 selection, 300 report"))
    assert "**58.00**" in card and "retrained" not in card
    assert "| cosent | mean | 60.00 | 58.00 |" in card
