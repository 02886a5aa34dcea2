"""Turn per-seed cells of the seed table into mean ± std rows, and write Markdown, CSV and JSON.

A *cell* is one ``(pooling, task, seed)`` run: ``{"pooling", "task", "seed", "raw": metrics,
"whitening": metrics, "simcse": metrics}`` (metrics from :func:`simsent.evaluation.sts.sts_metrics`),
or a TF-IDF cell ``{"pooling": "tfidf", "task", "seed", "tfidf": metrics}``.

Example:
    >>> rows = summarize_cells(cells, poolings=["cls"], tasks=["STS-B"])   # doctest: +SKIP
    >>> write_reports("results/x", rows, cells, prov)                      # doctest: +SKIP
    ['results/x/table.md', 'results/x/table.csv', 'results/x/table.json']
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

METHODS = ("raw", "whitening", "simcse")
TFIDF = "tfidf"
TFIDF_LABEL = "TF-IDF char n-gram"


def _stats(values: Sequence[float]) -> dict[str, Any]:
    vals = [float(v) for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return {"mean": float("nan"), "std": float("nan"), "n": 0, "values": []}
    std = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
    return {"mean": float(np.mean(vals)), "std": std, "n": len(vals), "values": vals}


def summarize_cells(
    cells: Sequence[dict[str, Any]], poolings: Sequence[str], tasks: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per (pooling, task) plus TF-IDF rows: Spearman/alignment/uniformity stats per method."""
    rows = []
    for pooling in [*poolings, TFIDF]:
        methods = (TFIDF,) if pooling == TFIDF else METHODS
        for task in tasks:
            mine = [c for c in cells if c["pooling"] == pooling and c["task"] == task]
            if not mine:
                continue
            row: dict[str, Any] = {"pooling": pooling, "task": task, "seeds": sorted(c["seed"] for c in mine)}
            for m in methods:
                row[m] = {
                    k: _stats([c[m].get(k, float("nan")) for c in mine])
                    for k in ("spearman", "alignment", "uniformity")
                }
            if pooling != TFIDF:
                sim, wh, raw = (row[m]["spearman"]["mean"] for m in ("simcse", "whitening", "raw"))
                row["simcse_beats_whitening"] = bool(sim > wh)
                row["simcse_beats_raw"] = bool(sim > raw)
            rows.append(row)
    return rows


def _f(x: float, digits: int = 2) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:.{digits}f}"


def _pm(s: dict[str, Any]) -> str:
    return f"{_f(s['mean'])} ± {_f(s['std'])}" if s["n"] > 1 else _f(s["mean"])


def to_markdown(rows: Sequence[dict[str, Any]], prov: dict[str, Any], title: str = "Seed table") -> str:
    """The results page: provenance, the compact a / b / c table, the mean ± std table, data hashes."""
    lines = [f"# {title}: raw / whitening / SimCSE (Spearman x 100)", "", *_table_provenance(prov)]
    lines += _abc_table(rows) + _seed_table(rows)
    lines += ["", "## Data files", "", "| file | sha256 |", "|---|---|"]
    lines += [f"| {p} | `{h}` |" for p, h in prov["data_files"].items()]
    return "\n".join(lines) + "\n"


