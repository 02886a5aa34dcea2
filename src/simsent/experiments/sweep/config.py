"""Settings of the sweep (``simsent sweep``): a grid of training sizes x epochs x seeds.

Example:
    >>> SweepConfig(model="m", output="o", epochs=[1, 2], supervised_epochs=[4]).epochs_of("cosent")
    [4]
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from simsent._constants import DEFAULT_MAX_LEN
from simsent.experiments.config import SeedsAndTasks, command_of, settings_hash


@dataclass
class SweepConfig(SeedsAndTasks):
    """Settings of ``simsent sweep``: Spearman over a grid of training sizes x epochs x seeds.

    Example:
        >>> cfg = SweepConfig(model="m", output="o", sizes=[50, 100], epochs=[1, 5], seeds=2)
        >>> len(cfg.grid("STS-B"))
        8
    """

    model: str
    output: str
    tasks: str | list[str] = "STS-B"
    data_dir: str | None = None
    sizes: list[int] = field(default_factory=lambda: [50, 100, 200, 400, 800])
    epochs: list[int] = field(default_factory=lambda: [1])
    #: epochs of the supervised objectives (default: ``epochs``)
    supervised_epochs: list[int] | None = None
    objectives: list[str] = field(default_factory=lambda: ["simcse"])
    seeds: int = 3
    seed_base: int = 42
    protocol: str = "inductive"
    pooling: str | None = None
    batch_size: int = 64
    lr: float = 3e-5
    dropout: float | None = None
    temperature: float = 0.05
    simcse_variant: str = "paper"
    max_len: int = DEFAULT_MAX_LEN
    eval_split: str | None = None
    max_eval_pairs: int | None = None
    #: files of extra unlabelled text, used only after the task's own text runs out
    extra_text: list[str] = field(default_factory=list)
    encode_batch_size: int = 64
    max_minutes: float | None = None
    #: the table's protocol code reads these; a sweep samples its own sizes
    max_train_samples: None = None
    max_whiten_samples: None = None

    def epochs_of(self, objective: str) -> list[int]:
        from simsent.losses import objective_class

        if objective_class(objective).supervised() and self.supervised_epochs:
            return list(self.supervised_epochs)
        return list(self.epochs)

    def grid(self, task: str) -> list[tuple[str, str, int, int, int]]:
        """Every ``(task, objective, size, epochs, seed)`` cell of one task."""
        return [
            (task, o, n, e, s)
            for o in self.objectives
            for n in self.sizes
            for e in self.epochs_of(o)
            for s in self.seed_list
        ]

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        for k in ("max_train_samples", "max_whiten_samples"):
            d.pop(k)
        return d

    def cell_key(self) -> str:
        """Hash of the settings that change a cell's numbers (not the grid, the budget or the output)."""
        skip = {
            "output",
            "tasks",
            "sizes",
            "epochs",
            "supervised_epochs",
            "objectives",
            "seeds",
            "seed_base",
            "seed_list",
            "data_dir",
            "encode_batch_size",
            "max_minutes",
            "protocol_description",
        }
        return settings_hash(self.to_dict(), skip)

    def command_line(self) -> str:
        """An equivalent ``simsent sweep`` command (each ``--extra-text`` file after it)."""
        flags = {
            "tasks": "--task",
            "objectives": "--objective",
            "extra_text": None,
            "encode_batch_size": None,
        }
        command = command_of(["simsent", "sweep"], self, flags)
        return " ".join([command, *(shlex.join(["--extra-text", path]) for path in self.extra_text)])
