"""File writes in one idiom: atomic files and folders (a reader never sees a half-written model, index
or checkpoint), JSON, sha256.

Example:
    >>> tmp = tempfile.mkdtemp(dir=".")                         # doctest: +SKIP
    >>> ...write everything into tmp...
    >>> replace_dir(tmp, "runs/model")                          # doctest: +SKIP
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

logger = logging.getLogger(__name__)


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
    write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False, default=float) + "\n")


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


#: environment variable naming the encoding of input text files (``simsent --encoding``); unset: detect
ENCODING_ENV = "SIMSENT_ENCODING"
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _first_invalid(path: str, encoding: str, chunk: int = 1 << 20) -> int | None:
    """Byte offset of the first byte ``encoding`` cannot decode (``None``: the whole file decodes)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    done = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                return done + exc.start
            if not block:
                return None
            done += len(block)


def detect_encoding(path: str | os.PathLike) -> str:
    """The encoding of a text file: ``$SIMSENT_ENCODING`` if set, a BOM, UTF-8, else GB18030 (GBK).

    A file with NUL bytes (binary) or that decodes in none of them is a one-line
    :class:`~simsent.errors.DataError` naming the file and the byte offset.

    Example:
        >>> detect_encoding("faq_gbk.txt")   # doctest: +SKIP
        'gb18030'
    """
    from simsent.errors import DataError

    path = os.fspath(path)
    forced = os.environ.get(ENCODING_ENV)
    if forced:
        try:
            codecs.lookup(forced)
        except LookupError as exc:
            raise DataError(f"unknown encoding {forced!r} (--encoding); try utf-8 or gb18030") from exc
        return forced
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    nul = head.find(b"\x00")
    if nul >= 0:
        raise DataError(f"{path}: looks like a binary file (NUL byte at offset {nul}); expected text")
    bad = _first_invalid(path, "utf-8")
    if bad is None:
        return "utf-8"
    if _first_invalid(path, "gb18030") is None:
        logger.info("%s: not UTF-8; read as GB18030 (GBK); pass --encoding to choose another", path)
        return "gb18030"
    raise DataError(
        f"{path}: not readable text (invalid UTF-8 at byte offset {bad}, not GB18030/GBK either); "
        "convert it to UTF-8 or pass --encoding"
    )


def open_text(path: str | os.PathLike, newline: str | None = None) -> Any:
    """Open a user's text file for reading in its detected encoding (see :func:`detect_encoding`)."""
    encoding = detect_encoding(path)
    return open(path, encoding=encoding, newline=newline)
