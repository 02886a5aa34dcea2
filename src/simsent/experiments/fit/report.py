"""fit's leaderboard as Markdown and CSV: every candidate's selection score, its sureness against the
start model and its report figures, with the chosen one marked.

Example:
    >>> _share(0.9731)
    '97%'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from simsent.experiments.fit.candidate import Candidate
from simsent.experiments.report import _f


def _ci(r: Candidate | dict[str, Any]) -> str:
    """A row's (or a refit record's) 95% report interval."""
    ci = r.get("report_ci") if isinstance(r, dict) else r.report_ci
    lo, hi = ci or (float("nan"), float("nan"))
    return f"{_f(lo)} – {_f(hi)}"


def _split_phrase(sizes: dict[str, Any]) -> str:
    """How fit split the labelled pairs (results written before cross-fitting have no description)."""
    return sizes.get("description") or (
        f"{sizes.get('train', 0)} train (supervised only), {sizes.get('selection')} selection, "
        f"{sizes.get('report')} report"
    )


def leaderboard_markdown(
    board: Sequence[Candidate], winner: Candidate, prov: dict[str, Any]
) -> str:
    """fit's results page: the winner with its honest report score, every candidate, the protocol."""
    from simsent.experiments.choice import choice_sentence, hurts_sentence

    cfg = prov["config"]
    sizes = cfg.get("split_sizes", {})
    label, items = cfg.get("metric_label", "Spearman"), cfg.get("items", "pairs")
    lines = [
        "# simsent fit: leaderboard",
        "",
        f"**Winner: {winner.recipe}, pooling {winner.pooling}** — chosen on the selection part "
        f"({label} {_f(winner.selection)}); on the held-out report part it scores "
        f"**{_f(winner.report)}** (95% bootstrap interval {_ci(winner)}). Quote the report figure: the "
        "choice never saw it.",
        *_refit_lines(winner),
        "",
        f"{choice_sentence(board, cfg.get('choice') or {})} {hurts_sentence(board, cfg.get('choice') or {})}",
        "",
        f"- model: `{cfg.get('model')}`; seed {cfg.get('seed')}",
        f"- labelled {items}: {_split_phrase(sizes)} (seeded split; no candidate sees the report part); "
        f"{cfg.get('unlabelled_sentences')} unlabelled sentences for SimCSE and whitening",
        f"- candidates: {', '.join(cfg.get('recipes_used', []))} x poolings "
        f"{', '.join(cfg.get('poolings_used', []))}, "
        f"each also with whitening k in {['all' if k is None else k for k in cfg.get('whiten_dims', [])]}"
        f"{_merge_phrase(cfg)}",
        f"- choice rule: {cfg.get('choice_rule', 'best')}, confidence {cfg.get('confidence')}",
        "- recipes: " + "; ".join(f"{k}: {v}" for k, v in cfg.get("recipe_settings", {}).items() if v),
        "- versions: " + ", ".join(f"{k} {v}" for k, v in prov["versions"].items()),
        f"- command: `{prov['command']}`",
    ]
    for note in cfg.get("notes", []):
        lines.append(f"- note: {note}")
    lines += [
        f"- created: {prov['created']}",
        "",
        *_board_table(board, winner, label),
    ]
    lines += ["", "![leaderboard](leaderboard.png)"]
    if prov.get("data_files"):
        lines += ["", "## Data files", "", "| file | sha256 |", "|---|---|"]
        lines += [f"| {p} | `{h}` |" for p, h in prov["data_files"].items()]
    return "\n".join(lines) + "\n"


def _merge_phrase(cfg: dict[str, Any]) -> str:
    weights = cfg.get("merge_weights") or []
    if not weights:
        return ""
    return f"; every trained one also merged with the start model at a in {weights}"


def _board_table(board: Sequence[Candidate], winner: Candidate, label: str) -> list[str]:
    """The leaderboard table; with retrieval figures, the report part's Recall@1/5 and nDCG@10 too."""
    extra = ("recall@1", "recall@5", "ndcg@10") if any(r.report_figures for r in board) else ()
    names = "".join(f" report {k.replace('recall', 'R')} |" for k in extra)
    staged = any(r.rerank_ms is not None for r in board)  # a second stage: the time it adds a query
    lines = [
        f"| rank | recipe | pooling | selection {label} | beats start | report | report 95% CI |{names} "
        + ("+ ms a query |" if staged else "") + " family time (s) |",
        "|---:|---|---|---:|---:|---:|---|" + "---:|" * (len(extra) + staged) + "---:|",
    ]
    for i, r in enumerate(board, 1):
        mark = " **(winner)**" if r is winner else ""
        figures = "".join(f" {_f((r.report_figures or {}).get(k, math.nan))} |" for k in extra)
        added = (f" {r.rerank_ms:.1f} |" if r.rerank_ms is not None else " 0 |") if staged else ""
        lines.append(
            f"| {i} | {r.recipe}{mark} | {r.pooling} | {_f(r.selection)} | "
            f"{_share(r.beats_start)} | {_f(r.report)} | {_ci(r)} |{figures}{added} "
            f"{r.seconds or 0.0:.0f} |"
        )
    if staged:
        lines += ["", "+ ms a query: what reranking adds to each report query on this machine (its hits "
                  "scored in batches; the bi-encoder's own search not counted)."]
    return lines


def _refit_lines(winner: Candidate) -> list[str]:
    """The retrained winner's figure (``--refit``), when fit saved one: it is the one to quote."""
    refit = winner.refit
    if not refit:
        return []
    return [
        "",
        f"**Saved model: the same recipe retrained on {refit.get('items', refit['pairs'])} labelled items** "
        "(train + selection; "
        f"`--refit`). On the report part it scores **{_f(refit['report'])}** (95% bootstrap interval "
        f"{_ci(refit)}): quote this figure for the saved model. The table ranks the candidates as they "
        "were chosen.",
    ]


def _share(x: float | None) -> str:
    return "start" if x is None or x != x else f"{100 * x:.0f}%"


def leaderboard_csv_rows(board: Sequence[Candidate]) -> list[dict[str, Any]]:
    """The leaderboard's CSV rows, best selection first."""
    return [
        {
            "rank": i,
            "recipe": r.recipe,
            "family": r.family,
            "pooling": r.pooling,
            "whiten_dim": "" if r.whiten_dim is None else r.whiten_dim,
            "selection_spearman": r.selection,
            "beats_start": r.beats_start,
            "report_spearman": r.report,
            "report_ci_low": (r.report_ci or [None, None])[0],
            "report_ci_high": (r.report_ci or [None, None])[1],
            "family_seconds": round(r.seconds or 0.0, 2),
            **({"audit_spearman": r.audit} if r.audit is not None else {}),
        }
        for i, r in enumerate(board, 1)
    ]
