"""Settings of the sweep (``simsent sweep``): a grid of training sizes x epochs x seeds.

Example:
    >>> SweepConfig(model="m", output="o", epochs=[1, 2], supervised_epochs=[4]).epochs_of("cosent")
    [4]
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from simsent._constants import DEFAULT_MAX_LEN, MAX_DROPOUT
from simsent._fields import check_fields, same_run_fields, setting
from simsent.experiments.config import DERIVED, SeedsAndTasks, command_of, settings_hash


@dataclass
class SweepConfig(SeedsAndTasks):
    """Settings of ``simsent sweep``: Spearman over a grid of training sizes x epochs x seeds.

    Example:
        >>> cfg = SweepConfig(model="m", output="o", sizes=[50, 100], epochs=[1, 5], seeds=2)
        >>> len(cfg.grid("STS-B"))
        8
    """

    model: str = setting(help="Hub id or local folder of the starting model.", cli=["--model", "-m"])
    output: str = setting(help="Folder for table.md/.csv/.json, plots and state.", cli=["--output", "-o"],
                          changes_run=False)
    # the grid and where the data is: a wider or narrower rerun reuses the finished cells
    tasks: str | list[str] = setting("STS-B", changes_run=False)
    data_dir: str | None = setting(None, "Folder with TASK/TASK.split.data (or $SIMSENT_DATA_DIR).",
                                   changes_run=False)
    sizes: list[int] = setting(default_factory=lambda: [50, 100, 200, 400, 800], changes_run=False)
    epochs: list[int] = setting(default_factory=lambda: [1], changes_run=False)
    #: epochs of the supervised objectives (default: ``epochs``)
    supervised_epochs: list[int] | None = setting(None, changes_run=False)
    objectives: list[str] = setting(default_factory=lambda: ["simcse"], changes_run=False)
    seeds: int = setting(3, "Seeds per cell (seed-base, seed-base+1, ...).", minimum=1, changes_run=False)
    seed_base: int = setting(42, "First seed.", changes_run=False)
    protocol: str = setting("inductive", "inductive (training text never holds an evaluated sentence) or "
                            "transductive (all splits).")
    pooling: str | None = setting(None, "Pooling (default: the model's own, else mean).")
    batch_size: int = setting(64, "Batch size (smaller cells train with fewer rows a batch).", minimum=2)
    lr: float = setting(3e-5, "Peak learning rate.", minimum=0, exclusive_minimum=True)
    dropout: float | None = setting(None, "Dropout (default: the model's).", minimum=0, maximum=MAX_DROPOUT)
    temperature: float = setting(0.05, "Softmax temperature of the contrastive losses.", minimum=1e-4)
    simcse_variant: str = setting("paper", "paper or symmetric.")
    max_len: int = setting(DEFAULT_MAX_LEN, "Max tokens per sentence.", minimum=2)
    eval_split: str | None = setting(None, "Split evaluated (default: test if present, else valid).")
    max_eval_pairs: int | None = setting(None, "Seeded subset of evaluation pairs.", minimum=2)
    #: files of extra unlabelled text, used only after the task's own text runs out
    extra_text: list[str] = setting(default_factory=list)
    encode_batch_size: int = setting(64, changes_run=False)
    max_minutes: float | None = setting(
        None, "Time budget: stop cleanly between cells (cheapest cells run first); rerun to resume.",
        changes_run=False)
    #: the table's protocol code reads these; a sweep samples its own sizes
    max_train_samples: None = None
    max_whiten_samples: None = None

    def __post_init__(self) -> None:
        check_fields(self)

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
        """Hash of the settings that change a cell's numbers: every field not declared ``changes_run=False``
        (the grid, the budget and the output are not)."""
        return settings_hash(self.to_dict(), [*same_run_fields(self), *DERIVED])

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