def _table_provenance(prov: dict[str, Any]) -> list[str]:
    """The seed table's settings, versions, command and run time, a line each."""
    cfg = prov["config"]
    lines = [
        f"- model: `{cfg.get('model')}`",
        f"- protocol: **{cfg.get('protocol')}** — {cfg.get('protocol_description', '')}",
        f"- seeds: {', '.join(map(str, cfg.get('seed_list', [])))} (mean ± sample std over seeds)",
        f"- evaluation split: {cfg.get('eval_split_used', cfg.get('eval_split'))}; "
        f"max eval pairs: {cfg.get('max_eval_pairs')}",
        f"- SimCSE: batch {cfg.get('batch_size')}, lr {cfg.get('lr')}, dropout {cfg.get('dropout')}, "
        f"epochs {cfg.get('epochs')}, temperature {cfg.get('temperature')}, "
        f"loss variant {cfg.get('simcse_variant', 'paper')}, max_len {cfg.get('max_len')}, "
        f"max train sentences {cfg.get('max_train_samples')}",
        f"- whitening: dim {cfg.get('whiten_dim') or 'all'}, fitted on "
        f"{cfg.get('max_whiten_samples') or 'the SimCSE training sample'} sentences of the train text",
        f"- TF-IDF: {TFIDF_LABEL} {tuple(cfg.get('tfidf_ngram_range', (1, 3)))}, fitted on the SimCSE "
        "training sample",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in prov["versions"].items()),
        f"- command: `{prov['command']}`",
    ]
    if prov.get("argv"):
        lines.append(f"- invoked as: `{prov['argv']}`")
    if cfg.get("skipped_poolings"):
        lines.append(f"- skipped poolings: {cfg['skipped_poolings']}")
    if prov.get("run_seconds") is not None:
        lines.append(
            f"- run time: {prov['run_seconds'] / 60:.1f} min ({prov.get('cells_run', '?')} cells run "
            f"in this invocation, {prov.get('cells_resumed', 0)} resumed from the state file)"
        )
    lines.append(f"- created: {prov['created']}")
    return lines


def _abc_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Means over seeds of raw / whitening / SimCSE per (pooling, task), and the TF-IDF row."""
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    poolings = list(dict.fromkeys(r["pooling"] for r in rows if r["pooling"] != TFIDF))
    by = {(r["pooling"], r["task"]): r for r in rows}
    lines = [
        "",
        "## a / b / c",
        "",
        "Means over seeds of raw / whitening / SimCSE; **bold** SimCSE beats whitening. "
        "The TF-IDF row is a lexical calibration baseline.",
        "",
        "| pooling | " + " | ".join(tasks) + " | avg |",
        "|---|" + "---:|" * (len(tasks) + 1),
    ]
    for p in poolings:
        cells, avgs = [], {m: [] for m in METHODS}
        for t in tasks:
            r = by.get((p, t))
            if r is None:
                cells.append("-")
                continue
            a, b, c = (r[m]["spearman"]["mean"] for m in METHODS)
            for m, v in zip(METHODS, (a, b, c), strict=False):
                avgs[m].append(v)
            cells.append(f"{_f(a)} / {_f(b)} / " + (f"**{_f(c)}**" if r["simcse_beats_whitening"] else _f(c)))
        avg = [float(np.mean(avgs[m])) if avgs[m] else float("nan") for m in METHODS]
        avg_c = f"**{_f(avg[2])}**" if avg[2] > avg[1] else _f(avg[2])
        lines.append(f"| {p} | " + " | ".join(cells) + f" | {_f(avg[0])} / {_f(avg[1])} / {avg_c} |")
    tf = [by.get((TFIDF, t)) for t in tasks]
    if any(tf):
        vals = [r[TFIDF]["spearman"]["mean"] for r in tf if r]
        lines.append(
            f"| {TFIDF_LABEL} | "
            + " | ".join(_f(r[TFIDF]["spearman"]["mean"]) if r else "-" for r in tf)
            + f" | {_f(float(np.mean(vals)))} |"
        )
    return lines


def _seed_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Mean ± std over seeds per (pooling, task), with alignment and uniformity."""
    lines = [
        "",
        "## Mean ± std over seeds",
        "",
        "| pooling | task | raw | whitening | SimCSE | SimCSE > whitening | SimCSE > raw | "
        "alignment raw → SimCSE | uniformity raw → SimCSE |",
        "|---|---|---:|---:|---:|:---:|:---:|---:|---:|",
    ]
    for r in rows:
        if r["pooling"] == TFIDF:
            continue
        lines.append(
            f"| {r['pooling']} | {r['task']} | {_pm(r['raw']['spearman'])} | "
            f"{_pm(r['whitening']['spearman'])} | "
            f"{_pm(r['simcse']['spearman'])} | {'yes' if r['simcse_beats_whitening'] else 'no'} | "
            f"{'yes' if r['simcse_beats_raw'] else 'no'} | "
            f"{_f(r['raw']['alignment']['mean'], 3)} → {_f(r['simcse']['alignment']['mean'], 3)} | "
            f"{_f(r['raw']['uniformity']['mean'], 3)} → {_f(r['simcse']['uniformity']['mean'], 3)} |"
        )
    for r in rows:
        if r["pooling"] == TFIDF:
            lines.append(f"| {TFIDF_LABEL} | {r['task']} | {_pm(r[TFIDF]['spearman'])} | | | | | | |")
    return lines


