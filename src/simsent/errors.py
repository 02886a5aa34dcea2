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


class ModelLoadError(SimsentError):
    """A model that cannot be found or loaded (offline, wrong path, wrong format)."""


class ConfigError(SimsentError, ValueError):
    """An invalid option value (unknown pooling, objective, task, ...)."""
