"""CLI command: pretrain a small masked-LM encoder from raw text (or continue pretraining one).

Example:
    $ simsent pretrain --corpus news.txt STS-B.train.data --tokenizer char --layers 4 --hidden 256 \\
        --heads 4 --max-len 64 --output runs/mlm --max-minutes 60
    $ simsent pretrain --corpus domain.txt --init runs/mlm --output runs/mlm-domain --epochs 3
    $ simsent train --model runs/mlm --train-file sents.txt --pooling first_last_avg --output runs/simcse
"""

from __future__ import annotations

import dataclasses

import typer

from simsent._constants import MAX_DROPOUT
from simsent.cli.common import defaults_of, device_option, output_dir, require_file
from simsent.pretrain.config import PretrainConfig

_DEFAULTS = defaults_of(PretrainConfig)


def pretrain(
    ctx: typer.Context,
    corpus: list[str] = typer.Option(
        ...,
        "--corpus",
        "-c",
        help="Text files: --corpus A [B ...] (.txt one text a line, .data, .csv/.tsv, "
        ".jsonl; paired files give both sentences, labels are ignored).",
    ),
    output: str = typer.Option(..., "--output", "-o", help="Folder for the model (a Hugging Face folder)."),
    tokenizer: str = typer.Option(_DEFAULTS["tokenizer"], help="char (a token per character) or wordpiece."),
    min_freq: int = typer.Option(_DEFAULTS["min_freq"], min=1, help="Tokens seen fewer times become [UNK]."),
    max_vocab: int | None = typer.Option(
        None, min=6, help="Vocabulary cap, specials included (default: all chars / 8000 pieces)."
    ),
    layers: int = typer.Option(_DEFAULTS["layers"], min=1, help="Transformer layers."),
    hidden: int = typer.Option(_DEFAULTS["hidden"], min=8, help="Hidden size (intermediate = 4 x hidden)."),
    heads: int = typer.Option(_DEFAULTS["heads"], min=1, help="Attention heads (must divide --hidden)."),
    max_len: int = typer.Option(
        _DEFAULTS["max_len"], min=3, help="Max tokens per text ([CLS]/[SEP] included)."
    ),
    dropout: float = typer.Option(
        _DEFAULTS["dropout"], min=0.0, max=MAX_DROPOUT, help="Hidden and attention dropout."
    ),
    init: str | None = typer.Option(
        None,
        help="Continue pretraining this masked-LM (folder or hub id) "
        "with its own tokenizer (domain-adaptive pretraining).",
    ),
    epochs: int = typer.Option(
        _DEFAULTS["epochs"], min=1, help="Passes over the corpus (--max-steps overrides)."
    ),
    batch_size: int = typer.Option(_DEFAULTS["batch_size"], min=1),
    lr: float = typer.Option(_DEFAULTS["lr"], help="Peak learning rate (AdamW, linear warm-up then decay)."),
    warmup_ratio: float = typer.Option(_DEFAULTS["warmup_ratio"], min=0.0, max=1.0),
    mlm_probability: float = typer.Option(
        _DEFAULTS["mlm_probability"], min=0.01, max=0.9, help="Share of tokens masked (80/10/10)."
    ),
    max_steps: int | None = typer.Option(None, min=1, help="Stop after N steps (overrides --epochs)."),
    max_minutes: float | None = typer.Option(
        None, help="Stop after N minutes of training; the lr decay is planned from the measured speed."
    ),
    checkpoint_steps: int = typer.Option(
        _DEFAULTS["checkpoint_steps"], min=0, help="Resumable checkpoint every N steps (0: each epoch)."
    ),
    resume: bool = typer.Option(
        _DEFAULTS["resume"], help="Resume from OUTPUT/pretrain_checkpoint.pt when present."
    ),
    keep_checkpoint: bool = typer.Option(
        _DEFAULTS["keep_checkpoint"], help="Keep the checkpoint after the run (to extend it)."
    ),
    seed: int = typer.Option(_DEFAULTS["seed"]),
    device: str = device_option(),
    precision: str = typer.Option(_DEFAULTS["precision"], help="fp32, or bf16 / fp16 autocast (fp16: CUDA)."),
    threads: int | None = typer.Option(None, min=1, help="torch CPU threads."),
    progress: bool = typer.Option(True, help="Show a progress bar with loss and tokens/s."),
) -> None:
    """Pretrain a small BERT by masked language modelling on raw text (for `simsent train --model`)."""
    from simsent.pretrain import pretrain as run_pretrain
    from simsent.pretrain import read_corpus

    files = _corpus_files(list(corpus), list(ctx.args))
    output_dir(output)
    _check_run(device, tokenizer, threads)
    fields = {f.name for f in dataclasses.fields(PretrainConfig)}
    cfg = PretrainConfig(
        **{k: v for k, v in locals().items() if k in fields}, output_dir=output, show_progress_bar=progress
    )
    texts, stats = read_corpus(files)
    typer.echo(
        f"corpus: {stats['sentences']} unique texts ({stats['duplicates_removed']} duplicates "
        f"removed), {stats['characters']} characters",
        err=True,
    )
    result = run_pretrain(texts, cfg, corpus_stats=stats)
    typer.echo(
        f"pretrained {result['steps']} steps in {result['seconds'] / 60:.1f} min ({result['stop_reason']}), "
        f"loss {result['first_loss']} -> {result['final_loss']}, {result['tokens_per_second']:.0f} tokens/s, "
        f"vocabulary {result['vocab_size']}, {result['parameters']:,} parameters; saved to {output}"
    )


def _corpus_files(corpus: list[str], extra: list[str]) -> list[str]:
    """``--corpus A B C`` (the files after the first arrive as extra arguments), each checked."""
    from simsent.errors import ConfigError

    bad = [a for a in extra if a.startswith("-")]
    if bad:
        raise ConfigError(f"unknown option(s): {' '.join(bad)} (see simsent pretrain --help)")
    files = corpus + extra
    for f in files:
        require_file(f, "--corpus")
    return files


def _check_run(device: str, tokenizer: str, threads: int | None) -> None:
    """An unknown or absent device and an unknown tokenizer fail before the corpus is read."""
    import torch

    from simsent.errors import ConfigError
    from simsent.modeling.device import resolve_device
    from simsent.pretrain.tokenizer_builder import TOKENIZER_KINDS

    resolve_device(device)
    if tokenizer not in TOKENIZER_KINDS:
        raise ConfigError(f"unknown --tokenizer {tokenizer!r}; choose from {', '.join(TOKENIZER_KINDS)}")
    if threads:
        torch.set_num_threads(threads)