def _csv_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        for m in (TFIDF,) if r["pooling"] == TFIDF else METHODS:
            s = r[m]
            out.append(
                {
                    "pooling": r["pooling"],
                    "task": r["task"],
                    "method": m,
                    "spearman_mean": s["spearman"]["mean"],
                    "spearman_std": s["spearman"]["std"],
                    "n_seeds": s["spearman"]["n"],
                    "spearman_values": " ".join(f"{v:.4f}" for v in s["spearman"]["values"]),
                    "alignment_mean": s["alignment"]["mean"],
                    "uniformity_mean": s["uniformity"]["mean"],
                    "simcse_beats_whitening": r.get("simcse_beats_whitening", ""),
                }
            )
    return out


def write_reports(
    output: str,
    rows: Sequence[dict[str, Any]],
    cells: Sequence[dict[str, Any]],
    prov: dict[str, Any],
    stem: str = "table",
    title: str = "Seed table",
) -> list[str]:
    """Write the seed table's ``<stem>.md``, ``<stem>.csv`` and ``<stem>.json``."""
    return write_result_files(
        output,
        stem,
        to_markdown(rows, prov, title=title),
        _csv_rows(rows),
        prov,
        {"summary": list(rows), "cells": list(cells)},
    )


def write_result_files(
    output: str,
    stem: str,
    markdown: str,
    csv_rows: Sequence[dict[str, Any]],
    prov: dict[str, Any],
    payload: dict[str, Any],
) -> list[str]:
    """Write ``<stem>.md``, ``<stem>.csv`` (provenance as leading ``#`` lines) and ``<stem>.json``
    (``{"provenance": prov, **payload}``): the three files of every simsent results folder."""
    from simsent._io import write_json, write_text

    os.makedirs(output, exist_ok=True)
    md = os.path.join(output, f"{stem}.md")
    write_text(md, markdown)
    buf = io.StringIO()
    buf.write(f"# command: {prov['command']}\n")
    buf.write(f"# config: {json.dumps(prov['config'], ensure_ascii=False)}\n")
    buf.write(f"# versions: {json.dumps(prov['versions'])}\n")
    buf.write(f"# data_files: {json.dumps(prov['data_files'])}\n")
    writer = csv.DictWriter(buf, fieldnames=list(csv_rows[0]) if csv_rows else ["empty"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows)
    path_csv = os.path.join(output, f"{stem}.csv")
    write_text(path_csv, buf.getvalue())
    path_json = os.path.join(output, f"{stem}.json")
    write_json(path_json, {"provenance": prov, **payload})
    return [md, path_csv, path_json]


# ---------------------------------------------------------------------------------------------- sweep
def summarize_sweep(cells: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (task, objective, size, epochs): Spearman mean ± std over seeds (``raw``: size 0)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for c in cells:
        groups.setdefault((c["task"], c["objective"], c["size"], c["epochs"]), []).append(c)
    rows = []
    for (task, objective, size, epochs), mine in groups.items():
        rows.append(
            {
                "task": task,
                "objective": objective,
                "size": size,
                "epochs": epochs,
                "seeds": sorted(c["seed"] for c in mine),
                "spearman": _stats([c["metrics"]["spearman"] for c in mine]),
                "undefined": sorted({c["metrics"].get("undefined") for c in mine} - {None}),
                "train_rows": max(c.get("train_rows", 0) for c in mine),
                "seconds": float(np.mean([c.get("seconds", 0.0) for c in mine])),
            }
        )
    rows.sort(key=lambda r: (r["task"], r["objective"] != "raw", r["objective"], r["size"], r["epochs"]))
    return rows


def sweep_markdown(rows: Sequence[dict[str, Any]], prov: dict[str, Any], plots: Sequence[str]) -> str:
    """The sweep's results page: settings, one size x epochs table per (task, objective), the plots."""
    cfg = prov["config"]
    lines = ["# Sweep: Spearman x 100 by training size and epochs", ""]
    lines += [
        f"- model: `{cfg.get('model')}`, pooling: {cfg.get('pooling') or 'the model default'}",
        f"- protocol: **{cfg.get('protocol')}** — {cfg.get('protocol_description', '')}",
        f"- seeds: {', '.join(map(str, cfg.get('seed_list', [])))} (mean ± sample std over seeds; every "
        "cell trains from the same starting weights on the first N sentences / pairs of its seed's order)",
        f"- training: N in even batches of at most {cfg.get('batch_size')}, lr {cfg.get('lr')}, dropout "
        f"{cfg.get('dropout') if cfg.get('dropout') is not None else 'model default'}, temperature "
        f"{cfg.get('temperature')}, SimCSE variant {cfg.get('simcse_variant')}, max_len {cfg.get('max_len')}",
        f"- evaluation split: {cfg.get('eval_split_used')}; extra text: {cfg.get('extra_text') or 'none'}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in prov["versions"].items()),
        f"- command: `{prov['command']}`",
    ]
    if prov.get("run_seconds") is not None:
        lines.append(
            f"- run time: {prov['run_seconds'] / 60:.1f} min ({prov.get('cells_run', 0)} cells run, "
            f"{prov.get('cells_resumed', 0)} resumed from the state file)"
        )
    for note in cfg.get("notes", []):
        lines.append(f"- note: {note}")
    lines.append(f"- created: {prov['created']}")
    for task in dict.fromkeys(r["task"] for r in rows):
        raw = [r for r in rows if r["task"] == task and r["objective"] == "raw"]
        lines += ["", f"## {task}", ""]
        if raw:
            lines.append(f"Untrained model (raw): **{_pm(raw[0]['spearman'])}**")
        for objective in dict.fromkeys(r["objective"] for r in rows if r["task"] == task):
            if objective == "raw":
                continue
            mine = [r for r in rows if r["task"] == task and r["objective"] == objective]
            epochs = sorted({r["epochs"] for r in mine})
            by = {(r["size"], r["epochs"]): r for r in mine}
            unit = "sentences" if objective == "simcse" else "labelled pairs"
            lines += [
                "",
                f"### {objective} (rows: N {unit}; columns: epochs)",
                "",
                "| N | " + " | ".join(f"{e} ep" for e in epochs) + " |",
                "|---:|" + "---:|" * len(epochs),
            ]
            for n in sorted({r["size"] for r in mine}):
                cells = [_pm(by[(n, e)]["spearman"]) if (n, e) in by else "-" for e in epochs]
                lines.append(f"| {n} | " + " | ".join(cells) + " |")
            lines += _dash_notes(mine, by, epochs)
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{os.path.basename(p)}]({os.path.basename(p)})" for p in plots]
    lines += ["", "## Data files", "", "| file | sha256 |", "|---|---|"]
    lines += [f"| {p} | `{h}` |" for p, h in prov["data_files"].items()]
    return "\n".join(lines) + "\n"


def _dash_notes(
    mine: Sequence[dict[str, Any]], by: dict[tuple, dict[str, Any]], epochs: Sequence[int]
) -> list[str]:
    """Why a cell of a sweep table shows ``-``: its Spearman is undefined (with the evaluator's reason), or it
    was not run (the time budget ended first)."""
    notes = [
        f"- `-` at N={r['size']}, {r['epochs']} ep: Spearman undefined "
        f"({'; '.join(r.get('undefined', [])) or 'no value'})"
        for r in mine if r["spearman"]["n"] == 0
    ]
    sizes = sorted({r["size"] for r in mine})
    if any((n, e) not in by for n in sizes for e in epochs):
        notes.append("- `-` where a cell is missing: not run (the time budget ended first; rerun to resume)")
    return ["", *notes] if notes else []


def sweep_csv_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "task": r["task"],
            "objective": r["objective"],
            "size": r["size"],
            "epochs": r["epochs"],
            "spearman_mean": r["spearman"]["mean"],
            "spearman_std": r["spearman"]["std"],
            "n_seeds": r["spearman"]["n"],
            "spearman_values": " ".join(f"{v:.4f}" for v in r["spearman"]["values"]),
            "mean_cell_seconds": round(r["seconds"], 2),
        }
        for r in rows
    ]


