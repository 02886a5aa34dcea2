"""``simsent distill``: train a light student on a teacher's sentence vectors.

Example:
    $ simsent distill --teacher runs/simcse-bert --student textcnn --corpus sents.txt \\
          --output runs/textcnn-distilled --whiten-dim 128 --loss both
"""

from __future__ import annotations

import typer

from simsent._constants import DEFAULT_MAX_LEN, MAX_DROPOUT
from simsent.adapt import distill as distill_lib
from simsent.adapt import static_tune
from simsent.cli.common import defaults_of
from simsent.cli.options import device_option

_DEFAULTS = defaults_of(distill_lib.distill)
_STATIC_DEFAULTS = defaults_of(static_tune.tune_static)


def distill(
    teacher: str = typer.Option(..., "--teacher", "-t", help="Teacher model: hub id or local folder."),
    student: str = typer.Option(
        "textcnn",
        "--student",
        "-s",
        help="'textcnn' (vocabulary built from the corpus), 'static' (the teacher's pieces: PCA, SIF "
        "weights; tuned on the corpus with --static-epochs) or a hub id / folder.",
    ),
    corpus: str = typer.Option(
        ..., "--corpus", "-c", help="Training texts: .txt (one per line), .data, .csv/.tsv or .jsonl."
    ),
    output: str = typer.Option(..., "--output", "-o", help="Folder for the trained student."),
    whiten_dim: int | None = typer.Option(
        None, "--whiten-dim", help="BERT-whiten the teacher vectors to K dims first."
    ),
    loss: str = typer.Option(_DEFAULTS["loss"], "--loss", help="mse, cosine or both."),
    epochs: int = typer.Option(_DEFAULTS["epochs"], help="Passes over the corpus."),
    batch_size: int | None = typer.Option(
        None, min=1, help=f"Sentences per batch (default {_DEFAULTS['batch_size']}; a static student's "
        f"tuning {_STATIC_DEFAULTS['batch_size']})."),
    lr: float | None = typer.Option(
        None, help=f"Peak learning rate (default {_DEFAULTS['lr']:g}, for a TextCNN; a static student's "
        f"tuning {_STATIC_DEFAULTS['lr']:g}; ~5e-5 suits a transformer)."
    ),
    seed: int = typer.Option(_DEFAULTS["seed"], help="Random seed."),
    max_len: int | None = typer.Option(
        None, help=f"Student truncation length in tokens (default {DEFAULT_MAX_LEN})."
    ),
    max_train_samples: int | None = typer.Option(None, help="Keep a seeded subset of N sentences."),
    cache_dir: str | None = typer.Option(None, help="Teacher-vector cache (default ~/.cache/simsent)."),
    min_freq: int = typer.Option(1, help="TextCNN: minimum token frequency in the vocabulary."),
    jieba: bool = typer.Option(False, "--jieba/--chars", help="TextCNN: jieba words instead of characters."),
    emb_dim: int = typer.Option(128, help="TextCNN: embedding size."),
    kernel_sizes: str = typer.Option("2,3,4", help="TextCNN: comma-separated kernel sizes."),
    filters: int = typer.Option(128, help="TextCNN: filters per kernel size."),
    dropout: float = typer.Option(0.1, help="TextCNN: dropout."),
    init_from_teacher: bool = typer.Option(
        False, "--init-from-teacher", help="TextCNN: start shared-token embeddings from the teacher's."
    ),
    precision: str = typer.Option("fp32", help="fp32, or bf16 / fp16 mixed precision (fp16 needs CUDA)."),
    device: str = device_option(),
    static_dim: int | None = typer.Option(256, "--static-dim", min=1, help="static: PCA dimensions."),
    static_vocabulary: str = typer.Option("corpus", "--static-vocabulary", help="static: the pieces the "
                                          "corpus uses (corpus) or every piece of the teacher's (all)."),
    static_epochs: int = typer.Option(0, "--static-epochs", min=0, help="static: passes of distillation on "
                                      "the corpus (the rows learn the teacher's centred vectors; --lr, "
                                      "--batch-size), then PCA to --static-dim; 0: no training."),
) -> None:
    """Train a light student to regress a teacher's (optionally whitened) sentence vectors, or build a
    static one from the teacher's vocabulary (``--student static``)."""
    from simsent.adapt.distill import distill as run_distill
    from simsent.cli.common import output_dir, read_texts
    from simsent.data.sampling import seeded_subset

    if student == "static":
        tuning = {"epochs": static_epochs, "lr": lr or _STATIC_DEFAULTS["lr"], "cache_dir": cache_dir,
                  "batch_size": batch_size or _STATIC_DEFAULTS["batch_size"]}
        return _static(teacher, corpus, output, static_dim, static_vocabulary, max_train_samples, seed,
                       device, tuning)

    textcnn = {"min_freq": min_freq, "jieba": jieba, "emb_dim": emb_dim, "filters": filters,
               "dropout": dropout, "init_from_teacher": init_from_teacher}
    textcnn_options = _textcnn_options(loss, kernel_sizes, textcnn)
    output_dir(output)
    texts = seeded_subset(list(dict.fromkeys(read_texts(corpus, "--corpus"))), max_train_samples, seed)
    result = run_distill(teacher, student, texts, output, whiten_dim=whiten_dim, loss=loss, epochs=epochs,
                         batch_size=batch_size or _DEFAULTS["batch_size"], lr=lr or _DEFAULTS["lr"],
                         seed=seed, max_len=max_len, cache_dir=cache_dir, textcnn_options=textcnn_options,
                         precision=precision, device=device)
    typer.echo(
        f"distilled {len(texts)} sentences in {result['global_step']} steps "
        f"({result['train_seconds']:.1f} s); target dim {result['target_dim']}; "
        f"teacher vectors cache: {result['cache_file']}; student saved to {output}"
    )


