"""The Chinese STS tasks (ATEC, BQ, LCQMC, PAWSX, STS-B) found under a data dir.

Files live at ``<data_dir>/<TASK>/<TASK>.<split>.data`` in the senteval_cn format.

Example:
    >>> pairs = load_task("STS-B", "valid", "data/senteval_cn")      # doctest: +SKIP
    >>> positive_threshold("STS-B"), positive_threshold("LCQMC")
    (4.0, 1.0)
"""

from __future__ import annotations

import os
from typing import Any

from simsent.data.readers import read_senteval
from simsent.errors import ConfigError, DataError

TASKS = ("ATEC", "BQ", "LCQMC", "PAWSX", "STS-B")
SPLITS = ("train", "valid", "test")
DATA_DIR_ENV = "SIMSENT_DATA_DIR"


def check_task(task: str) -> str:
    """Normalise the spelling (``sts-b`` -> ``STS-B``) or raise a clear error."""
    upper = {t.upper(): t for t in TASKS}
    if task.upper() not in upper:
        raise ConfigError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
    return upper[task.upper()]


def parse_tasks(spec: str) -> list[str]:
    """``"ATEC,BQ"`` -> ``["ATEC", "BQ"]`` (a task named twice counts once); ``"all"`` -> every task."""
    if spec.strip().lower() == "all":
        return list(TASKS)
    return list(dict.fromkeys(check_task(t.strip()) for t in spec.split(",") if t.strip()))


def resolve_data_dir(data_dir: str | None) -> str:
    """The data dir given, else ``$SIMSENT_DATA_DIR``; a clear error when neither is set."""
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV)
    if not data_dir:
        raise ConfigError(
            f"no data dir: pass --data-dir <dir with TASK/TASK.split.data> or set {DATA_DIR_ENV}"
        )
    if not os.path.isdir(data_dir):
        raise DataError(f"data dir not found: {data_dir}")
    return data_dir


def task_file(data_dir: str, task: str, split: str) -> str:
    """Path of a task split; a clear error naming the expected path when it is missing."""
    task = check_task(task)
    path = os.path.join(data_dir, task, f"{task}.{split}.data")
    if not os.path.isfile(path):
        raise DataError(f"task file not found: {path} (expected <data-dir>/{task}/{task}.{split}.data)")
    return path


def available_splits(data_dir: str, task: str) -> list[str]:
    """Splits of ``task`` present under ``data_dir``."""
    task = check_task(task)
    return [s for s in SPLITS if os.path.isfile(os.path.join(data_dir, task, f"{task}.{s}.data"))]


def load_task(task: str, split: str, data_dir: str) -> list[dict[str, Any]]:
    """Rows ``sentence1, sentence2, score`` of one task split."""
    return read_senteval(task_file(data_dir, task, split))


def positive_threshold(task: str) -> float:
    """Gold label at or above which a pair counts as a positive (4.0 of 5 for STS-B, else 1)."""
    return 4.0 if check_task(task) == "STS-B" else 1.0
