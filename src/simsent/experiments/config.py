"""What every study's settings share: seeds and tasks (:class:`SeedsAndTasks`), the protocols, the
equivalent command line of a config and the hash of its settings. Each study's own config lives in
its folder (``table/config.py``, ``sweep/config.py``, ``fit/config.py``).

Example:
    >>> sorted(PROTOCOLS)
    ['inductive', 'transductive']
    >>> len(settings_hash({"lr": 3e-5}))
    16
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shlex
from collections.abc import Iterable
from typing import Any

PROTOCOLS = {
    "inductive": "SimCSE and whitening use only separate train text (the task's train split, else a seeded "
    "half of the evaluation pairs, text only, minus sentences of the evaluated half); "
    "evaluated pairs are never seen",
    "transductive": "SimCSE and whitening use the text (no labels) of all available splits of the task, "
    "the evaluated pairs included, as in the published experiment",
}


def _task_list(tasks: str | list[str]) -> list[str]:
    from simsent.data.tasks import check_task, parse_tasks

    return parse_tasks(tasks) if isinstance(tasks, str) else [check_task(t) for t in tasks]


def command_of(words: list[str], cfg: Any, flags: dict[str, str | None] | None = None) -> str:
    """An equivalent shell command for the dataclass ``cfg``: ``words``, then ``--field-name value`` for
    every field that differs from its default (lists joined by commas), derived from the fields so that no
    flag is spelled twice. ``flags`` renames a field's flag, or (``None``) leaves the field out.

    Example:
        >>> from simsent.experiments.sweep.config import SweepConfig
        >>> command_of(["simsent", "sweep"], SweepConfig(model="m", output="a b", sizes=[50, 100]))
        "simsent sweep --model m --output 'a b' --sizes 50,100"
    """
    flags = flags or {}
    parts = list(words)
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING
            )
        )
        flag = flags.get(f.name, "--" + f.name.replace("_", "-"))
        if flag is None or value is None or value == default:
            continue
        parts += [flag, ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)]
    return shlex.join(parts)


def settings_hash(settings: dict[str, Any], skip: Iterable[str] = ()) -> str:
    """A short hash of ``settings`` without the keys in ``skip``: the identity of a study's cells.

    Example:
        >>> settings_hash({"lr": 1e-5, "output": "a"}, skip=["output"]) == settings_hash({"lr": 1e-5})
        True
    """
    skip = set(skip)
    keep = {k: v for k, v in settings.items() if k not in skip}
    return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:16]


#: keys :meth:`SeedsAndTasks.to_dict` adds from the fields (none of them changes a cell's numbers)
DERIVED = ("seed_list", "protocol_description")


class SeedsAndTasks:
    """What a seeded study over tasks shares: ``seed_list``, ``task_list`` and the recorded settings."""

    seeds: int
    seed_base: int
    tasks: str | list[str]
    protocol: str

    @property
    def seed_list(self) -> list[int]:
        return [self.seed_base + i for i in range(self.seeds)]

    @property
    def task_list(self) -> list[str]:
        return _task_list(self.tasks)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["tasks"] = self.task_list
        d["seed_list"] = self.seed_list
        d["protocol_description"] = PROTOCOLS.get(self.protocol, "")
        return d
