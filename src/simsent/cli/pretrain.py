"""CLI command: pretrain a small masked-LM encoder from raw text (or continue pretraining one).

Example:
    $ simsent pretrain --corpus news.txt STS-B.train.data --tokenizer char --layers 4 --hidden 256 \\
        --heads 4 --max-len 64 --output runs/mlm --max-minutes 60
    $ simsent pretrain --corpus domain.txt --init runs/mlm --output runs/mlm-domain --epochs 3
    $ simsent train --model runs/mlm --train-file sents.txt --pooling first_last_avg --output runs/simcse
"""

from __future__ import annotations

import typer

from simsent.cli.common import output_dir, require_file
from simsent.cli.options import settings_command
from simsent.pretrain.config import PretrainConfig


@settings_command(PretrainConfig)
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
    threads: int | None = typer.Option(None, min=1, help="torch CPU threads."),
    progress: bool = typer.Option(True, help="Show a progress bar with loss and tokens/s."),
    settings: dict | None = None,
) -> None:
    """Pretrain a small BERT by masked language modelling on raw text (for `simsent train --model`)."""
    from simsent.pretrain import pretrain as run_pretrain
    from simsent.pretrain import read_corpus

    files = _corpus_files(list(corpus), list(ctx.args))
    output_dir(output)
    settings = settings or {}
    _check_run(settings["device"], settings["tokenizer"], threads)
    cfg = PretrainConfig(**settings, output_dir=output, show_progress_bar=progress)
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
