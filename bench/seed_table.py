"""Seed table benchmark: raw / whitening / SimCSE on the five Chinese tasks from one start model.

Runs :func:`simsent.experiments.runner.run_table` (the same code as ``simsent bench table``) with
the inductive protocol on the valid splits (each split by seed into a train half, text only, and
an eval half; STS-B trains on STS-B.train.data), CPU-sized caps, and writes the Markdown to
``results/seed_table.md`` (the full Markdown/CSV/JSON and the resume state stay in ``--output``).

Example:
    $ flock /tmp/simsent-cpu.lock python bench/seed_table.py                 # ~15-25 min on 2 idle cores
    $ python bench/seed_table.py --seeds 1 --tasks STS-B --max-train-samples 256   # quick look
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import shutil
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="Default: the packaged all-MiniLM-L6-v2.")
    parser.add_argument("--data-dir", default="../shared/data/senteval_cn")
    parser.add_argument("--poolings", default="cls,first_last_avg")
    parser.add_argument("--tasks", default="ATEC,BQ,LCQMC,PAWSX,STS-B")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--protocol", default="inductive", choices=["inductive", "transductive"])
    parser.add_argument("--max-train-samples", type=int, default=512, help="SimCSE sentences per run.")
    parser.add_argument("--max-eval-pairs", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-5)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--max-len", type=int, default=64)
    parser.add_argument("--output", default="runs/seed_table", help="Full reports and the resume state.")
    parser.add_argument("--results", default="results/seed_table.md", help="Where the Markdown is copied.")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--estimate-only", action="store_true")
    args = parser.parse_args()

    import torch

    from simsent.experiments.table.config import TableConfig
    from simsent.experiments.table.study import run_table

    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from _common import model_label, start_model

    label = model_label(args.model)
    model = start_model(args.model)
    cfg = TableConfig(
        model=model,
        output=args.output,
        poolings=[p for p in args.poolings.split(",") if p],
        tasks=args.tasks,
        seeds=args.seeds,
        data_dir=args.data_dir,
        protocol=args.protocol,
        batch_size=args.batch_size,
        lr=args.lr,
        dropout=args.dropout,
        epochs=1,
        max_len=args.max_len,
        max_train_samples=args.max_train_samples,
        max_eval_pairs=args.max_eval_pairs,
    )
    argv = "python " + " ".join(shlex.quote(a) for a in sys.argv) + f"  (torch threads {args.threads})"
    start = time.perf_counter()
    result = run_table(
        cfg,
        argv=argv,
        estimate_only=args.estimate_only,
        echo=lambda s: print(s, flush=True),
        title=f"Seed table, start model {label}",
    )
    if result is None:
        return
    os.makedirs(os.path.dirname(args.results) or ".", exist_ok=True)
    shutil.copyfile(result["files"][0], args.results)
    print(result["markdown"])
    print(
        f"wall time {(time.perf_counter() - start) / 60:.1f} min; wrote {args.results}, {result['files']}"
    )


if __name__ == "__main__":
    main()
