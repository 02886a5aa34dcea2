"""Options shared by several commands, declared once: the model's device, precision and backend, the
Ray/shard spread, and the index backend. Each function returns a fresh ``typer.Option`` for a
parameter's default.

Example:
    >>> def encode(device: str = device_option(), workers: int | None = workers_option()): ...
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any

import typer

from simsent.search.backends import BACKENDS

PRECISION_HELP = "fp32, or bf16 / fp16 autocast (fp16 needs CUDA)."
MODEL_BACKEND_HELP = "torch, or onnx (a folder from `simsent export`, CPU)."
INDEX_BACKEND_HELP = (f"{' | '.join(BACKENDS)} (binary: sign bits, 32x smaller; rescored from vectors "
                      "on disk).")


def device_option() -> Any:
    """``--device``: where a model runs."""
    return typer.Option("auto", "--device", help="auto (cuda when available), cpu, cuda, cuda:N or mps.")


def precision_option() -> Any:
    """``--precision``: fp32, or bf16 / fp16 autocast (fp16 needs a CUDA device)."""
    return typer.Option("fp32", "--precision", help=PRECISION_HELP)


def backend_option() -> Any:
    """``--backend``: the model backend (torch, or onnx for a folder written by ``simsent export``)."""
    return typer.Option("torch", "--backend", help=MODEL_BACKEND_HELP)


def model_backend_option() -> Any:
    """``--model-backend``: the model backend where a command also has an index backend."""
    return typer.Option("torch", "--model-backend", help=MODEL_BACKEND_HELP)


def index_backend_option() -> Any:
    """``--index-backend``: the kind of vector index."""
    return typer.Option("exact", "--index-backend", help=INDEX_BACKEND_HELP)


def old_index_backend_option() -> Any:
    """``--backend``, the index backend's old spelling in ``index build``: hidden, still accepted."""
    return typer.Option(None, "--backend", hidden=True, help="Old spelling of --index-backend.")


def workers_option() -> Any:
    """``--workers``: encode on N Ray workers."""
    return typer.Option(None, "--workers", min=1,
                        help="Encode in shards on N Ray workers (a local Ray unless --ray); resumable.")


def ray_option() -> Any:
    """``--ray``: the address of a Ray cluster."""
    return typer.Option(None, "--ray", help="Ray cluster address (auto: the cluster this machine is in); "
                        "needs simsent[ray].")


def gpus_per_worker_option() -> Any:
    """``--gpus-per-worker``: GPUs a Ray worker asks for."""
    return typer.Option(0.0, "--gpus-per-worker", min=0.0, help="GPUs per Ray worker.")


def shard_rows_option(default: int | None) -> Any:
    """``--shard-rows``: rows per shard of encoded vectors."""
    return typer.Option(default, "--shard-rows", min=1,
                        help="Rows per shard (a folder of shards: memory holds one, a rerun resumes).")


def chosen_index_backend(index_backend: str, old_spelling: str | None) -> str:
    """The index backend, taking the old ``--backend`` spelling with a one-line notice on stderr."""
    if old_spelling is None:
        return index_backend
    typer.echo(f"notice: --backend of `index build` is now --index-backend; --backend {old_spelling} is "
               f"taken as --index-backend {old_spelling}", err=True)
    return old_spelling


def settings_options(cls: type, skip: tuple[str, ...] = ()) -> list[inspect.Parameter]:
    """A command parameter for every field of dataclass ``cls`` that declares a help text
    (:func:`simsent._fields.setting`): its names, help, default and inclusive bounds."""
    hints = typing.get_type_hints(cls)
    params = []
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if not meta.get("help") or f.name in skip:
            continue
        bounds = {}
        if meta.get("minimum") is not None and not meta.get("exclusive_minimum"):
            bounds["min"] = meta["minimum"]
        if meta.get("maximum") is not None:
            bounds["max"] = meta["maximum"]
        option = typer.Option(*(meta.get("cli") or ()), help=meta["help"], **bounds)
        default = ... if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING else (
            f.default if f.default is not dataclasses.MISSING else f.default_factory())
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=Annotated[_cli_type(hints[f.name]), option]))
    return params


def _cli_type(hint: Any) -> Any:
    """The option type of a field: its own, or ``str`` for a field that takes several types (``str |
    list[str]``: the config parses the text)."""
    kinds = [a for a in typing.get_args(hint) if a is not type(None)]
    if len(kinds) > 1:
        return str | None if type(None) in typing.get_args(hint) else str
    return hint


def settings_command(cls: type, skip: tuple[str, ...] = ()) -> Callable[[Callable], Callable]:
    """Give a command the options of dataclass ``cls``, declared once on its fields; the command gets their
    values as one dict, ``settings``.

    Example:
        >>> from simsent.training.arguments import TrainingArguments
        >>> @settings_command(TrainingArguments)
        ... def train(model: str = typer.Option(...), settings: dict | None = None) -> None: ...
        >>> "batch_size" in inspect.signature(train).parameters
        True
    """

    def wrap(func: Callable) -> Callable:
        hints = typing.get_type_hints(func, include_extras=True)
        own = [p.replace(annotation=hints.get(p.name, p.annotation))
               for p in inspect.signature(func).parameters.values() if p.name != "settings"]
        generated = settings_options(cls, skip)

        @functools.wraps(func)
        def command(**kwargs: Any) -> Any:
            settings = {p.name: kwargs.pop(p.name) for p in generated}
            return func(**kwargs, settings=settings)

        command.__signature__ = inspect.Signature(own + generated)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in own + generated}
        return command

    return wrap