def _textcnn_options(loss: str, kernel_sizes: str, textcnn: dict) -> dict:
    """The checked TextCNN options of the command, kernel sizes parsed (``--loss`` is checked here too)."""
    from simsent.cli.common import split_list
    from simsent.errors import ConfigError, check_number
    from simsent.losses.distill import LOSSES

    if loss not in LOSSES:
        raise ConfigError(f"unknown --loss {loss!r}; choose one of {', '.join(LOSSES)}")
    try:
        kernels = [int(k) for k in split_list(kernel_sizes)]
    except ValueError as exc:
        raise ConfigError(f"--kernel-sizes must be integers like 2,3,4, got {kernel_sizes!r}") from exc
    check_number("--dropout", textcnn["dropout"], minimum=0, maximum=MAX_DROPOUT)
    return {**textcnn, "kernel_sizes": kernels}


def _static(teacher: str, corpus: str, output: str, dim: int | None, vocabulary: str,
            max_train_samples: int | None, seed: int, device: str, tuning: dict) -> None:
    """``distill --student static``: the teacher's pieces through the teacher, PCA, SIF weights from the
    corpus (simsent.adapt.static); with ``tuning["epochs"]``, the full-width rows tuned on the corpus by
    distillation first, then PCA (simsent.adapt.static_tune)."""
    from simsent.adapt.distill import teacher_fingerprint
    from simsent.adapt.static import distill_static
    from simsent.adapt.static_tune import tune_static
    from simsent.cli.common import output_dir, read_texts, ready_model
    from simsent.data.sampling import seeded_subset

    output_dir(output)
    texts = seeded_subset(list(dict.fromkeys(read_texts(corpus, "--corpus"))), max_train_samples, seed)
    model = ready_model(teacher, device, "fp32")
    epochs = tuning.pop("epochs")
    student = distill_static(model, texts, dim=None if epochs else dim, vocabulary=vocabulary)
    if epochs:
        student = tune_static(student, model, texts, dim, epochs=epochs, seed=seed,
                              teacher_id=teacher_fingerprint(teacher),
                              device=device, **tuning)
    student.save(output)
    info = student.extra_config["static"]
    tuned = f", tuned {epochs} epochs on {len(texts)} sentences" if epochs else ""
    typer.echo(f"static student: {info['pieces']} pieces through the teacher{tuned}, {info['dim']} "
               f"dimensions; saved to {output}")
