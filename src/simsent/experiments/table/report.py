"""The seed table's per-seed cells as mean ± std rows, written as Markdown, CSV and JSON.

A *cell* is one ``(pooling, task, seed)`` run: ``{"pooling", "task", "seed", "raw": metrics,
"whitening": metrics, "simcse": metrics}`` (metrics from :func:`simsent.evaluation.sts.sts_metrics`),
or a TF-IDF cell ``{"pooling": "tfidf", "task", "seed", "tfidf": metrics}``.

Example:
    >>> rows = summarize_cells(cells, poolings=["cls"], tasks=["STS-B"])   # doctest: +SKIP
    >>> write_reports("results/x", rows, cells, prov)                      # doctest: +SKIP
    ['results/x/table.md', 'results/x/table.csv', 'results/x/table.json']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from simsent.experiments.report import _f, _pm, _stats, write_result_files

METHODS = ("raw", "whitening", "simcse")


TFIDF = "tfidf"


TFIDF_LABEL = "TF-IDF char n-gram"


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
