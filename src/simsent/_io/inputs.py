"""A user's input files: their encoding (UTF-8 with or without a BOM, GB18030/GBK, Big5, UTF-16), pipes
and unreadable paths refused in one line, and the table dialect of a .csv/.tsv.

Example:
    >>> detect_encoding("faq_gbk.txt")                       # doctest: +SKIP
    'gb18030'
"""


import codecs
import contextlib
import logging
import os
import shutil
import tempfile
from typing import Any

logger = logging.getLogger(__name__)



ENCODING_ENV = "SIMSENT_ENCODING"
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _scan(path: str, encoding: str, chunk: int = 1 << 20) -> tuple[int | None, int | None]:
    """Byte offsets of the first byte ``encoding`` cannot decode and of the first NUL (``None``: none)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    done, nul = 0, None
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if nul is None and b"\x00" in block:
                nul = done + block.index(b"\x00")
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                return done + exc.start, nul
            if not block:
                return None, nul
            done += len(block)


def _first_invalid(path: str, encoding: str) -> int | None:
    """Byte offset of the first byte ``encoding`` cannot decode (``None``: the whole file decodes)."""
    return _scan(path, encoding)[0]


def _common_share(text: str, encoding: str, lead: tuple[int, int]) -> float:
    """Share of the CJK characters of ``text`` among the common ones of ``encoding`` (lead byte in
    ``lead``: GB2312 level 1 for GB18030, Big5's frequent characters for Big5)."""
    cjk = [ch for ch in text if "\u3400" <= ch <= "\u9fff"]
    if not cjk:
        return 0.0
    common = 0
    for ch in cjk:
        with contextlib.suppress(UnicodeEncodeError):
            common += lead[0] <= ch.encode(encoding)[0] <= lead[1]
    return common / len(cjk)


def _gb_or_big5(path: str) -> str:
    """``gb18030`` or ``big5`` for a file that decodes as both, by which reading gives common characters;
    a one-line error asking for ``--encoding`` when the text is too short or the two are close."""
    from simsent.errors import DataError

    with open(path, "rb") as f:
        head = f.read(1 << 16)
    head = head[: len(head) - 2] if len(head) == 1 << 16 else head  # do not cut a character in two
    gb = _common_share(head.decode("gb18030", "ignore"), "gb2312", (0xB0, 0xD7))
    big5 = _common_share(head.decode("big5", "ignore"), "big5", (0xA4, 0xC6))
    if abs(gb - big5) < 0.2:
        raise DataError(
            f"{path}: cannot tell whether it is GB18030/GBK or Big5 (traditional Chinese); "
            "pass --encoding gb18030 or --encoding big5"
        )
    return "gb18030" if gb > big5 else "big5"


def _forced_encoding(path: str, forced: str) -> str:
    from simsent.errors import DataError

    try:
        codecs.lookup(forced)
    except LookupError as exc:
        raise DataError(f"unknown encoding {forced!r} (--encoding); try utf-8 or gb18030") from exc
    try:
        bad, nul = _scan(path, forced)
    except UnicodeError as exc:  # the codec itself refuses (UTF-16 or UTF-32 without a BOM)
        hint = " (no BOM: say utf-16-le or utf-16-be)" if "BOM" in str(exc) else ""
        raise DataError(f"{path}: cannot be read as {forced} (--encoding): {exc}{hint}") from exc
    if bad is not None:
        raise DataError(f"{path}: not {forced} (--encoding): undecodable byte at offset {bad}")
    if nul is not None and not forced.lower().replace("-", "").startswith("utf16"):
        raise DataError(f"{path}: looks like a binary file (NUL byte at offset {nul}); expected text")
    return forced


def detect_encoding(path: str | os.PathLike) -> str:
    """The encoding of a text file: ``$SIMSENT_ENCODING`` if set (and fitting the file), a BOM, UTF-8,
    else GB18030 (GBK) or Big5, whichever gives common characters.

    A file with NUL bytes anywhere (binary), that decodes in none of them, or that is as much GB18030 as
    Big5 is a one-line :class:`~simsent.errors.DataError` naming the file (and the byte offset).

    Example:
        >>> detect_encoding("faq_gbk.txt")   # doctest: +SKIP
        'gb18030'
    """
    from simsent.errors import DataError

    path = os.fspath(path)
    forced = os.environ.get(ENCODING_ENV)
    if forced:
        return _forced_encoding(path, forced)
    with open(path, "rb") as f:
        head = f.read(4)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    bad, nul = _scan(path, "utf-8")
    if nul is not None:
        raise DataError(f"{path}: looks like a binary file (NUL byte at offset {nul}); expected text")
    if bad is None:
        return "utf-8"
    if _first_invalid(path, "gb18030") is None:
        encoding = _gb_or_big5(path) if _first_invalid(path, "big5") is None else "gb18030"
        logger.info("%s: not UTF-8; read as %s; pass --encoding to choose another", path, encoding.upper())
        return encoding
    if _first_invalid(path, "big5") is None:
        logger.info("%s: not UTF-8; read as BIG5; pass --encoding to choose another", path)
        return "big5"
    raise DataError(
        f"{path}: not readable text (invalid UTF-8 at byte offset {bad}, not GB18030/GBK or Big5 either); "
        "convert it to UTF-8 or pass --encoding"
    )


_STREAM_COPIES: dict[str, str] = {}


def check_input_file(path: str | os.PathLike, option: str | None = None) -> str:
    """``path`` if it can be read as a file, else a one-line DataError that says why (not found,
    permission denied, a folder, under a file). A pipe or process substitution (``<(zcat x.gz)``) is read
    once into a temporary copy, whose path is returned, so that it can be read more than once.

    Example:
        >>> check_input_file("sents.txt", "--train-file")     # doctest: +SKIP
        'sents.txt'
    """
    import stat

    from simsent.errors import DataError

    path = os.fspath(path)
    hint = f" (check {option})" if option else ""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError as exc:
        raise DataError(f"file not found: {path}{hint}") from exc
    except PermissionError as exc:
        raise DataError(f"permission denied: {path} (a folder on the way cannot be read){hint}") from exc
    except NotADirectoryError as exc:
        raise DataError(f"file not found: {path}: part of the path is a file, not a folder{hint}") from exc
    if stat.S_ISDIR(mode):
        raise DataError(f"{path} is a folder; {option or 'this'} expects a file")
    if not os.access(path, os.R_OK):
        raise DataError(f"permission denied: {path}{hint}")
    if stat.S_ISREG(mode):
        return path
    return _stream_copy(path)


def _stream_copy(path: str) -> str:
    """A temporary file holding what the pipe ``path`` gives (made once per path, removed at exit)."""
    import atexit

    if path not in _STREAM_COPIES:
        folder = tempfile.mkdtemp(prefix="simsent-stream-")
        atexit.register(shutil.rmtree, folder, True)
        copy = os.path.join(folder, os.path.basename(path) or "stream")
        with open(path, "rb") as src, open(copy, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        logger.info("%s is a pipe: read into %s", path, copy)
        _STREAM_COPIES[path] = copy
    return _STREAM_COPIES[path]


def table_dialect(path: str) -> dict[str, Any]:
    """``csv`` reader options for a table file: ``.csv`` is comma-separated with quotes; every other
    extension is tab-separated with no quoting (a ``"`` opening a field never swallows later lines).

    Example:
        >>> table_dialect("pairs.tsv")["delimiter"], table_dialect("pairs.csv")["delimiter"]
        ('\\t', ',')
    """
    import csv

    if os.fspath(path).lower().endswith(".csv"):
        return {"delimiter": ","}
    return {"delimiter": "\t", "quoting": csv.QUOTE_NONE}


def open_text(path: str | os.PathLike, newline: str | None = None) -> Any:
    """Open a user's text file for reading in its detected encoding (see :func:`detect_encoding`)."""
    encoding = detect_encoding(path)
    return open(path, encoding=encoding, newline=newline)
