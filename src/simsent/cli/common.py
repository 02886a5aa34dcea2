"""Small helpers shared by CLI commands.

Example:
    >>> parse_kv(["scale=20", "name=x"])
    {'scale': 20, 'name': 'x'}
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import tempfile
from typing import Any

from simsent.errors import ConfigError, DataError


def parse_kv(items: list[str] | None) -> dict:
    """Parse ``key=value`` strings; values are JSON when they parse, else strings."""
    out: dict = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"expected key=value, got {item!r}")
        key, value = item.split("=", 1)
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


#: the arguments of the running ``simsent`` command (set by :func:`simsent.cli.main.main`)
INVOKED: list[str] = []


def invoked_as() -> str:
    """The running command as a shell line (``shlex.join`` of what was typed), for results files.

    Example:
        >>> INVOKED[:] = ["fit", "--output", "runs/a b"]; invoked_as()
        "simsent fit --output 'runs/a b'"
    """
    import shlex

    return shlex.join(["simsent", *INVOKED])


def require_file(path: str, option: str) -> str:
    """Return ``path`` if it is a readable file (a pipe: its temporary copy), else a one-line error naming
    the option."""
    from simsent._io import check_input_file

    path = check_input_file(path, option)
    if os.path.getsize(path) == 0:
        raise DataError(f"file is empty: {path} (check {option})")
    return path


def split_list(spec: str) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; a value given twice counts once.

    Example:
        >>> split_list("cls, mean,cls")
        ['cls', 'mean']
    """
    return list(dict.fromkeys(s.strip() for s in spec.split(",") if s.strip()))


def split_ints(spec: str, option: str) -> list[int]:
    """``"50,100"`` -> ``[50, 100]`` (each value once), or a one-line error naming ``option``.

    Example:
        >>> split_ints("50, 100, 50", "--sizes")
        [50, 100]
    """
    out = []
    for item in split_list(spec):
        try:
            out.append(int(item.replace("_", "").lower().replace("k", "000")))
        except ValueError:
            raise ConfigError(f"{option} takes comma-separated whole numbers, got {item!r}") from None
    if not out:
        raise ConfigError(f"{option} needs at least one number")
    return list(dict.fromkeys(out))


def split_floats(spec: str, option: str, low: float, high: float) -> list[float]:
    """``"0.25,0.5"`` -> ``[0.25, 0.5]`` (each once, each in [low, high]); ``""`` -> ``[]``; or a one-line
    error naming ``option``.

    Example:
        >>> split_floats("0.5, 0.25", "--merge-weights", 0, 1)
        [0.5, 0.25]
    """
    out = []
    for item in split_list(spec):
        try:
            value = float(item)
        except ValueError:
            raise ConfigError(f"{option} takes comma-separated numbers, got {item!r}") from None
        if not low <= value <= high:
            raise ConfigError(f"{option}: {item} is outside [{low:g}, {high:g}]")
        out.append(value)
    return list(dict.fromkeys(out))


def load_model(path: str, backend: str = "torch"):
    """A :class:`~simsent.SentenceEncoder` (its ONNX twin with ``backend="onnx"``) from a folder or hub id."""
    from simsent.modeling.sentence_encoder import SentenceEncoder

    return SentenceEncoder.load(path, backend=backend)


def index_model(index, override: str | None, backend: str = "torch"):
    """The model that built ``index`` (or ``override``), checked against the index."""
    path = override or (index.model_info or {}).get("path")
    if not path:
        raise ConfigError("the index does not record its model path; pass --model")
    model = load_model(path, backend)
    index.check_model(model)
    return model


def defaults_of(obj: Any) -> dict[str, Any]:
    """Default values of a dataclass's fields or a function's keyword parameters.

    The CLI reads its option defaults from here, so each default is declared once, in the library.

    Example:
        >>> from simsent.training.arguments import TrainingArguments
        >>> defaults_of(TrainingArguments)["batch_size"]
        64
    """
    if dataclasses.is_dataclass(obj):
        return {f.name: f.default for f in dataclasses.fields(obj) if f.default is not dataclasses.MISSING}
    return {
        name: p.default
        for name, p in inspect.signature(obj).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _creatable(path: str, option: str) -> None:
    """Create ``path`` as a folder (and its parents), or raise one line saying why it cannot be."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DataError(f"cannot create the folder {path} for {option}: {reason}") from exc
    try:  # a real write: os.access says yes to root even where nothing can be written (/proc)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise DataError(f"cannot write in {path} (check {option}): {exc.strerror or exc}") from exc


def output_dir(path: str, option: str = "--output") -> str:
    """Check that ``path`` can be (or is) an output folder; create its parent. Returns ``path``.

    An existing file, a path under a file, or an unwritable place is a one-line DataError.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise DataError(f"{option} {path} is an existing file; give a folder path")
    parent = os.path.dirname(os.path.abspath(path))
    _creatable(parent, option)
    return path


def output_file(path: str, option: str = "--output") -> str:
    """Check that ``path`` can be written as a file; create its folder. Returns ``path``."""
    if os.path.isdir(path):
        raise DataError(f"{option} {path} is a folder; give a file path")
    _creatable(os.path.dirname(os.path.abspath(path)), option)
    return path


def ready_model(path: str, device: str, precision: str, backend: str = "torch", **kwargs: Any):
    """Load a model onto ``--device`` with its inference ``--precision`` (both checked first)."""
    from simsent.modeling.loading import ready_model as load

    return load(path, device, precision, backend, **kwargs)


def read_texts(path: str, option: str) -> list[str]:
    """Every text of a user's file (both sides of pairs), or one line saying why there is none."""
    from simsent.data.columns import sentences_of
    from simsent.data.readers import read_any

    rows = read_any(require_file(path, option))
    texts = sentences_of(rows)
    if not texts:
        found = ", ".join(map(str, rows[0])) if rows and isinstance(rows[0], dict) else "none"
        raise DataError(
            f"{path}: no text found (columns: {found}); give one text per line, or a column named "
            "text, sentence or sentence1/sentence2"
        )
    return texts


def load_reranker(path: str, option: str, device: str = "cpu", backend: str = "torch") -> Any:
    """The cross-encoder in ``path`` (torch on ``device``, or ``backend="onnx"``: the int8 / fp32 graph
    ``simsent export`` wrote beside it); a folder that holds none is a one-line error."""
    from simsent.modeling.cross_encoder import CrossEncoder, is_cross_encoder
    from simsent.modeling.device import resolve_device

    if backend not in ("torch", "onnx"):
        raise ConfigError(f"unknown reranker backend {backend!r}; use torch or onnx")
    if not is_cross_encoder(path):
        raise ConfigError(f"{option} {path} is not a cross-encoder folder; train one with `simsent rerank "
                          "train`")
    model = CrossEncoder.load(path, backend=backend)
    return model.to(resolve_device(device)) if backend == "torch" else model
