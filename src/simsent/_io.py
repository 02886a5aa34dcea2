"""File writes in one idiom: atomic files and folders (a reader never sees a half-written model, index
or checkpoint), JSON, sha256.

Example:
    >>> tmp = tempfile.mkdtemp(dir=".")                         # doctest: +SKIP
    >>> ...write everything into tmp...    # doctest: +SKIP
    >>> replace_dir(tmp, "runs/model")                          # doctest: +SKIP
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import hashlib
import json
import logging
import os
import re
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
    checkpoint kept beside a saved model). Everything gets the usual permissions (:func:`usual_modes`).
    """
    path = os.path.abspath(os.fspath(path))
    usual_modes(tmp)
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


_UMASK: int | None = None


def umask() -> int:
    """The process umask (read once; ``os.umask`` can only be read by setting it)."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


def usual_mode(path: str) -> None:
    """Give ``path`` the permissions a plain ``open`` / ``mkdir`` would (``tempfile`` makes 0600/0700), so a
    model saved by one account can be read by another."""
    base = 0o777 if os.path.isdir(path) else 0o666
    os.chmod(path, base & ~umask())


def usual_modes(tree: str) -> None:
    """:func:`usual_mode` for ``tree`` and everything in it (libraries write some files 0600)."""
    usual_mode(tree)
    for root, dirs, files in os.walk(tree):
        for name in dirs + files:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                usual_mode(full)


#: prefix of the temporary folders simsent writes before renaming them into place
TMP_PREFIX = ".tmp-"


def temp_dir(parent: str, kind: str) -> str:
    """A new temporary folder ``parent/.tmp-<kind>-<pid>-*`` with the usual permissions; leftovers of
    killed runs (their process gone) are removed first.

    Example:
        >>> tmp = temp_dir("runs", "save")          # doctest: +SKIP
    """
    remove_stale_temp_dirs(parent)
    tmp = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{kind}-{os.getpid()}-", dir=parent)
    usual_mode(tmp)
    return tmp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_dirs(parent: str) -> None:
    """Remove ``.tmp-<kind>-<pid>-*`` folders in ``parent`` whose process no longer runs."""
    import re

    with contextlib.suppress(OSError):
        for name in os.listdir(parent):
            m = re.match(rf"^{re.escape(TMP_PREFIX)}[a-z]+-(\d+)-", name)
            if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
                logger.info("removing %s, left by a run that was killed", os.path.join(parent, name))
                shutil.rmtree(os.path.join(parent, name), ignore_errors=True)


def remove_empty_dirs(path: str | os.PathLike, keep_top: bool = False) -> None:
    """Remove ``path`` (unless ``keep_top``) and the folders under it that hold nothing (what a run that
    failed before writing anything leaves); folders with a file anywhere below them stay.

    Example:
        >>> remove_empty_dirs("runs/failed")      # doctest: +SKIP
    """
    path = os.fspath(path)
    if not os.path.isdir(path) or os.path.islink(path):
        return
    for root, _dirs, _files in os.walk(path, topdown=False):
        if keep_top and os.path.samefile(root, path):
            continue
        with contextlib.suppress(OSError):
            os.rmdir(root)  # fails, as it should, on a folder that is not empty


#: errno values of a write that failed for lack of space or a broken disk ("short": a write the writer
#: reports as cut short without saying why, as numpy and torch do)
WRITE_FAULTS = {"ENOSPC": "no space left on device", "EDQUOT": "disk quota exceeded",
                "EIO": "input/output error (the disk failed)", "EROFS": "read-only file system",
                "EFBIG": "file too large for this file system (or over the file-size limit, ulimit -f)",
                "short": "the write was cut short (a full disk, a file-size limit or a failing disk)"}
#: how writers that do not raise an OSError name the same faults (safetensors and onnx give the OS's words)
_FAULT_WORDS = {"No space left on device": "ENOSPC", "Disk quota exceeded": "EDQUOT",
                "File too large": "EFBIG", "Read-only file system": "EROFS", "Input/output error": "EIO"}
#: numpy ("9600 requested and 5088 written"), torch.save (a short write in its zip writer) and faiss
_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written|inline_container\.cc|PytorchStreamWriter failed|"
                          r"write error in ")


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _free_bytes(path: str) -> int | None:
    with contextlib.suppress(OSError):
        return shutil.disk_usage(path).free
    return None


def write_fault_kind(exc: BaseException, where: str = ".") -> str | None:
    """The key of :data:`WRITE_FAULTS` for a write that failed for lack of space or a broken disk, in any
    writer's words (an ``OSError``, safetensors' ``SafetensorError``, numpy's short write, torch, faiss,
    onnx); ``None`` for any other error. A short write is called ``ENOSPC`` when ``where`` has no room left.

    Example:
        >>> write_fault_kind(OSError(28, "No space left on device"))
        'ENOSPC'
        >>> write_fault_kind(Exception("I/O error: File too large (os error 27)"))
        'EFBIG'
        >>> write_fault_kind(ValueError("bad value")) is None
        True
    """
    import errno

    name = errno.errorcode.get(exc.errno or -1) if isinstance(exc, OSError) else None
    if name in WRITE_FAULTS:
        return name
    text = str(exc)
    code = re.search(r"os error (\d+)", text)
    if code and errno.errorcode.get(int(code.group(1))) in WRITE_FAULTS:
        return errno.errorcode[int(code.group(1))]
    for words, name in _FAULT_WORDS.items():
        if words in text:
            return name
    if _SHORT_WRITE.search(text):
        free = _free_bytes(where)
        return "ENOSPC" if free is not None and free < (1 << 20) else "short"
    return None


def write_fault_message(exc: BaseException, path: str, needed: int | None = None) -> str | None:
    """One line for a write that failed for lack of space or a broken disk (``None``: another error).

    Example:
        >>> import errno
        >>> write_fault_message(OSError(errno.ENOSPC, "x"), "/tmp/m", needed=2048)[:40]
        'cannot write /tmp/m: no space left on de'
    """
    where = os.path.dirname(os.path.abspath(path)) or "."
    name = write_fault_kind(exc, where)
    if name is None:
        return None
    detail = ""
    free = _free_bytes(where) if name in ("ENOSPC", "EDQUOT", "short") else None
    if free is not None:
        detail = f" ({_size(free)} free there" + (f", about {_size(needed)} needed)" if needed else ")")
    return (f"cannot write {path}: {WRITE_FAULTS[name]}{detail}; the previous output, if any, is kept: "
            "free some space or write elsewhere")


#: the outermost :func:`write_guard` in force: a save nested in another (a model folder written inside an
#: export's temporary folder) reports the path the user asked for, not the temporary one
_GUARDED: contextvars.ContextVar[tuple[str, int | None] | None] = contextvars.ContextVar(
    "write_guard", default=None
)


@contextlib.contextmanager
def write_guard(path: str | os.PathLike, needed: int | None = None) -> Iterator[None]:
    """Turn a failed write inside the block (disk full, quota, read-only, a broken disk or a file-size
    limit, whoever the writer is) into a one-line :class:`~simsent.errors.WriteFault` naming ``path``
    and the space ``needed`` (bytes, when known); any other error passes through. Inside another guard,
    the outer one's path and space are named."""
    from simsent.errors import SimsentError, WriteFault

    where, size = _GUARDED.get() or (os.fspath(path), needed)
    token = _GUARDED.set((where, size))
    try:
        yield
    except SimsentError:
        raise
    except Exception as exc:
        message = write_fault_message(exc, where, size)
        if message is None:
            raise
        raise WriteFault(message) from exc
    finally:
        _GUARDED.reset(token)


