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


def require_file(path: str, option: str) -> str:
    """Return ``path`` if it is a file, else a one-line error naming the option."""
    if not os.path.isfile(path):
        raise DataError(f"file not found: {path} (check {option})")
    if os.path.getsize(path) == 0:
        raise DataError(f"file is empty: {path} (check {option})")
    return path


def split_list(spec: str) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]``."""
    return [s.strip() for s in spec.split(",") if s.strip()]


def load_model(path: str):
    """A :class:`~simsent.SentenceEncoder` from a folder or hub id."""
    from simsent.modeling.sentence_encoder import SentenceEncoder

    return SentenceEncoder.load(path)


def index_model(index, override: str | None):
    """The model that built ``index`` (or ``override``), checked against the index."""
    path = override or (index.model_info or {}).get("path")
    if not path:
        raise ConfigError("the index does not record its model path; pass --model")
    model = load_model(path)
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
