"""Files written atomically (a reader never sees half a file), JSON in and out, sha256.

Example:
    >>> write_json("runs/x/result.json", {"spearman": 81.2})  # doctest: +SKIP
"""


import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from typing import Any

from simsent._io.faults import write_guard
from simsent._io.folders import usual_mode


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
