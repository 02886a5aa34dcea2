"""``simsent train``: train a sentence encoder (unsupervised SimCSE by default).

Example:
    $ simsent train --model bert-base-chinese --train-file sents.txt --dev-task STS-B \\
        --data-dir data/senteval_cn --output runs/stsb
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from simsent._constants import DEFAULT_MAX_LEN, MAX_DROPOUT
from simsent.cli.common import DEVICE_HELP, defaults_of, output_dir, parse_kv, require_file
from simsent.training.arguments import TrainingArguments

_DEFAULTS = defaults_of(TrainingArguments)

#: names of simsent.losses.OBJECTIVES, listed here so `--help` does not import torch (a test keeps them equal)
OBJECTIVE_NAMES = (
    "simcse",
    "simcse_mlm",
    "supervised_simcse",
    "sbert_softmax",
    "cosent",
    "angle",
    "ct",
    "amsoftmax",
    "distill",
)

Opt = typer.Option
Model = Annotated[
    str,
    Opt(
        "--model",
        "-m",
        help="Hub id or local folder of the starting model, or 'textcnn' (built from the data).",
    ),
]
TrainFile = Annotated[
    str,
    Opt("--train-file", "-t", help="Training data: .txt (one sentence a line), .data, .csv/.tsv, .jsonl."),
]
Output = Annotated[str, Opt("--output", "-o", help="Folder for the trained model.")]
Objective = Annotated[str, Opt(help=f"Training objective: {', '.join(OBJECTIVE_NAMES)}.")]
DevTask = Annotated[
    str | None, Opt(help="Dev task evaluated every --eval-steps (ATEC, BQ, LCQMC, PAWSX, STS-B).")
]
DataDir = Annotated[str | None, Opt(help="Folder with TASK/TASK.split.data (or $SIMSENT_DATA_DIR).")]
DevSplit = Annotated[str, Opt(help="Split of the dev task.")]
PoolingOpt = Annotated[
    str | None,
    Opt(help="cls | pooler | first_last_avg | last_avg | mean | ... (default: the model's own, else mean)."),
]
Epochs = Annotated[int, Opt(min=1)]
MaxSteps = Annotated[int | None, Opt(min=1, help="Stop after N optimiser steps (the schedule spans them).")]
BatchSize = Annotated[int, Opt(min=1)]
Lr = Annotated[float, Opt(help="Peak learning rate.")]
Dropout = Annotated[
    float | None,
    Opt(
        min=0.0,
        max=MAX_DROPOUT,
        help="Hidden+attention dropout (SimCSE's only augmentation); default: model's.",
    ),
]
MaxLen = Annotated[int, Opt(min=2, help="Max tokens per sentence.")]
Temperature = Annotated[float, Opt(min=1e-4)]
Variant = Annotated[str, Opt(help="paper (N-1 negatives) or symmetric (2N-2).")]
MaxTrain = Annotated[int | None, Opt(min=1, help="Seeded random subset of training rows.")]
Dedup = Annotated[bool, Opt(help="Drop duplicate training rows first.")]
EvalSteps = Annotated[int, Opt(min=0, help="Evaluate every N steps and keep the best (0: at the end).")]
CheckpointSteps = Annotated[int, Opt(min=0, help="Resumable checkpoint every N steps (0: each epoch).")]
MaxEvalPairs = Annotated[int | None, Opt(min=1, help="Seeded subset of dev pairs.")]
Warmup = Annotated[float, Opt(min=0.0, max=1.0)]
Seed = Annotated[int, Opt()]
ChunkSize = Annotated[
    int | None,
    Opt(
        min=0,
        help="Rows per encoder call within a batch, length-sorted with padding trimmed (default: 16 on "
        "CPU; on a GPU ~16k-token chunks in fp32, the whole batch in bf16/fp16; 0: whole batch). Same loss "
        "and gradients, fewer padded tokens.",
    ),
]
PackTokens = Annotated[
    int | None,
    Opt(
        min=1,
        help="Pack each batch's sentences into rows of N tokens (block-diagonal attention): no padding "
        "through the transformer (BERT, RoBERTa, ELECTRA). Same loss and gradients; e.g. 256 on a GPU.",
    ),
]
CacheChunk = Annotated[
    int | None,
    Opt(
        "--cache-chunk",
        min=1,
        help="Cached contrastive steps (GradCache): embed the batch N rows at a time without a graph, then "
        "back-propagate chunk by chunk with the same dropout masks; the batch size of simcse / "
        "supervised_simcse is then not bounded by memory. Same loss and gradients.",
    ),
]
Streaming = Annotated[
    bool | None,
    Opt(
        "--streaming/--no-streaming",
        help="Read the training file lazily (memory does not grow with the file): a seeded shuffle buffer, "
        "tokenised in worker processes, exact resume. Default: streamed when the file is over 1 GiB. With "
        "--max-train-samples N: the first N rows of the file.",
    ),
]
ShuffleBuffer = Annotated[int, Opt(min=1, help="Rows in the streaming shuffle buffer.")]
DataWorkers = Annotated[int, Opt(min=0, help="Worker processes reading and tokenising a streamed file.")]
WorldChange = Annotated[
    bool,
    Opt(
        "--allow-world-size-change",
        help="Resume a checkpoint written under another process count (same global batches; new dropout "
        "streams for the processes).",
    ),
]
Jieba = Annotated[bool, Opt(help="Segment with jieba before tokenising (word-level models).")]
Resume = Annotated[bool, Opt(help="Resume from OUTPUT/checkpoint-last when present.")]
ObjectiveArg = Annotated[
    list[str] | None, Opt("--objective-arg", help="key=value passed to the objective (repeatable).")
]
ModelArg = Annotated[
    list[str] | None,
    Opt(
        "--model-arg",
        help="key=value for a model built from scratch, e.g. with --model textcnn: emb_dim=128, filters=128, "
        "kernel_sizes=[2,3,4], min_freq=1, teacher=DIR (repeatable).",
    ),
]
Freeze = Annotated[
    bool,
    Opt(
        "--freeze-encoder",
        help="Freeze the encoder; train only an identity-initialised linear head, saved as a Dense module.",
    ),
]
Precision = Annotated[str, Opt(help="fp32, or bf16 / fp16 mixed precision (fp16 needs a CUDA device).")]
Compile = Annotated[
    str,
    Opt(
        "--compile",
        help="torch.compile the encoder while training: off, default, reduce-overhead (CUDA graphs, for "
        "small GPU batches) or max-autotune. The first steps compile; the saved model is the same.",
    ),
]


def train(
    model: Model,
    train_file: TrainFile,
    output: Output,
    objective: Objective = _DEFAULTS["objective"],
    dev_task: DevTask = None,
    data_dir: DataDir = None,
    dev_split: DevSplit = "valid",
    pooling: PoolingOpt = None,
    epochs: Epochs = _DEFAULTS["epochs"],
    max_steps: MaxSteps = None,
    batch_size: BatchSize = _DEFAULTS["batch_size"],
    lr: Lr = _DEFAULTS["lr"],
    dropout: Dropout = None,
    max_len: MaxLen = DEFAULT_MAX_LEN,
    temperature: Temperature = _DEFAULTS["temperature"],
    simcse_variant: Variant = _DEFAULTS["simcse_variant"],
    max_train_samples: MaxTrain = None,
    dedup: Dedup = _DEFAULTS["dedup"],
    eval_steps: EvalSteps = _DEFAULTS["eval_steps"],
    checkpoint_steps: CheckpointSteps = _DEFAULTS["checkpoint_steps"],
    max_eval_pairs: MaxEvalPairs = None,
    warmup_ratio: Warmup = _DEFAULTS["warmup_ratio"],
    seed: Seed = _DEFAULTS["seed"],
    forward_chunk_size: ChunkSize = None,
    pack_tokens: PackTokens = None,
    cache_chunk: CacheChunk = None,
    streaming: Streaming = None,
    shuffle_buffer: ShuffleBuffer = _DEFAULTS["shuffle_buffer"],
    data_workers: DataWorkers = _DEFAULTS["data_workers"],
    jieba: Jieba = False,
    resume: Resume = _DEFAULTS["resume"],
    allow_world_size_change: WorldChange = False,
    objective_arg: ObjectiveArg = None,
    model_arg: ModelArg = None,
    freeze_encoder: Freeze = False,
    device: Annotated[str, Opt("--device", help=DEVICE_HELP)] = "auto",
    precision: Precision = _DEFAULTS["precision"],
    torch_compile: Compile = _DEFAULTS["torch_compile"],
) -> None:
    """Train a sentence encoder (unsupervised SimCSE by default)."""
    from simsent.training.trainer import Trainer

    options = dict(locals())
    args = _training_arguments(options)
    evaluator = _dev_evaluator(dev_task, dev_split, data_dir, max_eval_pairs, seed)
    rows = _training_data(options, args)
    encoder = _start_model(options, rows)
    result = _train_locked(Trainer(encoder, args, rows, evaluator=evaluator), output)
    if result is None:  # not the first of several processes
        return
    msg = (
        f"trained {result['global_step']} steps in {result['train_seconds']:.0f}s "
        f"({result['sentences_per_second']:.1f} sentences/s); model saved to {output}"
    )
    if max_steps and result["global_step"] < max_steps:
        msg += (f"\n--max-steps {max_steps} was not reached: {epochs} epoch(s) of this data give "
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


def _train_locked(trainer: Any, output: str) -> dict[str, Any] | None:
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


def _training_arguments(options: dict[str, Any]) -> TrainingArguments:
    """The options that are :class:`TrainingArguments` fields, checked before anything is loaded."""
    import os

    from simsent.errors import ConfigError, check_number
    from simsent.losses import objective_class
    from simsent.modeling.device import resolve_device
    from simsent.modeling.pooling import check_pooling

    check_number("--dropout", options["dropout"], minimum=0, maximum=MAX_DROPOUT, optional=True)
    require_file(options["train_file"], "--train-file")
    output_dir(options["output"])
    args = TrainingArguments.from_dict(
        {**options, "output_dir": options["output"], "objective_kwargs": parse_kv(options["objective_arg"])}
    )
    resolve_device(options["device"])  # an unknown or absent device fails before any loading
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if args.batch_size % world:
        if os.environ.get("RANK", "0") != "0":
            raise SystemExit(2)  # every process meets it: the first one says it
        raise ConfigError(
            f"--batch-size {args.batch_size} does not split over the {world} launched processes; give a "
            "multiple of the process count"
        )
    objective_class(options["objective"])  # fail fast on an unknown name
    if options["pooling"]:
        check_pooling(options["pooling"])
    if options["model_arg"] and options["model"] != "textcnn":
        raise ConfigError(
            "--model-arg sets options of a model built from scratch (--model textcnn); a pretrained model's "
            "settings come from its folder (use --pooling, --max-len, --dropout)"
        )
    return args


def _training_data(options: dict[str, Any], args: TrainingArguments) -> Any:
    """The training rows in memory, or the file to stream (asked for, or larger than 1 GiB)."""
    import logging
    import os

    from simsent._constants import STREAMING_AUTO_BYTES
    from simsent.data.readers import read_any
    from simsent.data.streaming import StreamingRows, check_streamable
    from simsent.losses import objective_class

    path = options["train_file"]
    stream = args.streaming
    if stream is None and os.path.isfile(path) and os.path.getsize(path) > STREAMING_AUTO_BYTES:
        stream = not args.dedup and options["model"] != "textcnn"
        if stream:
            logging.getLogger(__name__).info("%s is over 1 GiB: streamed (--no-streaming: in memory)", path)
    if not stream:
        return read_any(path)
    check_streamable(objective_class(args.objective), args.dedup, textcnn=options["model"] == "textcnn")
    return StreamingRows(path, args.shuffle_buffer, args.max_train_samples, args.data_workers)


def _start_model(options: dict[str, Any], rows: Any) -> Any:
    """The model training starts from: a TextCNN built from ``rows``, or a pretrained model; with
    ``--freeze-encoder`` a trainable head on the frozen model."""
    from simsent.modeling.sentence_encoder import SentenceEncoder

    pooling, max_len, dropout, jieba = (options[k] for k in ("pooling", "max_len", "dropout", "jieba"))
    if options["model"] == "textcnn":
        from simsent.data.columns import sentences_of
        from simsent.modeling.encoders.textcnn import build_textcnn_model

        settings = {"max_len": max_len, "dropout": dropout, "jieba": jieba, "seed": options["seed"]}
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
