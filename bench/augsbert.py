"""Augmented SBERT against CoSENT on the same gold pairs: does a reranker's silver labelling of unlabelled
text teach the bi-encoder more than the gold pairs alone? Five tasks, pairs and retrieval.

Per task (valid split, seed 42): 1,000 seeded pairs are the gold (labelled) pairs; up to 2,000 of the
rest are never seen, and score every model on pairs (Spearman x 100 of cosine) and on retrieval built from
their positive pairs (each positive pair's first sentence searches every distinct sentence of the
never-seen pairs; Recall@1, MRR@10). Unlabelled text: the split's sentences that occur in no never-seen
pair (up to 4,000). Models, all through fit's own code (``experiments.fit.cells.train_family``, mean
pooling): the start model (raw); ``cosent`` on the gold pairs (fit's recipe: lr 2e-5, 4 epochs, batch 32);
``augsbert``: a reranker trained on the gold pairs (fit's ``rerank`` recipe: binary cross-entropy, 3
epochs, batch 16, lr 5e-5), 2,000 silver pairs drawn from the unlabelled text (each sampled text with its
3 nearest neighbours by the start model and a random partner) and scored by it, then CoSENT on gold +
silver with the same recipe. The reranker's own Spearman on the never-seen pairs is in the table too.

    python bench/augsbert.py --model ../shared/models/e5-small-ml-zh --data-dir ../shared/data/senteval_cn
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import data_hashes_line, model_label, write_report  # noqa: E402

TASKS = ("ATEC", "BQ", "LCQMC", "PAWSX", "STS-B")


def _scores(model, unseen: list, task: str) -> dict[str, float]:
    """Spearman on the never-seen pairs and retrieval over their positive pairs (x 100)."""
    from simsent.data.tasks import positive_threshold
    from simsent.evaluation.retrieval import RetrievalEvaluator
    from simsent.evaluation.sts import STSEvaluator

    out = {"spearman": STSEvaluator(unseen, batch_size=64)(model)["spearman"]}
    figures = RetrievalEvaluator.from_pairs(unseen, positive_threshold(task), batch_size=64)(model)
    return {**out, "recall@1": figures["recall@1"], "mrr@10": figures["mrr@10"]}


def _reranker_spearman(reranker, unseen: list) -> float:
    from simsent.evaluation.sts import correlation_metrics

    scores = reranker.predict([(r["sentence1"], r["sentence2"]) for r in unseen], batch_size=64)
    return correlation_metrics(np.asarray(scores), [r["score"] for r in unseen])["spearman"]


def run_task(task: str, a: argparse.Namespace) -> dict:
    from simsent.data.sampling import seeded_subset
    from simsent.data.tasks import load_task
    from simsent.experiments.fit.cells import train_family
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.judges import PairJudge
    from simsent.experiments.fit.silver import augsbert_rows
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.seed import set_seed

    rows = load_task(task, "valid", a.data_dir)
    order = list(range(len(rows)))
    random.Random(a.seed).shuffle(order)
    gold = [rows[i] for i in order[: a.gold_pairs]]
    unseen = [rows[i] for i in order[a.gold_pairs : a.gold_pairs + a.unseen_pairs]]
    held = {t for r in unseen for t in (r["sentence1"], r["sentence2"])}
    texts = seeded_subset([t for t in dict.fromkeys(t for r in rows for t in (r["sentence1"], r["sentence2"]))
                           if t not in held], a.max_texts, a.seed)
    cfg = FitConfig(model=a.model, output="-", seed=a.seed, silver_pairs=a.silver_pairs, max_len=a.max_len)
    judge = PairJudge(batch_size=64)
    res = {"sizes": (len(gold), len(unseen), len(texts))}
    res["raw"] = _scores(SentenceEncoder.from_pretrained(a.model, pooling="mean", max_len=a.max_len), unseen,
                         task)
    for family in ("cosent", "augsbert"):
        t0 = time.perf_counter()
        silver = None
        if family == "augsbert":  # its rows and reranker built once, as fit builds them
            set_seed(cfg.seed)
            start = SentenceEncoder.from_pretrained(a.model, pooling="mean", max_len=a.max_len)
            start.eval()
            silver, reranker = augsbert_rows(cfg, judge, gold, texts, start)
        model, steps, _ = train_family(cfg, family, "mean", texts, gold, judge, rows=silver)
        res[family] = {**_scores(model, unseen, task), "seconds": time.perf_counter() - t0, "steps": steps}
    res["silver"] = len(silver) - len(gold)
    res["silver_mean"] = float(np.mean([r["score"] for r in silver[len(gold):]]))
    res["reranker_spearman"] = _reranker_spearman(reranker, unseen)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data/senteval_cn")
    ap.add_argument("--model", required=True)
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--gold-pairs", type=int, default=1000)
    ap.add_argument("--unseen-pairs", type=int, default=2000)
    ap.add_argument("--max-texts", type=int, default=4000)
    ap.add_argument("--silver-pairs", type=int, default=2000)
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--output", default="results/augsbert_e5.md")
    ap.add_argument("--company", default="none")
    a = ap.parse_args()
    t0 = time.perf_counter()
    per_task = {}
    for task in a.tasks.split(","):
        per_task[task] = run_task(task, a)
        print(task, per_task[task], flush=True)
        _report(a, per_task, t0)


def _report(a: argparse.Namespace, per_task: dict, t0: float) -> None:
    import torch

    from simsent.data.tasks import task_file
    from simsent.experiments.provenance import versions

    files = [task_file(a.data_dir, t, "valid") for t in per_task]
    lines = [
        f"# Augmented SBERT against CoSENT on the same gold pairs (start model {model_label(a.model)})", "",
        f"- command: `python {' '.join(sys.argv)}` ({(time.perf_counter() - t0) / 60:.1f} min, "
        f"{torch.get_num_threads()} torch threads; tasks finished: {', '.join(per_task)})",
        f"- protocol: bench/augsbert.py's docstring; {a.gold_pairs} gold pairs, up to {a.unseen_pairs} "
        f"never-seen pairs, {a.silver_pairs} silver pairs asked for, max {a.max_len} tokens, seed {a.seed}",
        f"- other jobs on the 2-core machine during the run: {a.company}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        data_hashes_line(sorted(set(files)), a.data_dir), "",
        "Never-seen pairs, x 100:", "",
        "| task | gold / never-seen / unlabelled | silver pairs (mean score) | reranker Spearman "
        "| Spearman raw | cosent | augsbert | R@1 raw | cosent | augsbert | MRR@10 raw | cosent | augsbert "
        "| minutes cosent / augsbert |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for task, r in per_task.items():
        g, u, t = r["sizes"]
        cells = " | ".join(f"{r[m][k]:.2f}" for k in ("spearman", "recall@1", "mrr@10")
                           for m in ("raw", "cosent", "augsbert"))
        lines.append(f"| {task} | {g} / {u} / {t} | {r['silver']} ({r['silver_mean']:.2f}) | "
                     f"{r['reranker_spearman']:.2f} | {cells} | {r['cosent']['seconds'] / 60:.1f} / "
                     f"{r['augsbert']['seconds'] / 60:.1f} |")
    if len(per_task) > 1:
        keys = ("spearman", "recall@1", "mrr@10")
        mean = {m: {k: np.mean([r[m][k] for r in per_task.values()]) for k in keys}
                for m in ("raw", "cosent", "augsbert")}
        cells = " | ".join(f"{mean[m][k]:.2f}" for k in ("spearman", "recall@1", "mrr@10")
                           for m in ("raw", "cosent", "augsbert"))
        lines.append(f"| mean | | | | {cells} | |")
    write_report(a.output, lines)


if __name__ == "__main__":
    main()
