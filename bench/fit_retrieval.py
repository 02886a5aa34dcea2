"""Does ``simsent fit`` on FAQ queries hand back a model that finds more of never-seen queries' answers?

For each task with 0/1 labels (ATEC, BQ, LCQMC, PAWSX), the valid split becomes FAQ retrieval: in a
seeded order of its pairs, each positive pair gives a query (``sentence1``) whose answer is its partner
(``sentence2``); the negative pairs of a query are its negatives (so CoSENT can run). The first
``--fit-queries`` queries go to ``fit``; later queries that share no text with them are never-seen (at
most ``--unseen-queries``). The corpus holds every answer and every query text of both groups (a query
never finds its own text) plus seeded other sentences of the split, ``--corpus-size`` texts in all.
fit scores every candidate on the never-seen queries (its audit part, never used to choose); the tables
compare fit's saved model with the start model on them, and each sureness rule's pick.

    python bench/fit_retrieval.py --model ../shared/models/e5-small-ml-zh \
        --data-dir ../shared/data/senteval_cn
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import choice_rules_table, data_hashes_line, model_label, write_report  # noqa: E402

TASKS = ("ATEC", "BQ", "LCQMC", "PAWSX")


def faq_of_task(task: str, data_dir: str, fit_queries: int, unseen_queries: int, corpus_size: int,
                seed: int) -> tuple:
    """(fit's query rows, the never-seen query rows, the corpus) of one task (see the module docstring)."""
    from simsent.data.retrieval import faq_rows, queries_from_pairs
    from simsent.data.tasks import load_task, positive_threshold
    from simsent.experiments.protocol import seeded_order

    pairs = seeded_order(load_task(task, "valid", data_dir), seed)
    rows, _, _ = faq_rows(queries_from_pairs(pairs, positive_threshold(task)), source=task)
    given = rows[:fit_queries] if len(rows) > fit_queries + 100 else rows[: 2 * len(rows) // 3]
    seen = {t for r in given for t in (r.query, *r.positives, *r.negatives)}
    unseen = [r for r in rows[len(given):] if r.query not in seen][:unseen_queries]
    core = list(dict.fromkeys(t for r in given + unseen for t in (r.query, *r.positives)))
    in_core = set(core)
    others = [s for p in pairs for s in (p["sentence1"], p["sentence2"]) if s not in in_core]
    corpus = core + list(dict.fromkeys(others))[: max(0, corpus_size - len(core))]
    return given, unseen, corpus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data/senteval_cn")
    ap.add_argument("--model", required=True)
    ap.add_argument("--tasks", default="PAWSX,LCQMC,BQ,ATEC")
    ap.add_argument("--fit-queries", type=int, default=1000)
    ap.add_argument("--unseen-queries", type=int, default=500)
    ap.add_argument("--corpus-size", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--choice-rule", default="max-stat")
    ap.add_argument("--work", default="/tmp/simsent-fit-retrieval")
    ap.add_argument("--output", default="results/fit_retrieval_e5.md")
    ap.add_argument("--company", default="none", help="other jobs on the machine during the run")
    ap.add_argument("--recipes", default=None, help="fit's candidate families (default: fit's own)")
    ap.add_argument("--reranker-model", default=None,
                    help="fit's reranker starts from this model (default: --model with a new head)")
    a = ap.parse_args()
    from simsent.data.tasks import task_file
    from simsent.experiments.fit.config import RETRIEVAL_FIT_RECIPES

    DEFAULT_RECIPES = ", ".join(RETRIEVAL_FIT_RECIPES)  # noqa: N806
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import FaqDev, run_fit
    from simsent.experiments.provenance import versions

    t0 = time.perf_counter()
    per_task, files = {}, []
    for task in a.tasks.split(","):
        given, unseen, corpus = faq_of_task(task, a.data_dir, a.fit_queries, a.unseen_queries, a.corpus_size,
                                            a.seed)
        files.append(task_file(a.data_dir, task, "valid"))
        out = os.path.join(a.work, task)  # kept until the task is done: a rerun resumes fit's finished cells
        print(f"== {task}: {len(given)} queries for fit, {len(unseen)} never-seen, corpus {len(corpus)}",
              flush=True)
        recipes = {"recipes": a.recipes.split(",")} if a.recipes else {}
        cfg = FitConfig(model=a.model, output=out, seed=a.seed, choice_rule=a.choice_rule,
                        reranker_model=a.reranker_model, sources={"task": task}, **recipes)
        dev = FaqDev.of(given, corpus, task)
        result = run_fit(cfg, [], dev, argv="python " + " ".join(sys.argv), data_files=[files[-1]],
                         audit_pairs=unseen)
        result["sizes"] = (len(given), len(unseen), len(corpus))
        result["gain_ci"] = _paired_gain(a.model, out, result, unseen, dev.corpus, a.seed)
        per_task[task] = result
        keep = os.path.join(os.path.splitext(a.output)[0], task)
        os.makedirs(keep, exist_ok=True)
        for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.png"):
            shutil.copy(os.path.join(out, name), os.path.join(keep, name))
        shutil.rmtree(out, ignore_errors=True)
    lines = [
        f"# simsent fit on FAQ queries (start model {model_label(a.model)}, {', '.join(per_task)})",
        "",
        f"- command: `python {' '.join(sys.argv)}` ({(time.perf_counter() - t0) / 60:.1f} min)",
        f"- protocol: per task, FAQ retrieval from the valid split (seed {a.seed}): {a.fit_queries} queries "
        "for fit where the task has them (else two thirds), split by fit into train 40% / selection 30% / "
        "report 30%; never-seen queries share no text with fit's; corpus: every answer and query text, plus "
        f"other sentences of the split, {a.corpus_size} texts in all; a query never finds its own text. fit "
        f"runs with its defaults (no time budget): candidates {a.recipes or DEFAULT_RECIPES}, the "
        "bi-encoders each with whitening k in all/256/128 and merged with the start at a=0.5; chosen on "
        "MRR@10 by the "
        f"{a.choice_rule} rule at confidence 0.9; the winner retrained on train + selection (--refit); "
        "rerank: the best bi-encoder's top 20 re-ordered by a cross-encoder trained on the train part "
        f"(listwise, one mined negative a query) from {model_label(a.reranker_model or a.model)}"
        f"{'' if a.reranker_model else ' with a new head'}, alone and blended with the cosine at 0.5",
        f"- other jobs on the 2-core machine during the run: {a.company}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        data_hashes_line(sorted(set(files)), a.data_dir),
        "",
        *_vs_start(per_task),
        *_candidates(per_task),
        *choice_rules_table(per_task, "MRR@10 x 100"),
    ]
    for task, res in per_task.items():
        lines += [f"- {task}: {note}" for note in res["notes"]]
    boards = os.path.basename(os.path.splitext(a.output)[0])
    lines += ["", f"Leaderboards and charts: [{boards}/]({boards}/)", ""]
    write_report(a.output, lines)


def _paired_gain(model: str, out: str, result: dict, unseen: list, corpus: list, seed: int) -> list[float]:
    """95% paired-bootstrap interval of fit's saved model's MRR@10 minus the start model's on the
    never-seen queries, both encoded again here (the saved folder must reproduce fit's audit figure)."""
    from simsent.data.retrieval import retrieval_data
    from simsent.evaluation.retrieval import RetrievalEvaluator
    from simsent.modeling.sentence_encoder import SentenceEncoder

    board = result["leaderboard"]
    start = board[result["provenance"]["config"]["choice"]["start"]]
    ev = RetrievalEvaluator(retrieval_data(unseen, corpus), batch_size=64)
    saved = _two_stage(out, unseen, corpus) if os.path.isdir(os.path.join(out, "reranker")) else ev.per_query(
        SentenceEncoder.load(out))["mrr@10"]
    raw = ev.per_query(SentenceEncoder.from_pretrained(model, pooling=start["pooling"]))["mrr@10"]
    expected = _saved(result["winner"])["audit"]
    if abs(saved.mean() * 100 - expected) > 0.05:
        raise RuntimeError(f"the saved model scores {saved.mean() * 100:.2f} on never-seen queries, fit said "
                           f"{expected:.2f}")
    diff = saved - raw
    idx = np.random.default_rng(seed).integers(0, len(diff), size=(2000, len(diff)))
    means = diff[idx].mean(axis=1) * 100
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def _two_stage(out: str, unseen: list, corpus: list) -> np.ndarray:
    """Each never-seen query's MRR@10 when fit saved two stages: the bi-encoder's top k re-ordered by the
    reranker in ``out/reranker`` (at the blend fit chose), as fit's judge scored them."""
    from simsent.experiments.fit.judges import RetrievalJudge
    from simsent.modeling.cross_encoder import CrossEncoder
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.load(out)
    stage = model.extra_config["fit"]["reranker"]
    judge = RetrievalJudge(corpus, "mrr@10")
    evidence, _, _ = judge.reranked(judge.encode(model, [unseen]), 0, unseen,
                                    CrossEncoder.load(os.path.join(out, "reranker")), stage["top_k"],
                                    blend=stage.get("blend", 0.0))
    return evidence


def _saved(winner: dict) -> dict:
    return winner.get("refit") or winner


def _vs_start(per_task: dict) -> list[str]:
    """fit's saved model against the start model on never-seen queries: MRR@10 and Recall@1."""
    lines = [
        "## fit's saved model vs the start model, on never-seen queries",
        "",
        "| task | queries fit / never-seen / corpus | fit's choice | MRR@10 start | MRR@10 fit | "
        "gain [95% CI] | R@1 start | R@1 fit |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    gains, r1 = [], []
    for task, res in per_task.items():
        board, w = res["leaderboard"], res["winner"]
        choice = res["provenance"]["config"]["choice"]
        start = board[choice["start"]]
        saved = _saved(w)
        gain = saved["audit"] - start["audit"]
        gains.append(gain)
        s_r1, f_r1 = start["audit_figures"]["recall@1"], saved["audit_figures"]["recall@1"]
        r1.append(f_r1 - s_r1)
        lo, hi = res["gain_ci"]
        lines.append(f"| {task} | {' / '.join(map(str, res['sizes']))} | {w['recipe']} | "
                     f"{start['audit']:.2f} | {saved['audit']:.2f} | {gain:+.2f} [{lo:+.2f}, {hi:+.2f}] | "
                     f"{s_r1:.2f} | {f_r1:.2f} |")
    return [*lines, "", f"Mean gain on never-seen queries: MRR@10 **{np.mean(gains):+.2f}** (worst "
            f"{min(gains):+.2f}), Recall@1 **{np.mean(r1):+.2f}** (worst {min(r1):+.2f}).", ""]


def _candidates(per_task: dict) -> list[str]:
    """Every candidate's selection and never-seen MRR@10, per task (the start model first)."""
    lines = ["## Every candidate (MRR@10 x 100: selection part / never-seen queries)", ""]
    for task, res in per_task.items():
        board = res["leaderboard"]
        choice = res["provenance"]["config"]["choice"]
        start = board[choice["start"]]
        lines += [f"### {task}", "", "| candidate | selection | beats start | never-seen | "
                  "never-seen - start | never-seen R@1 |", "|---|---:|---:|---:|---:|---:|"]
        for r in board:
            share = r.get("beats_start")
            share_txt = "-" if share is None or share != share else f"{100 * share:.0f}%"
            mark = " **(fit)**" if r is res["winner"] else ""
            lines.append(f"| {r['recipe']} / {r['pooling']}{mark} | {r['selection']:.2f} | {share_txt} | "
                         f"{r['audit']:.2f} | {r['audit'] - start['audit']:+.2f} | "
                         f"{r['audit_figures']['recall@1']:.2f} |")
        lines.append("")
    return lines


if __name__ == "__main__":
    main()
