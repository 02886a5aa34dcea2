"""Settings declared once: a dataclass field with its help, bounds and whether it changes a run.

The field's metadata generates the CLI option (:func:`simsent.cli.options.settings_command`), the check
(:func:`check_fields`) and the resume key (:func:`run_settings`); adding a field adds all three.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Knobs:
    ...     lr: float = setting(3e-5, "Peak learning rate.", minimum=0, exclusive_minimum=True)
    ...     logging_steps: int = setting(10, "Log every N steps.", minimum=0, changes_run=False)
    >>> check_fields(Knobs(lr=1e-5)); sorted(run_settings(Knobs()))
    ['lr']
    >>> check_fields(Knobs(lr=0))
    Traceback (most recent call last):
    ...
    simsent.errors.ConfigError: lr must be a number > 0, got 0
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

_BOUNDS = ("minimum", "maximum", "exclusive_minimum")


def setting(
    default: Any = dataclasses.MISSING,
    help: str | None = None,
    *,
    cli: Sequence[str] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    choices: Sequence[str] | None = None,
    changes_run: bool = True,
    default_factory: Callable[[], Any] | Any = dataclasses.MISSING,
) -> Any:
    """A dataclass field whose metadata is its CLI option (``help``; ``cli``: the option's names when
    not ``--field-name``; no help: not an option), its check (bounds, ``choices``) and whether a
    checkpoint written under another value resumes (``changes_run=False``: it does)."""
    meta = {"help": help, "cli": tuple(cli) if cli else None, "minimum": minimum, "maximum": maximum,
            "exclusive_minimum": exclusive_minimum, "choices": tuple(choices) if choices else None,
            "changes_run": changes_run}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=meta)


def check_fields(obj: Any) -> None:
    """Raise a one-line ConfigError for the first field outside its declared bounds or choices."""
    from simsent.errors import ConfigError, check_number

    for f in dataclasses.fields(obj):
        value, meta = getattr(obj, f.name), f.metadata
        if meta.get("choices") and value not in meta["choices"]:
            raise ConfigError(f"{f.name} must be one of {', '.join(meta['choices'])}, got {value!r}")
        if meta.get("minimum") is None and meta.get("maximum") is None:
            continue
        check_number(f.name, value, integer=_is_int(f), optional=_takes_none(f),
                     **{k: meta[k] for k in _BOUNDS})


def _takes_none(f: dataclasses.Field) -> bool:
    """Whether the field's type allows None (``int | None``)."""
    return f.default is None or "None" in (f.type if isinstance(f.type, str) else repr(f.type))


def _is_int(f: dataclasses.Field) -> bool:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    return kind.split("|")[0].strip() == "int"


def same_run_fields(obj: Any) -> list[str]:
    """The fields declared ``changes_run=False`` (a run, a checkpoint or a study's cells resume under
    another value of them)."""
    return [f.name for f in dataclasses.fields(obj) if not f.metadata.get("changes_run", True)]


def run_settings(obj: Any) -> dict[str, Any]:
    """The fields a checkpoint must have been written with to be resumed: all but ``changes_run=False``."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)
            if f.metadata.get("changes_run", True)}
