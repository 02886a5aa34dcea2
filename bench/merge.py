"""Weight interpolation (WiSE-FT / LM-Cocktail) of a CoSENT fine-tune with its start model, on pairs and
on FAQ retrieval it never saw.

Per task: a seeded order of the valid split's pairs; CoSENT trains on the first ``--train-pairs`` of them
(labelled); the evaluation pairs are the others that share no sentence with the training pairs (at most
``--eval-pairs``). Every model ``(1 - a) * start + a * tuned`` for ``a`` in ``--weights`` is scored on
those pairs (Spearman x100) and, for the binary tasks, on FAQ retrieval built from them (positive pairs
give query -> partner; the corpus is every distinct sentence of the evaluation pairs): Recall@1, MRR@10,
with a 95% paired-bootstrap interval of the difference to the start model over the queries.

    python bench/merge.py --model ../shared/models/e5-small-ml-zh --data-dir ../shared/data/senteval_cn
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_hashes_line, model_label, write_report  # noqa: E402

TASKS = ("ATEC", "BQ", "LCQMC", "PAWSX", "STS-B")
RETRIEVAL_TASKS = ("ATEC", "BQ", "LCQMC", "PAWSX")


def _split(rows: list[dict], train_pairs: int, eval_pairs: int, seed: int) -> tuple[list[dict], list[dict]]:
    from simsent.experiments.protocol import seeded_order, without_sentences

    order = seeded_order(rows, seed)
    train = order[:train_pairs]
    banned = [s for p in train for s in (p["sentence1"], p["sentence2"])]
    _, held_out = without_sentences([], order[train_pairs:], banned)
    return train, held_out[:eval_pairs]


def _cosent(model_path: str, train: list[dict], args: argparse.Namespace, out: str):
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    model = SentenceEncoder.from_pretrained(model_path, max_len=args.max_len, backend="torch")
    targs = TrainingArguments(output_dir=out, objective="cosent", epochs=args.epochs,
                              batch_size=args.batch_size, lr=args.lr, seed=args.seed, eval_steps=0,
                              checkpoints=False, resume=False, show_progress_bar=False)
    start = time.perf_counter()
    Trainer(model, targs, train).train()
    return model, time.perf_counter() - start


def _bootstrap_ci(diff: np.ndarray, seed: int, n: int = 2000) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(n, len(diff)))].mean(axis=1)
    return float(np.percentile(means, 2.5) * 100), float(np.percentile(means, 97.5) * 100)


def _score(model, held_out: list[dict], retrieval) -> dict:
    from simsent.evaluation.sts import STSEvaluator

    out = {"spearman": STSEvaluator(held_out, "held-out")(model)["spearman"]}  # x100 already
    if retrieval is not None:
        out["per_query"] = retrieval.per_query(model)
    return out


def run_task(task: str, args: argparse.Namespace) -> list[dict]:
    from simsent.adapt.merge import merge_models
    from simsent.data.tasks import load_task, positive_threshold
    from simsent.evaluation.retrieval import RetrievalEvaluator
    from simsent.modeling.sentence_encoder import SentenceEncoder

    train, held_out = _split(load_task(task, "valid", args.data_dir), args.train_pairs, args.eval_pairs,
                             args.seed)
    retrieval = None
    if task in RETRIEVAL_TASKS:
        retrieval = RetrievalEvaluator.from_pairs(held_out, positive_threshold(task), name=task)
    start = SentenceEncoder.from_pretrained(args.model, max_len=args.max_len, backend="torch")
    tuned, seconds = _cosent(args.model, train, args, os.path.join(args.work, task))
    rows, base = [], None
    for a in args.weights:
        t0 = time.perf_counter()
        scored = _score(merge_models(start, tuned, a), held_out, retrieval)
        base = base or scored  # the weights start at 0: the start model
        row = {"task": task, "weight": a, "train_pairs": len(train), "eval_pairs": len(held_out),
               "train_seconds": seconds, "spearman": scored["spearman"],
               "eval_seconds": time.perf_counter() - t0}
        if retrieval is not None:
            per, zero = scored["per_query"], base["per_query"]
            row.update({"queries": len(per["mrr@10"]), "corpus": len(retrieval.data.corpus),
                        "recall@1": per["recall@1"].mean() * 100, "mrr@10": per["mrr@10"].mean() * 100,
                        "mrr@10_ci": _bootstrap_ci(per["mrr@10"] - zero["mrr@10"], args.seed)})
        rows.append(row)
        print(row, flush=True)
    return rows


def _table(rows: list[dict]) -> list[str]:
    lines = ["| task | a | Spearman (pairs) | R@1 | MRR@10 | MRR@10 - start (95% CI) |",
             "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        if "mrr@10" in r:
            lo, hi = r["mrr@10_ci"]
            extra = f"{r['recall@1']:.2f} | {r['mrr@10']:.2f} | [{lo:+.2f}, {hi:+.2f}]"
        else:
            extra = "- | - | -"
        lines.append(f"| {r['task']} | {r['weight']:g} | {r['spearman']:.2f} | {extra} |")
    return lines


def _best_weights(rows: list[dict]) -> list[str]:
    lines = ["| task | best a on pairs | best a on MRR@10 |", "|---|---:|---:|"]
    for task in dict.fromkeys(r["task"] for r in rows):
        mine = [r for r in rows if r["task"] == task]
        pairs = max(mine, key=lambda r: r["spearman"])["weight"]
        mrr = max(mine, key=lambda r: r.get("mrr@10", -1))["weight"] if "mrr@10" in mine[0] else "-"
        lines.append(f"| {task} | {pairs:g} | {mrr if mrr == '-' else f'{mrr:g}'} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0])
    ap.add_argument("--train-pairs", type=int, default=1000)
    ap.add_argument("--eval-pairs", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", default="/tmp/simsent-bench-merge")
    ap.add_argument("--company", default="none", help="other jobs on the machine during the run")
    ap.add_argument("--output", default="results/merge_e5.md")
    args = ap.parse_args()
    if args.weights[0] != 0.0:
        ap.error("--weights must start at 0 (the start model, the baseline of the intervals)")
    import torch

    torch.set_num_threads(args.threads)
    from simsent import __version__

    t0 = time.perf_counter()
    rows = [r for task in args.tasks.split(",") for r in run_task(task, args)]
    files = [os.path.join(args.data_dir, t, f"{t}.valid.data") for t in args.tasks.split(",")]
    lines = [
        f"# Weight interpolation of CoSENT with its start model ({model_label(args.model)})", "",
        f"- command: `python bench/merge.py {' '.join(sys.argv[1:])}` "
        f"({(time.perf_counter() - t0) / 60:.1f} min, {args.threads} torch threads; other jobs on the "
        f"machine: {args.company})",
        f"- protocol: per task, a seeded order (seed {args.seed}) of the valid pairs; CoSENT ({args.epochs} "
        f"epoch, batch {args.batch_size}, lr {args.lr}, max_len {args.max_len}) trains on the first "
        f"{args.train_pairs}; "
        f"evaluation on at most {args.eval_pairs} of the others that share no sentence with them. a = 0 is "
        "the start model, a = 1 the CoSENT model, between them (1 - a) * start + a * tuned "
        "(`simsent merge`). Retrieval: positive evaluation pairs give query -> partner, the corpus is every "
        "distinct evaluation sentence, a query never finds itself; the interval is a paired bootstrap over "
        "queries of MRR@10 minus the start model's.",
        f"- versions: simsent {__version__}, torch {torch.__version__}, Python {platform.python_version()}",
        data_hashes_line(files, args.data_dir), "",
        *_table(rows), "", "## Best interpolation weight per task", "", *_best_weights(rows), "",
    ]
    write_report(args.output, lines)


if __name__ == "__main__":
    main()
