"""``simsent train``: train a sentence encoder (unsupervised SimCSE by default).

Example:
    $ simsent train --model bert-base-chinese --train-file sents.txt --dev-task STS-B \\
        --data-dir data/senteval_cn --output runs/stsb
"""

from __future__ import annotations

import typer

from simsent._constants import MAX_DROPOUT
from simsent.cli.common import defaults_of, device_option, output_dir, parse_kv, require_file
from simsent.training.arguments import TrainingArguments

_DEFAULTS = defaults_of(TrainingArguments)

#: names of simsent.losses.OBJECTIVES, listed here so `--help` does not import torch (a test keeps them equal)
OBJECTIVE_NAMES = (
    "simcse",
    "simcse_mlm",
    "supervised_simcse",
    "sbert_softmax",
    "cosent",
    "amsoftmax",
    "distill",
)


def train(
    model: str = typer.Option(
        ...,
        "--model",
        "-m",
        help="Hub id or local folder of the starting model, or 'textcnn' (built from the data).",
    ),
    train_file: str = typer.Option(
        ..., "--train-file", "-t", help="Training data: .txt (one sentence a line), .data, .csv/.tsv, .jsonl."
    ),
    output: str = typer.Option(..., "--output", "-o", help="Folder for the trained model."),
    objective: str = typer.Option(
        _DEFAULTS["objective"], help=f"Training objective: {', '.join(OBJECTIVE_NAMES)}."
    ),
    dev_task: str | None = typer.Option(
        None, help="Dev task evaluated every --eval-steps (ATEC, BQ, LCQMC, PAWSX, STS-B)."
    ),
    data_dir: str | None = typer.Option(
        None, help="Folder with TASK/TASK.split.data (or $SIMSENT_DATA_DIR)."
    ),
    dev_split: str = typer.Option("valid", help="Split of the dev task."),
    pooling: str | None = typer.Option(
        None, help="cls | pooler | first_last_avg | last_avg | mean (default: the model's own, else mean)."
    ),
    epochs: int = typer.Option(_DEFAULTS["epochs"], min=1),
    batch_size: int = typer.Option(_DEFAULTS["batch_size"], min=1),
    lr: float = typer.Option(_DEFAULTS["lr"], help="Peak learning rate."),
    dropout: float | None = typer.Option(
        None,
        min=0.0,
        max=MAX_DROPOUT,
        help="Hidden+attention dropout (SimCSE's only augmentation); default: model's.",
    ),
    max_len: int = typer.Option(64, min=2, help="Max tokens per sentence."),
    temperature: float = typer.Option(_DEFAULTS["temperature"], min=1e-4),
    simcse_variant: str = typer.Option(
        _DEFAULTS["simcse_variant"], help="paper (N-1 negatives) or symmetric (2N-2)."
    ),
    max_train_samples: int | None = typer.Option(None, min=1, help="Seeded random subset of training rows."),
    dedup: bool = typer.Option(_DEFAULTS["dedup"], help="Drop duplicate training rows first."),
    eval_steps: int = typer.Option(
        _DEFAULTS["eval_steps"], min=0, help="Evaluate every N steps and keep the best (0: at the end)."
    ),
    checkpoint_steps: int = typer.Option(
        _DEFAULTS["checkpoint_steps"], min=0, help="Resumable checkpoint every N steps."
    ),
    max_eval_pairs: int | None = typer.Option(None, min=1, help="Seeded subset of dev pairs."),
    warmup_ratio: float = typer.Option(_DEFAULTS["warmup_ratio"], min=0.0, max=1.0),
    seed: int = typer.Option(_DEFAULTS["seed"]),
    forward_chunk_size: int | None = typer.Option(
        None,
        min=0,
        help="Rows per encoder call within a batch, length-sorted with padding trimmed (default: 16 on CPU; "
        "on a GPU ~16k-token chunks in fp32, the whole batch in bf16/fp16; 0: whole batch). Same loss and "
        "gradients, fewer padded tokens.",
    ),
    pack_tokens: int | None = typer.Option(
        None,
        min=1,
        help="Pack each batch's sentences into rows of N tokens (block-diagonal attention): no padding "
        "through the transformer (BERT, RoBERTa, ELECTRA). Same loss and gradients; e.g. 256 on a GPU.",
    ),
    jieba: bool = typer.Option(False, help="Segment with jieba before tokenising (word-level models)."),
    resume: bool = typer.Option(_DEFAULTS["resume"], help="Resume from OUTPUT/checkpoint-last when present."),
    objective_arg: list[str] | None = typer.Option(
        None, "--objective-arg", help="key=value passed to the objective (repeatable)."
    ),
    model_arg: list[str] | None = typer.Option(
        None,
        "--model-arg",
        help="key=value for a model built from scratch, e.g. with --model textcnn: emb_dim=128, filters=128, "
        "kernel_sizes=[2,3,4], min_freq=1, teacher=DIR (repeatable).",
    ),
    freeze_encoder: bool = typer.Option(
        False,
        "--freeze-encoder",
        help="Freeze the encoder; train only an identity-initialised linear head, saved as a Dense module.",
    ),
    device: str = device_option(),
    precision: str = typer.Option(
        _DEFAULTS["precision"], help="fp32, or bf16 / fp16 mixed precision (fp16 needs a CUDA device)."
    ),
    torch_compile: str = typer.Option(
        _DEFAULTS["torch_compile"],
        "--compile",
        help="torch.compile the encoder while training: off, default, reduce-overhead (CUDA graphs, for "
        "small GPU batches) or max-autotune. The first steps compile; the saved model is the same.",
    ),
) -> None:
    """Train a sentence encoder (unsupervised SimCSE by default)."""
    from simsent.data.readers import read_any
    from simsent.errors import ConfigError, check_number
    from simsent.evaluation.sts import STSEvaluator
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.trainer import Trainer

    check_number("--dropout", dropout, minimum=0, maximum=MAX_DROPOUT, optional=True)
    require_file(train_file, "--train-file")
    output_dir(output)
    args = TrainingArguments(
        output_dir=output,
        objective=objective,
        simcse_variant=simcse_variant,
        temperature=temperature,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        warmup_ratio=warmup_ratio,
        seed=seed,
        max_train_samples=max_train_samples,
        dedup=dedup,
        eval_steps=eval_steps,
        checkpoint_steps=checkpoint_steps,
        resume=resume,
        forward_chunk_size=forward_chunk_size,
        pack_tokens=pack_tokens,
        objective_kwargs=parse_kv(objective_arg),
        device=device,
        precision=precision,
        torch_compile=torch_compile,
    )
    from simsent.modeling.device import resolve_device

    resolve_device(device)  # an unknown or absent device fails before any loading
    from simsent.losses import objective_class
    from simsent.modeling.pooling import check_pooling

    objective_class(objective)  # fail fast on an unknown name
    if pooling:
        check_pooling(pooling)
    evaluator = None
    if dev_task:
        evaluator = STSEvaluator.from_task(dev_task, dev_split, data_dir, max_eval_pairs, seed)
    rows = read_any(train_file)
    if model_arg and model != "textcnn":
        raise ConfigError(
            "--model-arg sets options of a model built from scratch (--model textcnn); a pretrained model's "
            "settings come from its folder (use --pooling, --max-len, --dropout)"
        )
    if model == "textcnn":
        from simsent.data.columns import sentences_of
        from simsent.modeling.encoders.textcnn import build_textcnn_model

        options = {
            "max_len": max_len,
            "dropout": dropout,
            "jieba": jieba,
            "seed": seed,
            **parse_kv(model_arg),
        }
        encoder = build_textcnn_model(sentences_of(rows), **options)
        if pooling:  # checked against what a TextCNN can pool (no first token, no pooler)
            encoder = SentenceEncoder(encoder.encoder, pooling=pooling)
    else:
        encoder = SentenceEncoder.from_pretrained(
            model, pooling=pooling, max_len=max_len, dropout=dropout, jieba=jieba or None
        )
    if freeze_encoder:
        from simsent.modeling.dense import add_trainable_head

        add_trainable_head(encoder)
    from simsent._io import folder_lock

    trainer = Trainer(encoder, args, rows, evaluator=evaluator)
    with folder_lock(output, "train"):  # a second run into the same --output is refused at once
        result = trainer.train()
    msg = (
        f"trained {result['global_step']} steps in {result['train_seconds']:.0f}s "
        f"({result['sentences_per_second']:.1f} sentences/s); model saved to {output}"
    )
    if evaluator is not None:
        first = result["history"][0].get("spearman") if result["history"] else float("nan")
        msg += f"\n{dev_task} spearman: before {first:.2f}, best {result['best_score']:.2f}"
    typer.echo(msg)
