"""What every results file records: command, config, package versions and data-file hashes.

Example:
    >>> prov = provenance("simsent bench table ...", {"seeds": 3}, [])
    >>> sorted(prov)
    ['argv', 'command', 'config', 'created', 'data_files', 'versions']
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.metadata
import os
import platform
from collections.abc import Iterable
from typing import Any

from simsent._io import sha256_file


def versions() -> dict[str, str]:
    """Versions of simsent, Python and the libraries that change the numbers."""
    from simsent import __version__

    out = {"simsent": __version__, "python": platform.python_version()}
    for pkg in ("torch", "transformers", "sentence-transformers", "numpy", "scikit-learn"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[pkg] = importlib.metadata.version(pkg)
    return out


def provenance(
    command: str, config: dict[str, Any], data_files: Iterable[str], argv: str | None = None
) -> dict[str, Any]:
    """The record written at the top of every results file."""
    files = sorted(set(data_files))
    return {
        "command": command,
        "argv": argv,
        "config": config,
        "versions": versions(),
        "data_files": {os.path.normpath(p): sha256_file(p) for p in files},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
