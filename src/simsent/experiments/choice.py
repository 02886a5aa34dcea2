"""How ``fit`` chooses: the best candidate on the selection pairs, only when it is surely better than the
start model; otherwise the start model itself (raw vectors, its own pooling) wins the tie.

"Surely" is a paired bootstrap over the selection pairs: the pairs are resampled ``resamples`` times
(seeded) and, on each resample, every candidate's Spearman is computed on the same pairs. A
candidate's *sureness* is the share of resamples on which it beats the start model; the best candidate
wins when its sureness reaches ``confidence`` (0.9 by default). Each leaderboard row carries its
sureness, and the winner's share of resamples beating the runner-up says how close the race was.

Example:
    >>> rng = np.random.default_rng(0)
    >>> gold = rng.normal(size=200)
    >>> start, better = gold + rng.normal(size=200) * 2, gold + rng.normal(size=200) * 0.5
    >>> sp = bootstrap_spearman({"start": start, "better": better}, gold, resamples=200, seed=0)
    >>> float((sp["better"] > sp["start"]).mean())
    1.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: default share of bootstrap resamples on which a candidate must beat the start model to be chosen
CONFIDENCE = 0.9
RESAMPLES = 1000


def bootstrap_spearman(
    scores: Mapping[Any, np.ndarray], gold: np.ndarray, resamples: int = RESAMPLES, seed: int = 0
) -> dict[Any, np.ndarray]:
    """Spearman of each candidate's pair ``scores`` with ``gold`` on the same ``resamples`` bootstrap
    resamples of the pairs: ``{key: array of resamples}``."""
    from scipy.stats import rankdata

    gold = np.asarray(gold, dtype=np.float64)
    idx = np.random.default_rng(seed).integers(0, len(gold), size=(resamples, len(gold)))
    g = _centred(rankdata(gold[idx], axis=1))
    out = {}
    for key, s in scores.items():
        r = _centred(rankdata(np.asarray(s, dtype=np.float64)[idx], axis=1))
        denom = np.sqrt((r * r).sum(1) * (g * g).sum(1))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[key] = np.where(denom > 0, (r * g).sum(1) / denom, np.nan)
    return out


def _centred(x: np.ndarray) -> np.ndarray:
    return x - x.mean(axis=1, keepdims=True)


def choose(
    board: list[dict[str, Any]],
    start: int,
    cosines: list[np.ndarray],
    gold: np.ndarray,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> tuple[int, dict[str, Any]]:
    """The index of the winner in ``board`` (sorted best selection first) and how sure the choice is.

    ``start`` is the index of the start model's row; ``cosines[i]`` are row i's selection-pair cosines.
    Every row gets ``beats_start`` (share of resamples beating the start row; NaN for the start itself).
    """
    sp = bootstrap_spearman(dict(enumerate(cosines)), gold, seed=seed)
    for i, row in enumerate(board):
        row["beats_start"] = math.nan if i == start else float(np.mean(sp[i] > sp[start]))
    top, runner_up = 0, 1  # the board is sorted: the best selection score first
    over_next = float(np.mean(sp[top] > sp[runner_up])) if len(board) > 1 else math.nan
    sure = start == top or board[top]["beats_start"] >= confidence
    winner = top if sure else start
    return winner, {
        "confidence": confidence,
        "best": top,
        "start": start,
        "best_beats_start": board[top]["beats_start"],
        "winner_beats_runner_up": over_next if winner == top else math.nan,
        "kept_start": winner == start and top != start,
        "pairs": len(gold),
    }


def choice_sentence(board: Sequence[dict[str, Any]], choice: dict[str, Any]) -> str:
    """How sure fit's choice is, in one sentence ("beats start": share of 1,000 bootstrap resamples of the
    selection pairs on which a candidate's Spearman beats the start model's)."""
    if not choice:
        return "The start model (raw) was not among the scored candidates: the best selection score won."
    best, start = board[choice["best"]], board[choice["start"]]
    need = f"{100 * choice['confidence']:.0f}%"
    if choice["best"] == choice["start"]:
        return f"The start model ({start['recipe']} / {start['pooling']}) scored best on the selection part."
    sure = f"{100 * choice['best_beats_start']:.0f}%"
    if choice["kept_start"]:
        on = f"these {choice['pairs']} selection pairs" if choice.get("pairs") else "this data"
        return (f"The best candidate, {best['recipe']} / {best['pooling']}, beat the start model on only "
                f"{sure} of bootstrap resamples of the selection pairs (needed: {need}), so the start model "
                f"was kept: on {on} no recipe was surely better than the model you started from. More "
                "labelled pairs make the comparison surer; a lower --confidence takes the best candidate at "
                "the risk of a model worse than the start.")
    close = choice.get("winner_beats_runner_up")
    over = "" if close is None or close != close else f"; the runner-up on {100 * close:.0f}% of them"
    return (f"It beats the start model ({start['recipe']} / {start['pooling']}) on {sure} of bootstrap "
            f"resamples of the selection pairs (needed: {need}){over}.")


def hurts_sentence(board: Sequence[dict[str, Any]], choice: dict[str, Any], shown: int = 4) -> str:
    """The candidates that scored below the start model on the selection pairs, worst first (a recipe that
    hurts this model on this data, said plainly); empty when none did or the start was not scored."""
    if not choice:
        return ""
    start = board[choice["start"]]["selection"]
    worse = sorted((r for r in board if r["selection"] < start), key=lambda r: r["selection"])
    if not worse:
        return ""
    named = ", ".join(f"{r['recipe']} / {r['pooling']} {r['selection'] - start:+.2f}" for r in worse[:shown])
    more = f" and {len(worse) - shown} more" if len(worse) > shown else ""
    return (f"Below the start model on the selection pairs (Spearman points): {named}{more}: on this data "
            "these recipes hurt the model you started from.")
