"""Name -> class tables whose classes are imported only when asked for (so ``--help`` stays fast).

Example:
    >>> load_registered({"dict": "builtins:dict"}, "dict", "container")
    <class 'dict'>
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from simsent.errors import ConfigError


def load_registered(table: Mapping[str, str], name: str, kind: str) -> Any:
    """Import and return ``table[name]`` (``"module:attribute"``); a one-line error for unknown names."""
    if name not in table:
        raise ConfigError(f"unknown {kind} {name!r}; choose one of: {', '.join(table)}")
    module, attr = table[name].split(":")
    return getattr(importlib.import_module(module), attr)
