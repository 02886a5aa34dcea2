"""Folders written whole: a finished temporary folder renamed into place, the usual permissions, stale
temporary folders and empty ones cleaned up.

Example:
    >>> tmp = temp_dir("runs", "save")                          # doctest: +SKIP
    >>> replace_dir(tmp, "runs/model")                          # doctest: +SKIP
"""


import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable

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
