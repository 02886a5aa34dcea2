"""Entry point of the ``simsent`` command.

Each command lives in a file named after it (``simsent train`` in ``cli/train.py``) and is added to
``app`` below by an explicit import; errors a user can cause
(:class:`simsent.errors.SimsentError`) end in one line on stderr and exit code 2.

Example:
    $ simsent --help
    $ simsent similarity runs/stsb "今天天气不错" "今天天气很好"
"""

from __future__ import annotations

import logging
import os
import sys

import typer

from simsent.cli import (
    bench,
    calibrate,
    common,
    data,
    demo,
    distill,
    encode,
    export,
    fit,
    index,
    merge,
    mine,
    models,
    pretrain,
    rerank,
    serve,
    similarity,
    sweep,
    train,
    whiten,
)
from simsent.cli import eval as eval_command

app = typer.Typer(
    name="simsent",
    help="Train, evaluate and serve sentence embeddings with SimCSE-style contrastive learning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _configure(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors."),
    threads: int | None = typer.Option(
        None, "--threads", min=1, help="CPU threads for torch and onnxruntime (default: torch's own)."
    ),
    encoding: str | None = typer.Option(
        None,
        "--encoding",
        help="Encoding of input text files (default: detected: UTF-8 with or without BOM, else GB18030/GBK).",
    ),
) -> None:
    """Train, evaluate and serve sentence embeddings with SimCSE-style contrastive learning."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    if int(os.environ.get("RANK", "0")) > 0:  # one of several training processes: only the first speaks
        level = logging.WARNING
    # only simsent's own loggers speak at INFO; libraries (faiss's loader, transformers, ...) from WARNING
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("simsent").setLevel(level)
    if threads:
        import torch

        torch.set_num_threads(threads)
    if encoding:
        from simsent._io import ENCODING_ENV

        os.environ[ENCODING_ENV] = encoding
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "transformers" in sys.modules or not any(a in ("-h", "--help") for a in sys.argv):
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()


app.command("train")(train.train)
app.command("eval")(eval_command.evaluate)
app.command("encode")(encode.encode)
app.command("similarity")(similarity.similarity)
app.command("whiten")(whiten.whiten)
app.add_typer(index.index_app, name="index")
app.command("calibrate")(calibrate.calibrate)
app.command("mine")(mine.mine)
app.command("serve")(serve.serve)
app.command("pretrain", context_settings={"allow_extra_args": True})(pretrain.pretrain)
app.command("distill")(distill.distill)
app.command("export")(export.export)
app.command("merge")(merge.merge)
app.command("sweep")(sweep.sweep)
app.command("fit")(fit.fit)
app.command("demo")(demo.demo)
app.add_typer(models.models_app, name="models")
app.add_typer(rerank.rerank_app, name="rerank")
app.add_typer(bench.bench_app, name="bench")
app.add_typer(data.data_app, name="data")


def _one_line(exc: BaseException) -> str:
    """The first line of an exception's message, shortened."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def utf8_arguments(argv: list[str]) -> list[str]:
    """Arguments as text: one that is not UTF-8 (typed in a GBK terminal) is read as GB18030, or refused
    in one line.

    Example:
        >>> utf8_arguments(["eval", "模型"])
        ['eval', '模型']
    """
    from simsent.errors import ConfigError

    out = []
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes came in as surrogates
            raw = os.fsencode(arg)
            try:
                arg = raw.decode("gb18030")
            except UnicodeDecodeError:
                raise ConfigError(
                    f"argument {raw!r} is not UTF-8 or GBK text; set the terminal to UTF-8 and type it again"
                ) from None
        out.append(arg)
    return out


def _error(line: str) -> None:
    """Print an error line; launched as several processes (torchrun / accelerate), the others' lines
    say their rank (an error every process meets is raised by the first one only)."""
    import os

    rank = os.environ.get("RANK", "0")
    typer.echo(line if rank == "0" else f"[rank {rank}] {line}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI. Every error a user can cause ends in one ``error: ...`` line and exit code 2.

    That is :class:`~simsent.errors.SimsentError` (raised where the problem is known, with the fix),
    a bad option or argument (typer's usage errors, made one line), and, as a safety net, an
    operating-system error on a user's path (missing, not writable, a file where a folder belongs).
    Ctrl-C ends with exit code 130.
    """
    from typer._click import exceptions as click_errors

    from simsent.errors import SimsentError

    try:
        argv = utf8_arguments(sys.argv[1:] if argv is None else argv)
        common.INVOKED[:] = argv
        code = app(args=argv, standalone_mode=False)
    except SimsentError as exc:
        _error(f"error: {exc}")
        sys.exit(2)
    except click_errors.NoArgsIsHelpError as exc:
        typer.echo(exc.ctx.get_help() if exc.ctx else "simsent --help")
        sys.exit(0)
    except click_errors.UsageError as exc:
        where = f" (see {exc.ctx.command_path} --help)" if exc.ctx else ""
        _error(f"error: {_one_line(exc.format_message())}{where}")
        sys.exit(2)
    except click_errors.ClickException as exc:
        typer.echo(f"error: {_one_line(exc.format_message())}", err=True)
        sys.exit(exc.exit_code or 1)
    except (KeyboardInterrupt, typer.Abort):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except OSError as exc:
        from simsent._io import write_fault_message

        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        fault = write_fault_message(exc, exc.filename) if getattr(exc, "filename", None) else None
        typer.echo(f"error: {fault or (exc.strerror or _one_line(exc)) + where}", err=True)
        sys.exit(2)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
