"""Errors a user can cause; the CLI turns them into one clear line and exit code 2.

Example:
    >>> raise SimsentError("file not found: x.txt (check --train-file)")
    Traceback (most recent call last):
    ...
    simsent.errors.SimsentError: file not found: x.txt (check --train-file)
"""

from __future__ import annotations


class SimsentError(Exception):
    """A user-facing error whose message names the problem and the fix."""


class DataError(SimsentError, ValueError):
    """Bad or missing input data (file, column, line)."""


class WriteFault(DataError):
    """A write that failed for lack of space or a broken disk (see :func:`simsent._io.write_guard`)."""


class ModelLoadError(SimsentError):
    """A model that cannot be found or loaded (offline, wrong path, wrong format)."""


class ConfigError(SimsentError, ValueError):
    """An invalid option value (unknown pooling, objective, task, ...)."""


def check_number(
    name: str,
    value: object,
    *,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    optional: bool = False,
) -> None:
    """Raise a one-line :class:`ConfigError` unless ``value`` is a finite number in range.

    Example:
        >>> check_number("lr", 3e-5, minimum=0, exclusive_minimum=True)
        >>> check_number("batch_size", 0, integer=True, minimum=1)
        Traceback (most recent call last):
        ...
        simsent.errors.ConfigError: batch_size must be an integer >= 1, got 0
    """
    import math

    if value is None and optional:
        return
    kind = "an integer" if integer else "a number"
    bounds = []
    if minimum is not None:
        bounds.append(f"{'>' if exclusive_minimum else '>='} {minimum:g}")
    if maximum is not None:
        bounds.append(f"<= {maximum:g}")
    wanted = f"{kind} {' and '.join(bounds)}".strip()
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    ok = ok and not isinstance(value, bool) and math.isfinite(value)
    if ok and minimum is not None:
        ok = value > minimum if exclusive_minimum else value >= minimum
    if ok and maximum is not None:
        ok = value <= maximum
    if not ok:
        raise ConfigError(f"{name} must be {wanted}, got {value!r}")


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of ``exc``'s message, cut at ``limit`` characters (its type's name when it says
    nothing), for a one-line error that quotes a library's own.

    Example:
        >>> first_line(ValueError("bad config" + chr(10) + "Traceback ..."))
        'bad config'
        >>> first_line(KeyError())
        'KeyError'
    """
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__