# ---------------------------------------------------------------------------------------------- fit
def _ci(r: dict[str, Any]) -> str:
    lo, hi = r.get("report_ci") or (float("nan"), float("nan"))
    return f"{_f(lo)} – {_f(hi)}"


def _split_phrase(sizes: dict[str, Any]) -> str:
    """How fit split the labelled pairs (results written before cross-fitting have no description)."""
    return sizes.get("description") or (
        f"{sizes.get('train', 0)} train (supervised only), {sizes.get('selection')} selection, "
        f"{sizes.get('report')} report"
    )


def leaderboard_markdown(
    board: Sequence[dict[str, Any]], winner: dict[str, Any], prov: dict[str, Any]
) -> str:
    """fit's results page: the winner with its honest report score, every candidate, the protocol."""
    from simsent.experiments.choice import choice_sentence, hurts_sentence

    cfg = prov["config"]
    sizes = cfg.get("split_sizes", {})
    label, items = cfg.get("metric_label", "Spearman"), cfg.get("items", "pairs")
    lines = [
        "# simsent fit: leaderboard",
        "",
        f"**Winner: {winner['recipe']}, pooling {winner['pooling']}** — chosen on the selection part "
        f"({label} {_f(winner['selection'])}); on the held-out report part it scores "
        f"**{_f(winner['report'])}** (95% bootstrap interval {_ci(winner)}). Quote the report figure: the "
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


def _board_table(board: Sequence[dict[str, Any]], winner: dict[str, Any], label: str) -> list[str]:
    """The leaderboard table; with retrieval figures, the report part's Recall@1/5 and nDCG@10 too."""
    extra = ("recall@1", "recall@5", "ndcg@10") if any(r.get("report_figures") for r in board) else ()
    names = "".join(f" report {k.replace('recall', 'R')} |" for k in extra)
    lines = [
        f"| rank | recipe | pooling | selection {label} | beats start | report | report 95% CI |{names} "
        "family time (s) |",
        "|---:|---|---|---:|---:|---:|---|" + "---:|" * len(extra) + "---:|",
    ]
    for i, r in enumerate(board, 1):
        mark = " **(winner)**" if r is winner else ""
        figures = "".join(f" {_f((r.get('report_figures') or {}).get(k, math.nan))} |" for k in extra)
        lines.append(
            f"| {i} | {r['recipe']}{mark} | {r['pooling']} | {_f(r['selection'])} | "
            f"{_share(r.get('beats_start'))} | {_f(r['report'])} | {_ci(r)} |{figures} "
            f"{r.get('seconds', 0.0):.0f} |"
        )
    return lines


def _refit_lines(winner: dict[str, Any]) -> list[str]:
    """The retrained winner's figure (``--refit``), when fit saved one: it is the one to quote."""
    refit = winner.get("refit")
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


def leaderboard_csv_rows(board: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "rank": i,
            "recipe": r["recipe"],
            "family": r["family"],
            "pooling": r["pooling"],
            "whiten_dim": "" if r["whiten_dim"] is None else r["whiten_dim"],
            "selection_spearman": r["selection"],
            "beats_start": r.get("beats_start"),
            "report_spearman": r["report"],
            "report_ci_low": (r.get("report_ci") or [None, None])[0],
            "report_ci_high": (r.get("report_ci") or [None, None])[1],
            "family_seconds": round(r.get("seconds", 0.0), 2),
            **({"audit_spearman": r["audit"]} if "audit" in r else {}),
        }
        for i, r in enumerate(board, 1)
    ]
