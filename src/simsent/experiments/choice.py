"""How ``fit`` chooses: the best candidate on the selection part, only when it is surely better than the
start model; otherwise the start model itself (raw vectors, its own pooling) wins the tie.

The metric is a plug-in (:mod:`simsent.experiments.fit.judges`): each candidate has per-item evidence on the
selection items (a pair's cosine, a query's MRR@10) and a ``statistic(evidence, idx)`` that scores it on
rows of item indices. "Surely" is a paired bootstrap over the selection items (seeded, ``RESAMPLES``
resamples, every candidate scored on the same resampled items), with one of three rules:

* ``max-stat`` (default): the best candidate's gain over the start must clear the ``confidence``
  quantile of the *largest* centred bootstrap gain over all candidates (White's reality check /
  a max-statistic bound). Picking the best of many is then paid for: a candidate that only looks best
  because many were tried does not clear it.
* ``split``: the selection items are split in two seeded halves; the best candidate on the first half
  must beat the start on ``confidence`` of bootstrap resamples of the second, which did not pick it.
* ``best``: the best candidate must beat the start on ``confidence`` of resamples of the items that
  picked it (simsent before 0.2; it ignores how many candidates were tried).

Each leaderboard row carries ``beats_start``: the share of resamples on which it beats the start model.

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
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from simsent.errors import ConfigError
from simsent.experiments.cells import nan_low

#: default share of bootstrap resamples on which a candidate must beat the start model to be chosen
CONFIDENCE = 0.9
RESAMPLES = 1000
CHOICE_RULES = ("max-stat", "split", "best")

Statistic = Callable[[np.ndarray, np.ndarray], np.ndarray]


def check_rule(rule: str) -> str:
    if rule not in CHOICE_RULES:
        raise ConfigError(f"unknown --choice-rule {rule!r}; choose from {', '.join(CHOICE_RULES)}")
    return rule


def spearman_rows(scores: np.ndarray, gold: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Spearman of ``scores`` with ``gold`` on each row of item indices ``idx`` (resamples x items)."""
    from scipy.stats import rankdata

    g = _centred(rankdata(np.asarray(gold, dtype=np.float64)[idx], axis=1))
    r = _centred(rankdata(np.asarray(scores, dtype=np.float64)[idx], axis=1))
    denom = np.sqrt((r * r).sum(1) * (g * g).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (r * g).sum(1) / denom, np.nan)


def spearman_statistic(gold: Sequence[float] | np.ndarray) -> Statistic:
    """The pair metric's statistic: ``stat(cosines, idx)`` is the Spearman x100 on each row of ``idx``.

    Example:
        >>> stat = spearman_statistic([1.0, 2.0, 3.0])
        >>> stat(np.array([0.1, 0.5, 0.9]), np.array([[0, 1, 2]])).tolist()
        [100.0]
    """
    g = np.asarray(gold, dtype=np.float64)
    return lambda evidence, idx: spearman_rows(np.asarray(evidence, dtype=np.float64), g, idx) * 100


def bootstrap_spearman(
    scores: Mapping[Any, np.ndarray], gold: np.ndarray, resamples: int = RESAMPLES, seed: int = 0
) -> dict[Any, np.ndarray]:
    """Spearman of each candidate's pair ``scores`` with ``gold`` on the same ``resamples`` bootstrap
    resamples of the pairs: ``{key: array of resamples}``."""
    gold = np.asarray(gold, dtype=np.float64)
    idx = np.random.default_rng(seed).integers(0, len(gold), size=(resamples, len(gold)))
    return {key: spearman_rows(s, gold, idx) for key, s in scores.items()}


def _centred(x: np.ndarray) -> np.ndarray:
    return x - x.mean(axis=1, keepdims=True)


def _beats(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a > b))


def _max_stat(stats: dict[int, np.ndarray], point: dict[int, float], start: int, confidence: float) -> float:
    """The ``confidence`` quantile of the largest centred bootstrap gain over the start, over candidates."""
    others = [i for i in stats if i != start]
    if not others:
        return math.inf
    gains = np.stack([(stats[i] - stats[start]) - (point[i] - point[start]) for i in others])
    worst = np.nanmax(np.where(np.isnan(gains), -np.inf, gains), axis=0)
    return float(np.quantile(worst, confidence))


