"""Atomic folder replacement: a reader never sees a half-written model, index or checkpoint.

Example:
    >>> tmp = tempfile.mkdtemp(dir=".")                         # doctest: +SKIP
    >>> ...write everything into tmp...
    >>> replace_dir(tmp, "runs/model")                          # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable


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
