"""Writes that fail (a full disk, a quota, a file-size limit, a short write): told apart and said in one
line that names the folder and the space it needs.

Example:
    >>> with write_guard("runs/model", needed=400 << 20):     # doctest: +SKIP
    ...     save_everything()
"""


import contextlib
import contextvars
import os
import re
import shutil
from collections.abc import Iterator

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
