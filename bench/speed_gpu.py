"""GPU speed: simsent vs sentence-transformers on a bert-base-size model, fp32 and bf16.

A 12 x 768 BERT (random init: speed needs no weights) with a character vocabulary built from the
shared task text, max length 64, the same sentences (``--sentences`` of the shared text) in the same
batches on both sides:

* training sentences/s, unsupervised SimCSE: simsent's ``Trainer`` (default settings) vs
  sentence-transformers' own recipe, ``MultipleNegativesRankingLoss`` on (s, s) pairs with
  ``SentenceTransformerTrainer`` (``bf16=True`` for bf16), at batch 64 and 256;
* encode sentences/s: ``SentenceEncoder.encode`` (``precision``) vs ``SentenceTransformer.encode``
  (weights cast to bf16 for bf16);
* model FLOP utilisation: FLOPs of the real (unpadded) tokens over the card's dense peak (bf16 tensor
  cores for bf16; plain fp32 for fp32, TF32 being off by default in PyTorch).

Every configuration runs in its own process, one at a time, the two libraries alternating; each
process warms up first (not timed); the median of ``--repeats`` runs is reported.

    python bench/speed_gpu.py --data-dir ../shared/data/senteval_cn --output results/speed_gpu.md
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

#: dense peak FLOP/s by (GPU name fragment, precision); fp32 is the non-tensor-core rate
PEAKS = {
    ("H100", "bf16"): 989.4e12,
    ("H100", "fp32"): 66.9e12,
    ("H200", "bf16"): 989.4e12,
    ("H200", "fp32"): 66.9e12,
    ("A100", "bf16"): 312e12,
    ("A100", "fp32"): 19.5e12,
}


def build_model(texts: list[str], path: str, seed: int = 0, layers: int = 12, hidden: int = 768) -> str:
    """A random-init BERT (bert-base by default) with a character vocabulary of ``texts``, saved to
    ``path``."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    os.makedirs(path, exist_ok=True)
    chars = sorted({c for t in texts for c in t if not c.isspace()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    with open(os.path.join(path, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    BertTokenizerFast(os.path.join(path, "vocab.txt"), do_lower_case=True).save_pretrained(path)
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // 64),
        intermediate_size=4 * hidden,
        max_position_embeddings=512,
    )
    BertModel(cfg).save_pretrained(path)
    return path


def flops(model_dir: str, texts: list[str], max_len: int, training: bool) -> tuple[float, int]:
    """Model FLOPs of the real tokens of ``texts`` (x2 views when training) and the token count."""
    from transformers import AutoConfig, AutoTokenizer

    cfg = AutoConfig.from_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    lengths = [len(ids) for ids in tok(texts, truncation=True, max_length=max_len)["input_ids"]]
    d, layers, ff = cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size
    per_token = layers * (4 * d * d + 2 * d * ff)  # weights' multiply-adds per token (embeddings aside)
    tokens = sum(lengths)
    fwd = 2 * per_token * tokens + layers * 4 * d * sum(n * n for n in lengths)  # + attention scores
    views = 2 if training else 1
    return views * (3 if training else 1) * fwd, views * tokens


def variant_settings(lib: str, compile_mode: str, pack_tokens: int | None) -> dict:
    """The training settings of a ``--libs`` entry: ``simsent`` takes ``--compile`` / ``--pack-tokens``;
    ``simsent+pack256+compile:reduce-overhead`` (any of the parts) sets its own.

    Example:
        >>> variant_settings("simsent+pack256+compile", "off", None)
        {'compile': 'default', 'pack_tokens': 256}
    """
    out = {"compile": compile_mode, "pack_tokens": pack_tokens}
    for part in lib.split("+")[1:]:
        if part.startswith("pack") and part[4:].isdigit():
            out["pack_tokens"] = int(part[4:]) or None
        elif part == "compile" or part.startswith("compile:"):
            out["compile"] = part.partition(":")[2] or "default"
        else:
            raise SystemExit(f"unknown part {part!r} in --libs entry {lib!r}: use packN or compile[:MODE]")
    return out


def run_one(spec: dict) -> dict:
    """Run one configuration in this process; returns its throughput (sentences/s)."""
    import torch

    torch.manual_seed(0)
    with open(spec["texts_file"], encoding="utf-8") as f:
        texts = json.load(f)
    bs, prec, lib = spec["batch_size"], spec["precision"], spec["lib"]
    if spec["kind"] == "encode":
        if lib.startswith("simsent"):
            from simsent.modeling.sentence_encoder import SentenceEncoder

            model = SentenceEncoder.from_pretrained(spec["model"], pooling="mean", max_len=spec["max_len"])
            model.to(spec["device"]).precision = prec
            enc = lambda xs: model.encode(xs, batch_size=bs)  # noqa: E731
        else:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(spec["model"], device=spec["device"])
            model.max_seq_length = spec["max_len"]
            if prec == "bf16":
                model.to(torch.bfloat16)
            enc = lambda xs: model.encode(xs, batch_size=bs, convert_to_numpy=True)  # noqa: E731
        sync = torch.cuda.synchronize if spec["device"].startswith("cuda") else lambda: None
        enc(texts[: 4 * bs])  # warm-up
        sync()
        t0 = time.perf_counter()
        enc(texts)
        sync()
        return {"sentences_per_second": len(texts) / (time.perf_counter() - t0)}
    order = torch.randperm(len(texts), generator=torch.Generator().manual_seed(spec["seed"])).tolist()
    warm = texts[: 4 * bs]
    with tempfile.TemporaryDirectory() as out:
        if lib.startswith("simsent"):
            from simsent.modeling.sentence_encoder import SentenceEncoder
            from simsent.training.arguments import TrainingArguments
            from simsent.training.trainer import Trainer

            def train(rows, sub):
                model = SentenceEncoder.from_pretrained(
                    spec["model"], pooling="mean", max_len=spec["max_len"], dropout=0.1
                )
                args = TrainingArguments(
                    output_dir=os.path.join(out, sub),
                    batch_size=bs,
                    lr=3e-5,
                    seed=spec["seed"],
                    eval_steps=0,
                    checkpoint_steps=0,
                    resume=False,
                    show_progress_bar=False,
                    logging_steps=10**9,
                    precision=prec,
                    device=spec["device"],
                    torch_compile=spec.get("compile", "off"),
                    pack_tokens=spec.get("pack_tokens"),
                )
                return Trainer(model, args, rows).train()["train_seconds"]
        else:
            from datasets import Dataset
            from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
            from sentence_transformers.losses import MultipleNegativesRankingLoss
            from sentence_transformers.training_args import SentenceTransformerTrainingArguments

            def train(rows, sub):
                model = SentenceTransformer(spec["model"], device=spec["device"])
                model.max_seq_length = spec["max_len"]
                ds = Dataset.from_dict({"anchor": rows, "positive": rows})
                args = SentenceTransformerTrainingArguments(
                    output_dir=os.path.join(out, sub),
                    per_device_train_batch_size=bs,
                    learning_rate=3e-5,
                    num_train_epochs=1,
                    seed=spec["seed"],
                    save_strategy="no",
                    report_to="none",
                    logging_steps=10**9,
                    disable_tqdm=True,
                    dataloader_drop_last=True,
                    bf16=prec == "bf16",
                )
                trainer = SentenceTransformerTrainer(
                    model=model,
                    args=args,
                    train_dataset=ds,
                    loss=MultipleNegativesRankingLoss(model, scale=20.0),
                )
                return trainer.train().metrics["train_runtime"]

        train(warm, "warm")
        seconds = train([texts[i] for i in order], "timed")
    steps = len(texts) // bs
    return {"sentences_per_second": steps * bs / seconds}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/senteval_cn")
    p.add_argument("--sentences", type=int, default=8192)
    p.add_argument("--max-len", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--work", default=None, help="folder for the model and the sentence list")
    p.add_argument("--only", default=None, help="comma-separated kinds to run: train64,train256,encode")
    p.add_argument(
        "--libs",
        default="simsent,sentence-transformers",
        help="columns: sentence-transformers, simsent, and simsent variants such as simsent+pack256 or "
        "simsent+pack256+compile:reduce-overhead (training only; encode runs plain simsent)",
    )
    p.add_argument("--precisions", default="fp32,bf16")
    p.add_argument(
        "--compile",
        default="off",
        help="simsent training with torch.compile: off, default, reduce-overhead or max-autotune (the "
        "warm-up run compiles; the timed run reuses the graphs)",
    )
    p.add_argument(
        "--pack-tokens", type=int, default=None, help="simsent training packed into rows of N tokens"
    )
    p.add_argument("--device", default="cuda", help="cuda (the benchmark) or cpu (a smoke run of the script)")
    p.add_argument("--layers", type=int, default=12, help="BERT layers (12: bert-base)")
    p.add_argument("--hidden", type=int, default=768, help="BERT hidden size (768: bert-base)")
    p.add_argument("--output", default="results/speed_gpu.md")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        print("RESULT " + json.dumps(run_one(json.loads(a.one))), flush=True)
        return
    import random

    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import shared_texts, write_report

    work = a.work or tempfile.mkdtemp(prefix="simsent-speed-gpu-")
    texts, files = shared_texts(a.data_dir)
    rng = random.Random(a.seed)
    sample = rng.sample(texts, a.sentences)
    model_dir = build_model(texts, os.path.join(work, "bert-char"), layers=a.layers, hidden=a.hidden)
    texts_file = os.path.join(work, "sentences.json")
    with open(texts_file, "w", encoding="utf-8") as f:
        json.dump(sample, f, ensure_ascii=False)
    gpu = torch.cuda.get_device_name(0) if a.device.startswith("cuda") else f"none ({a.device} run)"
    kinds = (a.only or "train64,train256,encode").split(",")
    configs = []
    for kind in kinds:
        for prec in a.precisions.split(","):
            if kind == "encode":
                configs.append({"kind": "encode", "batch_size": 256, "precision": prec})
            else:
                configs.append({"kind": "train", "batch_size": int(kind[5:]), "precision": prec})
    libs = a.libs.split(",")
    for lib in libs:
        if lib.startswith("simsent"):
            variant_settings(lib, a.compile, a.pack_tokens)  # a typo fails now, not after an hour
    runs: dict[str, list[float]] = {}
    for cfg in configs:
        # training settings do not change encode: one simsent column there
        cfg_libs = [x for x in libs if "+" not in x] if cfg["kind"] == "encode" else libs
        for r in range(a.repeats):
            for lib in cfg_libs if r % 2 == 0 else cfg_libs[::-1]:
                spec = {
                    **cfg,
                    "lib": lib,
                    "model": model_dir,
                    "texts_file": texts_file,
                    "max_len": a.max_len,
                    "seed": a.seed + r,
                    "device": a.device,
                    **(variant_settings(lib, a.compile, a.pack_tokens) if lib.startswith("simsent") else {}),
                }
                proc = subprocess.run(
                    [sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True, text=True
                )
                line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
                key = f"{cfg['kind']}|{cfg['batch_size']}|{cfg['precision']}|{lib}"
                if proc.returncode or not line:
                    print(f"FAILED {key}: {proc.stderr[-2000:]}", flush=True)
                    runs.setdefault(key, [])
                    continue
                value = json.loads(line[0][7:])["sentences_per_second"]
                runs.setdefault(key, []).append(value)
                print(f"{key} run {r}: {value:.0f} sentences/s", flush=True)
    rows = []
    for cfg in configs:
        fl, toks = flops(model_dir, sample, a.max_len, cfg["kind"] == "train")
        peak = next((v for (name, pr), v in PEAKS.items() if name in gpu and pr == cfg["precision"]), None)
        cells = {}
        for lib in libs:
            vals = runs.get(f"{cfg['kind']}|{cfg['batch_size']}|{cfg['precision']}|{lib}", [])
            med = statistics.median(vals) if vals else float("nan")
            mfu = fl / len(sample) * med / peak * 100 if peak and vals else float("nan")
            cells[lib] = (med, mfu, vals)
        rows.append((cfg, cells))
    command = "python bench/speed_gpu.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    import importlib.metadata as md

    versions = {m: md.version(m) for m in ("torch", "transformers", "sentence-transformers", "accelerate")}
    from simsent import __version__

    lines = [
        "# GPU speed: simsent vs sentence-transformers",
        "",
        f"GPU: **{gpu}**. Model: random-init BERT {a.layers} x {a.hidden} ({max(1, a.hidden // 64)} heads, "
        f"intermediate {4 * a.hidden}) with a "
        f"{len(set(''.join(texts)))}-character vocabulary of the shared task text; max length {a.max_len}; "
        f"{a.sentences} sentences sampled (seed {a.seed}) from the train/valid text of the five tasks. "
        "Unsupervised SimCSE, 1 epoch; sentence-transformers: MultipleNegativesRankingLoss on (s, s) with "
        "SentenceTransformerTrainer. Each configuration in its own process, warm-up not timed, the two "
        f"libraries alternating; median of {a.repeats} run(s); simsent training compile: {a.compile}, "
        f"packing: {a.pack_tokens or 'off'}. "
        "MFU: FLOPs of the real tokens (2 views x "
        "fwd+bwd for training) over the dense peak of the card (bf16 tensor cores, or plain fp32).",
        "",
        f"- command: `{command}`",
        f"- simsent {__version__}; " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        "- data: " + ", ".join(os.path.relpath(f_, a.data_dir) for f_ in files),
        "",
        "| measure | precision | batch | "
        + " | ".join(f"{lib} sent/s | MFU" for lib in libs)
        + " | "
        + " | ".join(f"{lib} / ST" for lib in libs if lib.startswith("simsent"))
        + " |",
        "|---|---|---:|" + "---:|---:|" * len(libs) + "---:|" * sum(x.startswith("simsent") for x in libs),
    ]
    for cfg, cells in rows:
        st = cells.get("sentence-transformers", (float("nan"),))[0]
        each = " | ".join(
            f"{cells[lib][0]:,.0f} | " + (f"{cells[lib][1]:.1f}%" if cells[lib][1] == cells[lib][1] else "-")
            if cells[lib][2]
            else "- | -"
            for lib in libs
        )
        ratios = " | ".join(
            f"{cells[lib][0] / st:.2f}" if cells[lib][2] and st == st else "-"
            for lib in libs
            if lib.startswith("simsent")
        )
        lines.append(f"| {cfg['kind']} | {cfg['precision']} | {cfg['batch_size']} | {each} | {ratios} |")
    lines += ["", "All runs (sentences/s): " + json.dumps(runs), ""]
    write_report(a.output, lines)


if __name__ == "__main__":
    main()
