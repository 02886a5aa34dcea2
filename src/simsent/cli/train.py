"""``simsent train``: train a sentence encoder (unsupervised SimCSE by default).

Example:
    $ simsent train --model bert-base-chinese --train-file sents.txt --dev-task STS-B \\
        --data-dir data/senteval_cn --output runs/stsb
"""

from __future__ import annotations

from typing import Any

import typer

from simsent._constants import DEFAULT_MAX_LEN, MAX_DROPOUT
from simsent.cli.common import output_dir, parse_kv, require_file
from simsent.cli.options import settings_command
from simsent.training.arguments import TrainingArguments

Opt = typer.Option


@settings_command(TrainingArguments)
def train(
    model: str = Opt(
        ..., "--model", "-m",
        help="Hub id or local folder of the starting model, or 'textcnn' (built from the data)."),
    train_file: str = Opt(..., "--train-file", "-t",
                          help="Training data: .txt (one sentence a line), .data, .csv/.tsv, .jsonl."),
    output: str = Opt(..., "--output", "-o", help="Folder for the trained model."),
    dev_task: str | None = Opt(
        None, help="Dev task evaluated every --eval-steps (ATEC, BQ, LCQMC, PAWSX, STS-B)."),
    data_dir: str | None = Opt(None, help="Folder with TASK/TASK.split.data (or $SIMSENT_DATA_DIR)."),
    dev_split: str = Opt("valid", help="Split of the dev task."),
    max_eval_pairs: int | None = Opt(None, min=1, help="Seeded subset of dev pairs."),
    pooling: str | None = Opt(
        None, help="cls | pooler | first_last_avg | last_avg | mean | ... (default: the model's own, else "
        "mean)."),
    dropout: float | None = Opt(
        None, min=0.0, max=MAX_DROPOUT,
        help="Hidden+attention dropout (SimCSE's only augmentation); default: model's."),
    max_len: int = Opt(DEFAULT_MAX_LEN, min=2, help="Max tokens per sentence."),
    jieba: bool = Opt(False, help="Segment with jieba before tokenising (word-level models)."),
    objective_arg: list[str] | None = Opt(None, "--objective-arg",
                                          help="key=value passed to the objective (repeatable)."),
    model_arg: list[str] | None = Opt(
        None, "--model-arg", help="key=value for a model built from scratch, e.g. with --model textcnn: "
        "emb_dim=128, filters=128, kernel_sizes=[2,3,4], min_freq=1, teacher=DIR (repeatable)."),
    freeze_encoder: bool = Opt(
        False, "--freeze-encoder",
        help="Freeze the encoder; train only an identity-initialised linear head, saved as a Dense module."),
    settings: dict[str, Any] | None = None,
) -> None:
    """Train a sentence encoder (unsupervised SimCSE by default)."""
    from simsent.training.trainer import Trainer

    model_opts = {"model": model, "pooling": pooling, "max_len": max_len, "dropout": dropout, "jieba": jieba,
                  "model_arg": model_arg, "freeze_encoder": freeze_encoder}
    args = _training_arguments(settings or {}, model_opts, train_file, output, objective_arg)
    evaluator = _dev_evaluator(dev_task, dev_split, data_dir, max_eval_pairs, args.seed)
    rows = _training_data(train_file, model, args)
    encoder = _start_model(model_opts, args.seed, rows)
    result = train_locked(Trainer(encoder, args, rows, evaluator=evaluator), output)
    if result is None:  # not the first of several processes
        return
    msg = (
        f"trained {result['global_step']} steps in {result['train_seconds']:.0f}s "
        f"({result['sentences_per_second']:.1f} sentences/s); model saved to {output}"
    )
    if args.max_steps and result["global_step"] < args.max_steps:
        msg += (f"\n--max-steps {args.max_steps} was not reached: {args.epochs} epoch(s) of this data give "
                f"{result['global_step']} steps; raise --epochs to train longer")
    if evaluator is not None:
        first = result["history"][0].get("spearman") if result["history"] else float("nan")
        msg += f"\n{dev_task} spearman: before {first:.2f}, best {result['best_score']:.2f}"
    typer.echo(msg)


def _dev_evaluator(dev_task: str | None, split: str, data_dir: str | None, max_pairs: int | None,
                   seed: int) -> Any:
    """The dev task's evaluator (None without --dev-task); one whose labels are all one value is refused:
    its Spearman is undefined, so no checkpoint could be chosen on it."""
    from simsent.errors import DataError
    from simsent.evaluation.sts import STSEvaluator

    if not dev_task:
        return None
    evaluator = STSEvaluator.from_task(dev_task, split, data_dir, max_pairs, seed)
    labels = {r["score"] for r in evaluator.rows}
    if len(labels) < 2:
        raise DataError(f"--dev-task {dev_task}: every label of its {split} split is {labels.pop()!r}, so "
                        "its Spearman is undefined and no checkpoint can be chosen on it; give a dev split "
                        "with varied labels, or no --dev-task")
    return evaluator


