"""Advisory folder locks: two runs writing into one folder wait for (or refuse) each other.

Example:
    >>> with folder_lock("runs/model", "train"):             # doctest: +SKIP
    ...     train()
"""


import contextlib
import logging
import os
from collections.abc import Iterator

from simsent._io.faults import write_fault_message

logger = logging.getLogger(__name__)


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
