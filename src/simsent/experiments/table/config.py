"""Settings of the seed table (``simsent bench table``).

Example:
    >>> cfg = TableConfig(model="bert-base-chinese", output="results/x", tasks="STS-B", seeds=1)
    >>> cfg.seed_list
    [42]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simsent._constants import DEFAULT_MAX_LEN
from simsent.experiments.config import SeedsAndTasks, command_of, settings_hash


@dataclass
class TableConfig(SeedsAndTasks):
    """Settings of one seed-table run (the CLI flags of ``simsent bench table``)."""

    model: str
    output: str
    poolings: list[str] = field(default_factory=lambda: ["cls", "pooler", "first_last_avg", "last_avg"])
    tasks: str | list[str] = "ATEC,BQ,LCQMC,PAWSX,STS-B"
    seeds: int = 3
    seed_base: int = 42
    data_dir: str | None = None
    protocol: str = "inductive"
    batch_size: int = 64
    lr: float = 1e-5
    dropout: float = 0.3
    epochs: int = 1
    temperature: float = 0.05
    simcse_variant: str = "paper"
    max_len: int = DEFAULT_MAX_LEN
    max_train_samples: int | None = 10000
    max_whiten_samples: int | None = None
    max_eval_pairs: int | None = None
    whiten_dim: int | None = None
    eval_split: str | None = None
    tfidf_ngram_range: tuple[int, int] = (1, 3)
    encode_batch_size: int = 64
    #: time budget in minutes: cells that would overrun it are not started (a rerun resumes)
    max_minutes: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["tfidf_ngram_range"] = list(self.tfidf_ngram_range)
        return d

    def cell_key(self) -> str:
        """Hash of the settings that change a cell's numbers (not the list of poolings/tasks/seeds)."""
        skip = (
            "output",
            "poolings",
            "tasks",
            "seeds",
            "seed_base",
            "seed_list",
            "data_dir",
            "encode_batch_size",
            "protocol_description",
            "max_minutes",
        )
        return settings_hash(self.to_dict(), skip)

    def command_line(self) -> str:
        """An equivalent ``simsent bench table`` command."""
        return command_of(
            ["simsent", "bench", "table"], self, {"tfidf_ngram_range": None, "encode_batch_size": None}
        )