def _split_pick(evidence: Sequence[np.ndarray], statistic: Statistic, start: int,
                rng: np.random.Generator) -> tuple[int, float, int]:
    """The best candidate on a seeded half of the items, and the share of resamples of the other half on
    which it beats the start (the start wins ties); and the size of the testing half."""
    n = len(evidence[start])
    order = rng.permutation(n)
    pick_half, test_half = order[: n // 2], order[n // 2 :]
    on_pick = [float(statistic(e, pick_half[None, :])[0]) for e in evidence]
    best = max(range(len(evidence)), key=lambda i: (nan_low(on_pick[i]), i == start))
    if best == start or len(test_half) < 2:
        return start, math.nan, len(test_half)
    idx = test_half[rng.integers(0, len(test_half), size=(RESAMPLES, len(test_half)))]
    return best, _beats(statistic(evidence[best], idx), statistic(evidence[start], idx)), len(test_half)


def choose(
    board: Sequence[Any],
    start: int,
    evidence: Sequence[np.ndarray],
    statistic: Statistic,
    confidence: float = CONFIDENCE,
    seed: int = 0,
    rule: str = "max-stat",
) -> tuple[int, dict[str, Any]]:
    """The index of the winner in ``board`` (sorted best selection first) and how sure the choice is.

    ``start`` is the index of the start model's row; ``evidence[i]`` is row i's per-item selection
    evidence and ``statistic(evidence, idx)`` scores it on each row of item indices. The returned record
    gives every row's ``beats_start`` (share of resamples beating the start row; NaN for the start
    itself) and says whom each of :data:`CHOICE_RULES` would have chosen (``rules``), for benchmarks.
    Rows are fit's :class:`~simsent.experiments.fit.candidate.Candidate` (``recipe``, ``pooling``,
    ``selection``).
    """
    check_rule(rule)
    n = len(evidence[start])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(RESAMPLES, n))
    stats = {i: statistic(e, idx) for i, e in enumerate(evidence)}
    point = {i: float(statistic(e, np.arange(n)[None, :])[0]) for i, e in enumerate(evidence)}
    beats = [math.nan if i == start else _beats(stats[i], stats[start]) for i in range(len(board))]
    top = 0  # the board is sorted: the best selection score first
    bound = _max_stat(stats, point, start, confidence)
    split_best, split_share, test_n = _split_pick(evidence, statistic, start, rng)
    always = confidence <= 0
    winners = {
        "best": top if always or top == start or beats[top] >= confidence else start,
        "max-stat": top if always or top == start or point[top] - point[start] > bound else start,
        "split": top if always else split_best if split_best == start or split_share >= confidence else start,
    }
    winner = winners[rule]
    runner_up = 1 if winner == top else top
    over_next = _beats(stats[winner], stats[runner_up]) if len(board) > 1 and winner != start else math.nan
    return winner, {
        "rule": rule,
        "confidence": confidence,
        "best": top,
        "start": start,
        "winner": winner,
        "best_beats_start": beats[top],
        "gain": point[top] - point[start],
        "max_stat_bound": bound,
        "candidates": len(board),
        "split_pick": split_best,
        "split_beats_start": split_share,
        "split_test_items": test_n,
        "winner_beats_runner_up": over_next,
        "kept_start": winner == start and top != start,
        "items": n,
        "rules": winners,
        "beats_start": beats,
    }


def choice_sentence(board: Sequence[Any], choice: dict[str, Any]) -> str:
    """How sure fit's choice is, in one or two sentences, for the rule it used (see the module docstring)."""
    if not choice:
        return "The start model (raw) was not among the scored candidates: the best selection score won."
    best, start = board[choice["best"]], board[choice["start"]]
    items = f"{choice.get('items', choice.get('pairs'))} selection {choice.get('item_word', 'pairs')}"
    label = choice.get("metric_label", "Spearman")
    if choice["best"] == choice["start"]:
        return f"The start model ({start.recipe} / {start.pooling}) scored best on the {items}."
    winner = board[choice.get("winner", choice["best"])]
    why = _rule_reason(choice, best, items, label)
    if choice["kept_start"]:
        return (f"{why}, so the start model was kept: on these {items} no recipe was surely better than "
                f"the model you started from. More labelled {choice.get('item_word', 'pairs')} make the "
                "comparison surer; a lower "
                "--confidence takes the best candidate at the risk of a model worse than the start.")
    close = choice.get("winner_beats_runner_up")
    over = "" if close is None or close != close else f" It beats the runner-up on {100 * close:.0f}%."
    return f"{why}: {winner.recipe} / {winner.pooling} replaces the start model.{over}"


def _rule_reason(choice: dict[str, Any], best: Any, items: str, label: str) -> str:
    need = f"{100 * choice['confidence']:.0f}%"
    name = f"{best.recipe} / {best.pooling}"
    rule = choice.get("rule", "best")
    if rule == "max-stat":
        verb = "clears" if not choice["kept_start"] else "does not clear"
        return (f"The best candidate, {name}, gains {choice['gain']:+.2f} {label} over the start model on "
                f"the {items}; that {verb} the {need} bound for the best of {choice['candidates']} "
                f"candidates ({choice['max_stat_bound']:+.2f}, a max-statistic bootstrap)")
    if rule == "split":
        share = choice.get("split_beats_start")
        shown = "-" if share is None or share != share else f"{100 * share:.0f}%"
        return (f"Picked on one half of the {items}, the best candidate beat the start model on {shown} of "
                f"bootstrap resamples of the other {choice.get('split_test_items')} (needed: {need})")
    only = "only " if choice["kept_start"] else ""
    return (f"The best candidate, {name}, beat the start model on {only}"
            f"{100 * choice['best_beats_start']:.0f}% of bootstrap resamples of the {items} (needed: {need})")


def hurts_sentence(board: Sequence[Any], choice: dict[str, Any], shown: int = 4) -> str:
    """The candidates that scored below the start model on the selection pairs, worst first (a recipe that
    hurts this model on this data, said plainly); empty when none did or the start was not scored."""
    if not choice:
        return ""
    start = board[choice["start"]].selection
    worse = sorted((r for r in board if r.selection < start), key=lambda r: r.selection)
    if not worse:
        return ""
    named = ", ".join(f"{r.recipe} / {r.pooling} {r.selection - start:+.2f}" for r in worse[:shown])
    more = f" and {len(worse) - shown} more" if len(worse) > shown else ""
    items, label = choice.get("item_word", "pairs"), choice.get("metric_label", "Spearman")
    return (f"Below the start model on the selection {items} ({label} points): {named}{more}: on this data "
            "these recipes hurt the model you started from.")
