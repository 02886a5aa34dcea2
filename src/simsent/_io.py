"""File writes in one idiom: atomic files and folders (a reader never sees a half-written model, index
or checkpoint), JSON, sha256.

Example:
    >>> tmp = tempfile.mkdtemp(dir=".")                         # doctest: +SKIP
    >>> ...write everything into tmp...
    >>> replace_dir(tmp, "runs/model")                          # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any


def replace_dir(tmp: str, path: str, carry_over: Callable[[str], bool] | None = None) -> None:
    """Put the finished folder ``tmp`` at ``path`` with renames only.

    The old folder is first renamed aside, then ``tmp`` renamed into place, then the old one removed,
    so ``path`` is always either the complete old or the complete new folder (a crash between the two
    renames leaves the old one at ``<path>.old-*``). Entries of the old folder for which
    ``carry_over(name)`` is true and that ``tmp`` lacks are moved into the new folder (e.g. a training
    checkpoint kept beside a saved model).
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.isdir(path):
        os.replace(tmp, path)
        return
    if carry_over is not None:
        for name in os.listdir(path):
            if carry_over(name) and not os.path.exists(os.path.join(tmp, name)):
                os.replace(os.path.join(path, name), os.path.join(tmp, name))
    old = tempfile.mkdtemp(prefix=os.path.basename(path) + ".old-", dir=os.path.dirname(path))
    os.rmdir(old)
    os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    Example:
        >>> with atomic_path("out.json") as tmp:                    # doctest: +SKIP
        ...     open(tmp, "w").write("{}")
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.tmp-", dir=parent)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)


def write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2) -> None:
    """Write ``obj`` as UTF-8 JSON (non-ASCII kept readable) to ``path`` atomically."""
    write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


def read_json(path: str | os.PathLike, what: str = "file") -> Any:
    """Parse a JSON file, or raise a one-line :class:`~simsent.errors.DataError` naming it."""
    from simsent.errors import DataError

    try:
        with open(path, encoding="utf-8-sig") as f:
            return json.load(f)
    except FileNotFoundError as exc:
        raise DataError(f"{what} not found: {path}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{what} {path} is not valid JSON ({exc}); restore or recreate it") from exc


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()
