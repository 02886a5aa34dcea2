"""The sweep's summary: mean ± std Spearman per (task, objective, size, epochs), as Markdown and CSV.

Example:
    >>> rows = summarize_sweep(cells)                                    # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from simsent.experiments.report import _pm, _stats


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
