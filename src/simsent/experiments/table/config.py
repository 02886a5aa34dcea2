"""Settings of the seed table (``simsent bench table``).

Example:
    >>> cfg = TableConfig(model="bert-base-chinese", output="results/x", tasks="STS-B", seeds=1)
    >>> cfg.seed_list
    [42]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simsent._constants import DEFAULT_MAX_LEN, MAX_DROPOUT
from simsent._fields import check_fields, same_run_fields, setting
from simsent.experiments.config import DERIVED, SeedsAndTasks, command_of, settings_hash


@dataclass
class TableConfig(SeedsAndTasks):
    """Settings of one seed-table run (the CLI flags of ``simsent bench table``)."""

    model: str = setting(help="Hub id or local folder of the model.", cli=["--model", "-m"])
    output: str = setting(help="Folder for table.md/.csv/.json and the resume state.", cli=["--output", "-o"],
                          changes_run=False)
    # which cells: a wider or narrower rerun reuses the finished ones
    poolings: list[str] = setting(default_factory=lambda: ["cls", "pooler", "first_last_avg", "last_avg"],
                                  changes_run=False)
    tasks: str | list[str] = setting("ATEC,BQ,LCQMC,PAWSX,STS-B", "Comma-separated tasks, or 'all'.",
                                     changes_run=False)
    seeds: int = setting(3, "Number of seeds (seed-base, seed-base+1, ...).", minimum=1, changes_run=False)
    seed_base: int = setting(42, "First seed.", changes_run=False)
    data_dir: str | None = setting(None, "Folder with TASK/TASK.split.data (or $SIMSENT_DATA_DIR).",
                                   changes_run=False)
    protocol: str = setting("inductive", "inductive (train/whiten on separate text) or transductive (on all "
                            "splits' text, as published).")
    batch_size: int = setting(64, "SimCSE batch size.", minimum=2)
    lr: float = setting(1e-5, "Peak learning rate.", minimum=0, exclusive_minimum=True)
    dropout: float = setting(0.3, "Dropout of SimCSE's two views.", minimum=0, maximum=MAX_DROPOUT)
    epochs: int = setting(1, "Passes over the SimCSE sample.", minimum=1)
    temperature: float = setting(0.05, "Softmax temperature of SimCSE.", minimum=1e-4)
    simcse_variant: str = setting("paper", "paper (N-1 negatives) or symmetric (2N-2, both directions; Su's "
                                  "Chinese runs).")
    max_len: int = setting(DEFAULT_MAX_LEN, "Max tokens per sentence.", minimum=2)
    max_train_samples: int | None = setting(10000, "Sentences sampled for SimCSE per run.", minimum=2)
    max_whiten_samples: int | None = setting(None, "Sentences for whitening (default: the SimCSE sample).",
                                             minimum=2)
    max_eval_pairs: int | None = setting(None, "Seeded subset of evaluation pairs.", minimum=2)
    whiten_dim: int | None = setting(None, "Whitening dimensions k (default: all).", minimum=1)
    eval_split: str | None = setting(None, "Split evaluated (default: test if present, else valid).")
    tfidf_ngram_range: tuple[int, int] = (1, 3)
    encode_batch_size: int = setting(64, changes_run=False)
    max_minutes: float | None = setting(
        None, "Time budget: cells that would overrun it are left out (rerun to resume).", changes_run=False)

    def __post_init__(self) -> None:
        check_fields(self)

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["tfidf_ngram_range"] = list(self.tfidf_ngram_range)
        return d

    def cell_key(self) -> str:
        """Hash of the settings that change a cell's numbers: every field not declared ``changes_run=False``
        (not the poolings, tasks or seeds tried, the budget or the output)."""
        return settings_hash(self.to_dict(), [*same_run_fields(self), *DERIVED])

    def command_line(self) -> str:
        """An equivalent ``simsent bench table`` command."""
        return command_of(
            ["simsent", "bench", "table"], self, {"tfidf_ngram_range": None, "encode_batch_size": None}
        )