def train_locked(trainer: Any, output: str) -> dict[str, Any] | None:
    """Run ``trainer`` holding the output's lock (the first of several processes takes it; the others get
    None back). A run that fails before writing anything leaves no folder it made."""
    import contextlib
    import os

    from simsent._io import folder_lock, remove_empty_dirs

    first = int(os.environ.get("RANK", "0")) == 0
    lock = folder_lock(output, "train") if first else contextlib.nullcontext()
    existed = os.path.isdir(output)
    try:
        with lock:  # a second run into the same --output is refused at once
            result = trainer.train()
    except BaseException:
        if first:
            remove_empty_dirs(output, keep_top=existed)
        raise
    return result if first else None


def _training_arguments(settings: dict[str, Any], model_opts: dict[str, Any], train_file: str, output: str,
                        objective_arg: list[str] | None) -> TrainingArguments:
    """The training arguments, checked (with the files and the model options) before anything is loaded."""
    from simsent.errors import ConfigError, check_number
    from simsent.losses import objective_class
    from simsent.modeling.device import resolve_device
    from simsent.modeling.pooling import check_pooling

    check_number("--dropout", model_opts["dropout"], minimum=0, maximum=MAX_DROPOUT, optional=True)
    require_file(train_file, "--train-file")
    output_dir(output)
    args = TrainingArguments(**settings, output_dir=output, objective_kwargs=parse_kv(objective_arg))
    resolve_device(args.device)  # an unknown or absent device fails before any loading
    if objective_class(args.objective).model_kind != "bi-encoder":  # fail fast on an unknown name too
        raise ConfigError(f"--objective {args.objective} trains a reranker: use `simsent rerank train`")
    if model_opts["pooling"]:
        check_pooling(model_opts["pooling"])
    if model_opts["model_arg"] and model_opts["model"] != "textcnn":
        raise ConfigError(
            "--model-arg sets options of a model built from scratch (--model textcnn); a pretrained model's "
            "settings come from its folder (use --pooling, --max-len, --dropout)"
        )
    return args


def _training_data(path: str, model: str, args: TrainingArguments) -> Any:
    """The training rows in memory, or the file to stream (asked for, or larger than 1 GiB)."""
    import logging
    import os

    from simsent._constants import STREAMING_AUTO_BYTES
    from simsent.data.readers import read_any
    from simsent.data.sources import StreamedRows
    from simsent.errors import ConfigError

    stream = args.streaming
    if stream is None and os.path.isfile(path) and os.path.getsize(path) > STREAMING_AUTO_BYTES:
        stream = not args.dedup and model != "textcnn"
        if stream:
            logging.getLogger(__name__).info("%s is over 1 GiB: streamed (--no-streaming: in memory)", path)
    if not stream:
        return read_any(path)
    if model == "textcnn":  # the objective's own limits are checked where the rows are prepared
        raise ConfigError("--streaming cannot build a TextCNN (its vocabulary comes from all rows in memory)")
    return StreamedRows(path, args.shuffle_buffer, args.max_train_samples, args.data_workers)


def _start_model(options: dict[str, Any], seed: int, rows: Any) -> Any:
    """The model training starts from: a TextCNN built from ``rows``, or a pretrained model; with
    ``--freeze-encoder`` a trainable head on the frozen model."""
    from simsent.modeling.sentence_encoder import SentenceEncoder

    pooling, max_len, dropout, jieba = (options[k] for k in ("pooling", "max_len", "dropout", "jieba"))
    if options["model"] == "textcnn":
        from simsent.data.columns import sentences_of
        from simsent.modeling.encoders.textcnn import build_textcnn_model

        settings = {"max_len": max_len, "dropout": dropout, "jieba": jieba, "seed": seed}
        encoder = build_textcnn_model(sentences_of(rows), **settings, **parse_kv(options["model_arg"]))
        if pooling:  # checked against what a TextCNN can pool (no first token, no pooler)
            encoder = SentenceEncoder(encoder.encoder, pooling=pooling)
    else:
        encoder = SentenceEncoder.from_pretrained(
            options["model"], pooling=pooling, max_len=max_len, dropout=dropout, jieba=jieba or None,
            backend="torch",
        )
    if options["freeze_encoder"]:
        from simsent.modeling.dense import add_trainable_head

        add_trainable_head(encoder)
    return encoder
