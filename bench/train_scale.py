"""Cached contrastive steps (``--cache-chunk``): peak memory and speed of one SimCSE step vs batch size.

Each configuration runs in a fresh process (so its peak RSS is its own): the model is loaded, its RSS
noted, then one unsupervised SimCSE step is trained on ``batch`` distinct sentences (plain, or cached in
chunks of ``--chunk`` rows). Reported: peak RSS of the process, the step's growth over the loaded
model, and sentences per second of the step (tokenising included, as the Trainer counts it).

Targets (issue "training past one device"): cached peak memory at batch 4,096 within 1.5x of batch 64;
cached time per sentence within 1.5x of the plain step wherever the plain step fits.

    python bench/train_scale.py --data-dir ../shared/data/senteval_cn --output results/train_scale.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time

from _common import data_hashes_line, shared_texts, start_model


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_run(args: argparse.Namespace) -> None:
    """Train one step in this process and print a JSON line with its figures."""
    import torch

    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    torch.set_num_threads(args.threads)
    texts, _ = shared_texts(args.data_dir, ("train",))
    texts = texts[: args.one]
    model = SentenceEncoder.from_pretrained(args.model, pooling="mean", max_len=args.max_len)
    model.encode(texts[:8])
    loaded = _rss_mib()
    with tempfile.TemporaryDirectory() as out:
        targs = TrainingArguments(
            output_dir=out,
            batch_size=args.one,
            epochs=1,
            eval_steps=0,
            checkpoints=False,
            show_progress_bar=False,
            device="cpu",
            cache_chunk=args.cache_chunk or None,
            seed=args.seed,
        )
        start = time.perf_counter()
        result = Trainer(model, targs, texts).train()
        seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "batch": args.one,
                "cache_chunk": args.cache_chunk,
                "steps": result["global_step"],
                "loaded_mib": round(loaded, 1),
                "peak_mib": round(_rss_mib(), 1),
                "train_seconds": round(result["train_seconds"], 2),
                "wall_seconds": round(seconds, 2),
                "sentences_per_second": round(args.one / result["train_seconds"], 2),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--model", default=None, help="default: the bundled all-MiniLM-L6-v2")
    ap.add_argument("--batches", default="64,256,1024,4096")
    ap.add_argument("--plain-up-to", type=int, default=1024, help="largest batch also run without caching")
    ap.add_argument("--chunk", type=int, default=64, help="rows per cached chunk")
    ap.add_argument("--max-len", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--output", default="results/train_scale.md")
    ap.add_argument("--one", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--cache-chunk", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.model = start_model(args.model)
    if args.one:
        one_run(args)
        return
    rows = []
    for batch in (int(b) for b in args.batches.split(",")):
        for chunk in ([0] if batch <= args.plain_up_to else []) + [args.chunk]:
            cmd = [sys.executable, __file__, "--one", str(batch), "--cache-chunk", str(chunk), *sys.argv[1:]]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    write(args, rows)


def write(args: argparse.Namespace, rows: list[dict]) -> None:
    import torch

    from simsent import __version__

    _, files = shared_texts(args.data_dir, ("train",))
    base = next(r for r in rows if r["batch"] == min(x["batch"] for x in rows) and r["cache_chunk"])
    lines = [
        "# Cached contrastive steps: memory and speed vs batch size (CPU)",
        "",
        f"- command: `python bench/train_scale.py {shlex.join(sys.argv[1:])}`",
        f"- model: `{args.model}` (all-MiniLM-L6-v2), mean pooling, max_len {args.max_len}, one unsupervised "
        f"SimCSE step on `batch` distinct STS-B train sentences (2 x batch rows through the encoder), seed "
        f"{args.seed}, {args.threads} threads; each configuration in a fresh process, run alone on the "
        "machine",
        f"- simsent {__version__}, torch {torch.__version__}, Python {platform.python_version()}, "
        f"{platform.platform()}",
        data_hashes_line(files, args.data_dir),
        "",
        "| batch | step | peak RSS MiB | growth over the loaded model MiB | sentences/s | "
        f"peak vs cached batch {base['batch']} |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        kind = f"cached ({r['cache_chunk']}-row chunks)" if r["cache_chunk"] else "plain"
        lines.append(
            f"| {r['batch']} | {kind} | {r['peak_mib']:.0f} | {r['peak_mib'] - r['loaded_mib']:.0f} | "
            f"{r['sentences_per_second']:.1f} | {r['peak_mib'] / base['peak_mib']:.2f}x |"
        )
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.splitext(args.output)[0] + ".json", "w", encoding="utf-8") as f:
        json.dump({"argv": sys.argv, "rows": rows}, f, indent=1)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