@contextlib.contextmanager
def folder_lock(path: str | os.PathLike, what: str, wait: float | None = None) -> Iterator[None]:
    """Hold the advisory lock ``<path>.lock`` of an output folder; the lock file is removed when the block
    ends, whether it succeeded or failed. With ``wait=None`` a folder another process holds is a one-line
    DataError at once (two ``train`` runs into one ``--output``); else wait up to ``wait`` seconds
    (writers of one index take turns).

    Example:
        >>> with folder_lock("runs/stsb", "train"):               # doctest: +SKIP
        ...     trainer.train()
    """
    from simsent.errors import DataError

    path = os.path.abspath(os.fspath(path))
    lock_file = path + ".lock"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = _take_lock(lock_file, wait)
    except TimeoutError as exc:
        if wait is None:
            raise DataError(
                f"{path} is in use by another {what} run (lock {lock_file}); wait for it to end or choose "
                "another output"
            ) from exc
        raise DataError(f"{path} stayed locked by another writer for {wait:.0f} s; try again") from exc
    except OSError as exc:
        raise DataError(write_fault_message(exc, lock_file)
                        or f"cannot write the lock {lock_file}: {exc.strerror or exc}") from exc
    try:
        yield
    finally:
        _drop_lock(lock_file, fd)


def _take_lock(lock_file: str, wait: float | None) -> int:
    """An open descriptor holding an exclusive ``flock`` on ``lock_file`` (created if needed); TimeoutError
    after ``wait`` seconds (``None``: do not wait). A file its holder removed while this process waited is
    not a lock any more: the lock is taken again on the file now at that path."""
    import fcntl
    import time

    deadline = time.monotonic() + (wait or 0)
    told = False
    while True:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise TimeoutError(lock_file) from None
            if not told:
                logger.info("another process is writing %s; waiting for it", lock_file[: -len(".lock")])
                told = True
            time.sleep(0.05)
            continue
        try:
            if os.stat(lock_file).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # the holder removed this file as we took it: take the one at the path now


def _drop_lock(lock_file: str, fd: int) -> None:
    """Remove ``lock_file`` while still holding it (a waiter then retries on a new file), then release."""
    with contextlib.suppress(OSError):
        os.remove(lock_file)
    os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, needed: int | None = None) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename. A failed
    write (a full disk) is a one-line DataError naming ``path`` and the ``needed`` bytes, when known.

    Example:
        >>> with atomic_path("out.json") as tmp:                    # doctest: +SKIP
        ...     open(tmp, "w").write("{}")
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.tmp-", dir=parent)
    os.close(fd)
    usual_mode(tmp)
    with write_guard(path, needed):  # outside the clean-up, so that the free space it names is true
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


def json_ready(obj: Any) -> Any:
    """``obj`` with numpy values as Python ones and NaN / infinities as ``None``, so that it is strict JSON
    (``NaN`` is not JSON: most readers other than Python's refuse it).

    Example:
        >>> json_ready({"spearman": float("nan"), "n": [1.5, float("inf")]})
        {'spearman': None, 'n': [1.5, None]}
    """
    import math

    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):  # numpy scalars and arrays
        return json_ready(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2) -> None:
    """Write ``obj`` as strict UTF-8 JSON (non-ASCII kept readable; NaN written as null, see
    :func:`json_ready`) to ``path`` atomically."""
    text = json.dumps(json_ready(obj), indent=indent, ensure_ascii=False, default=float, allow_nan=False)
    write_text(path, text + "\n")


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
