"""The seed table: raw / BERT-whitening / unsupervised SimCSE Spearman per (pooling, task, seed).

For every ``(pooling, task, seed)`` cell a fresh model is loaded with that pooling and dropout,
its raw vectors are scored, whitening is fitted on the train text and scored, then SimCSE is
trained (:class:`simsent.training.trainer.Trainer`, objective ``simcse``) and the trained model is scored.
A TF-IDF character n-gram cosine row (fitted on the same train text) calibrates the numbers.

Protocols (named in every results file):

* ``inductive`` (default): training and whitening text never contains an evaluated pair. When
  the task has a ``train`` split, its sentences are the train text and the evaluation split is
  scored. When it has only the evaluation split, its pairs are split by seed into a train half
  (text only; sentences that also occur in the eval half are removed) and an eval half.
* ``transductive`` (the published setting): the train text is every sentence of every available
  split of the task (text only, labels never used); the evaluation split is scored.

Finished cells are appended to ``<output>/state.jsonl`` and skipped on a rerun with the same
settings, so an interrupted run resumes where it stopped.

Example:
    >>> cfg = TableConfig(model="bert-base-chinese", poolings=["cls"], tasks="STS-B", seeds=1,
    ...                   data_dir="data/senteval_cn", output="results/x")
    >>> run_table(cfg)                                                   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import random
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simsent.errors import ConfigError

logger = logging.getLogger(__name__)

PROTOCOLS = {
    "inductive": "SimCSE and whitening use only separate train text (the task's train split, else a seeded "
    "half of the evaluation pairs, text only, minus sentences of the evaluated half); "
    "evaluated pairs are never seen",
    "transductive": "SimCSE and whitening use the text (no labels) of all available splits of the task, "
    "the evaluated pairs included, as in the published experiment",
}
STATE_FILE = "state.jsonl"


@dataclass
class TableConfig:
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
    max_len: int = 64
    max_train_samples: int | None = 10000
    max_whiten_samples: int | None = None
    max_eval_pairs: int | None = None
    whiten_dim: int | None = None
    eval_split: str | None = None
    tfidf_ngram_range: tuple[int, int] = (1, 3)
    encode_batch_size: int = 64

    @property
    def seed_list(self) -> list[int]:
        return [self.seed_base + i for i in range(self.seeds)]

    @property
    def task_list(self) -> list[str]:
        from simsent.data.tasks import check_task, parse_tasks

        return parse_tasks(self.tasks) if isinstance(self.tasks, str) else [check_task(t) for t in self.tasks]

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["tasks"] = self.task_list
        d["seed_list"] = self.seed_list
        d["tfidf_ngram_range"] = list(self.tfidf_ngram_range)
        d["protocol_description"] = PROTOCOLS.get(self.protocol, "")
        return d

    def cell_key(self) -> str:
        """Hash of the settings that change a cell's numbers (not the list of poolings/tasks/seeds)."""
        keep = {
            k: v
            for k, v in self.to_dict().items()
            if k
            not in (
                "output",
                "poolings",
                "tasks",
                "seeds",
                "seed_base",
                "seed_list",
                "data_dir",
                "encode_batch_size",
                "protocol_description",
            )
        }
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]

    def command_line(self) -> str:
        """An equivalent ``simsent bench table`` command."""
        parts = [
            "simsent",
            "bench",
            "table",
            "--model",
            self.model,
            "--poolings",
            ",".join(self.poolings),
            "--tasks",
            ",".join(self.task_list),
            "--seeds",
            str(self.seeds),
            "--seed-base",
            str(self.seed_base),
        ]
        if self.data_dir:
            parts += ["--data-dir", self.data_dir]
        parts += [
            "--output",
            self.output,
            "--protocol",
            self.protocol,
            "--batch-size",
            str(self.batch_size),
            "--lr",
            str(self.lr),
            "--dropout",
            str(self.dropout),
            "--epochs",
            str(self.epochs),
            "--temperature",
            str(self.temperature),
            "--simcse-variant",
            self.simcse_variant,
            "--max-len",
            str(self.max_len),
        ]
        for flag, val in (
            ("--max-train-samples", self.max_train_samples),
            ("--max-whiten-samples", self.max_whiten_samples),
            ("--max-eval-pairs", self.max_eval_pairs),
            ("--whiten-dim", self.whiten_dim),
            ("--eval-split", self.eval_split),
        ):
            if val is not None:
                parts += [flag, str(val)]
        return " ".join(shlex.quote(p) for p in parts)


@dataclass
class TaskData:
    """Texts and pairs of one (task, seed) under a protocol."""

    task: str
    eval_split: str
    train_texts: list[str]
    whiten_texts: list[str]
    eval_rows: list[dict[str, Any]]
    files: list[str]


def _sample(items: Sequence[Any], n: int | None, seed: int) -> list[Any]:
    items = list(items)
    if n is None or len(items) <= n:
        return items
    idx = sorted(random.Random(seed).sample(range(len(items)), n))
    return [items[i] for i in idx]


def task_data(cfg: TableConfig, task: str, seed: int, data_dir: str) -> TaskData:
    """Build the train text, whitening text and evaluation pairs of ``task`` for ``seed``."""
    from simsent.data.columns import sentences_of
    from simsent.data.tasks import available_splits, load_task, task_file

    splits = available_splits(data_dir, task)
    eval_split = cfg.eval_split or ("test" if "test" in splits else "valid")
    if eval_split not in splits:
        task_file(data_dir, task, eval_split)  # raises the clear "not found" error
    eval_rows = load_task(task, eval_split, data_dir)
    files = [task_file(data_dir, task, eval_split)]
    if cfg.protocol == "transductive":
        texts: list[str] = []
        for s in splits:
            texts += sentences_of(eval_rows if s == eval_split else load_task(task, s, data_dir))
            files.append(task_file(data_dir, task, s))
    elif "train" in splits and eval_split != "train":
        texts = sentences_of(load_task(task, "train", data_dir))
        files.append(task_file(data_dir, task, "train"))
    else:
        rows = list(eval_rows)
        random.Random(seed).shuffle(rows)
        half = len(rows) // 2
        train_half, eval_rows = rows[:half], rows[half:]
        seen = set(sentences_of(eval_rows))
        texts = [t for t in sentences_of(train_half) if t not in seen]
    texts = list(dict.fromkeys(texts))
    if len(texts) < 2:
        raise ConfigError(
            f"{task}: fewer than 2 train sentences under the {cfg.protocol} protocol; add a train "
            "split or use more evaluation pairs"
        )
    train_texts = _sample(texts, cfg.max_train_samples, seed)
    whiten_texts = (
        train_texts if cfg.max_whiten_samples is None else _sample(texts, cfg.max_whiten_samples, seed)
    )
    eval_rows = _sample(eval_rows, cfg.max_eval_pairs, seed)
    return TaskData(task, eval_split, train_texts, whiten_texts, eval_rows, sorted(set(files)))


# ---------------------------------------------------------------------------------------------- cells
def _pair_vectors(
    model: Any, rows: Sequence[dict[str, Any]], batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    s1 = [r["sentence1"] for r in rows]
    s2 = [r["sentence2"] for r in rows]
    uniq = list(dict.fromkeys(s1 + s2))
    vecs = np.asarray(model.encode(uniq, batch_size=batch_size, convert_to_numpy=True), dtype=np.float64)
    index = {s: i for i, s in enumerate(uniq)}
    return vecs[[index[s] for s in s1]], vecs[[index[s] for s in s2]]


def run_cell(cfg: TableConfig, pooling: str, data: TaskData, seed: int) -> dict[str, Any]:
    """Raw, whitening and SimCSE metrics of one (pooling, task, seed)."""
    from simsent.adapt.whitening import apply_whitening, fit_whitening
    from simsent.data.tasks import positive_threshold
    from simsent.evaluation.sts import sts_metrics
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.seed import set_seed
    from simsent.training.trainer import Trainer

    start = time.perf_counter()
    set_seed(seed)
    thr = positive_threshold(data.task)
    gold = [r["score"] for r in data.eval_rows]
    model = SentenceEncoder.from_pretrained(
        cfg.model, pooling=pooling, max_len=cfg.max_len, dropout=cfg.dropout
    )
    v1, v2 = _pair_vectors(model, data.eval_rows, cfg.encode_batch_size)
    raw = sts_metrics(v1, v2, gold, thr)
    corpus = np.asarray(model.encode(data.whiten_texts, batch_size=cfg.encode_batch_size), dtype=np.float64)
    W, mu = fit_whitening(corpus, dim=cfg.whiten_dim)
    whitening = sts_metrics(apply_whitening(v1, W, mu), apply_whitening(v2, W, mu), gold, thr)
    tmp = tempfile.mkdtemp(prefix="simsent-table-")
    try:
        args = TrainingArguments(
            output_dir=tmp,
            objective="simcse",
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            temperature=cfg.temperature,
            simcse_variant=cfg.simcse_variant,
            seed=seed,
            max_len=cfg.max_len,
            dropout=cfg.dropout,
            pooling=pooling,
            eval_steps=0,
            checkpoint_steps=0,
            resume=False,
            show_progress_bar=False,
        )
        train = Trainer(model, args, train_rows=data.train_texts).train()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    model.eval()
    v1, v2 = _pair_vectors(model, data.eval_rows, cfg.encode_batch_size)
    simcse = sts_metrics(v1, v2, gold, thr)
    return {
        "pooling": pooling,
        "task": data.task,
        "seed": seed,
        "raw": raw,
        "whitening": whitening,
        "simcse": simcse,
        "train_sentences": len(data.train_texts),
        "whiten_sentences": len(data.whiten_texts),
        "eval_pairs": len(data.eval_rows),
        "eval_split": data.eval_split,
        "train_steps": train["global_step"],
        "train_seconds": train["train_seconds"],
        "seconds": time.perf_counter() - start,
    }


def run_tfidf_cell(cfg: TableConfig, data: TaskData, seed: int) -> dict[str, Any]:
    """TF-IDF character n-gram cosine, fitted on the train text, scored on the evaluation pairs.

    The vectors stay sparse (a dense copy of 10k pairs x 100k n-grams would take gigabytes); rows are
    L2-normalised by the vectoriser, so the row-wise dot product is the cosine. Spearman and Pearson
    only: alignment and uniformity describe dense embeddings.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    from simsent.evaluation.sts import correlation_metrics

    vec = TfidfVectorizer(
        analyzer="char", ngram_range=tuple(cfg.tfidf_ngram_range), sublinear_tf=True, norm="l2"
    )
    vec.fit(data.train_texts)
    a = vec.transform([r["sentence1"] for r in data.eval_rows])
    b = vec.transform([r["sentence2"] for r in data.eval_rows])
    cosine = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    m = correlation_metrics(cosine, [r["score"] for r in data.eval_rows])
    return {
        "pooling": "tfidf",
        "task": data.task,
        "seed": seed,
        "tfidf": m,
        "eval_pairs": len(data.eval_rows),
    }


# ---------------------------------------------------------------------------------------------- state
def load_state(output: str, key: str) -> list[dict[str, Any]]:
    """Finished cells of ``<output>/state.jsonl`` that were computed with settings ``key``."""
    path = os.path.join(output, STATE_FILE)
    cells = []
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    cell = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by an interruption
                if cell.get("key") == key:
                    cells.append(cell)
    return cells


def append_state(output: str, cell: dict[str, Any]) -> None:
    os.makedirs(output, exist_ok=True)
    with open(os.path.join(output, STATE_FILE), "a", encoding="utf-8") as f:
        f.write(json.dumps(cell, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


# ---------------------------------------------------------------------------------------------- estimate
def estimate_seconds(
    cfg: TableConfig, todo: Sequence[tuple[str, TaskData]], probe_pooling: str
) -> dict[str, float]:
    """Time a model load, one encoding batch and one SimCSE step, then extrapolate to ``todo`` cells."""
    import torch

    from simsent.modeling.sentence_encoder import SentenceEncoder

    t0 = time.perf_counter()
    model = SentenceEncoder.from_pretrained(
        cfg.model, pooling=probe_pooling, max_len=cfg.max_len, dropout=cfg.dropout
    )
    load_s = time.perf_counter() - t0
    sample = [s for _, d in todo[:1] for s in d.train_texts][: max(2, cfg.encode_batch_size)]
    model.encode(sample[:4])
    t0 = time.perf_counter()
    model.encode(sample, batch_size=cfg.encode_batch_size)
    enc_rate = len(sample) / max(time.perf_counter() - t0, 1e-6)
    batch = sample[: cfg.batch_size]
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr)
    model.train()

    def step(texts: list[str]) -> float:
        t0 = time.perf_counter()
        emb = model(model.tokenize(texts + texts))  # SimCSE sees each sentence twice
        # same cost as the SimCSE loss: one forward and backward of 2 x batch sentences
        loss = -torch.nn.functional.cosine_similarity(emb[: len(texts)], emb[len(texts) :]).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return time.perf_counter() - t0

    step(batch[:4])  # warm-up: optimiser state, first autograd call
    step_s = step(batch) * cfg.batch_size / max(1, len(batch))
    total = 0.0
    for _, d in todo:
        n_eval = len({s for r in d.eval_rows for s in (r["sentence1"], r["sentence2"])})
        steps = cfg.epochs * max(1, len(d.train_texts) // cfg.batch_size)
        total += load_s + (2 * n_eval + len(d.whiten_texts)) / enc_rate + steps * step_s + 2.0
    return {
        "seconds": total,
        "encode_sentences_per_second": enc_rate,
        "seconds_per_step": step_s,
        "load_seconds": load_s,
    }


# ---------------------------------------------------------------------------------------------- runner
def _check_poolings(cfg: TableConfig) -> tuple[list[str], dict[str, str]]:
    from simsent.modeling.pooling import check_pooling
    from simsent.modeling.sentence_encoder import SentenceEncoder

    for p in cfg.poolings:
        check_pooling(p)
    usable, skipped = [], {}
    if "pooler" in cfg.poolings:
        enc = SentenceEncoder.from_pretrained(cfg.model, pooling="cls").encoder
        if not enc.has_pooler():
            skipped["pooler"] = "the model has no dense+tanh pooler"
    usable = [p for p in cfg.poolings if p not in skipped]
    if not usable:
        raise ConfigError("no usable pooling: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    return usable, skipped


def run_table(
    cfg: TableConfig,
    argv: str | None = None,
    estimate_only: bool = False,
    echo: Callable[[str], None] = print,
    title: str = "Seed table",
) -> dict[str, Any] | None:
    """Run (or resume) every missing cell, then write ``table.md``, ``table.csv`` and ``table.json``.

    Returns ``{"markdown", "files", "rows", "cells", "provenance"}`` (``None`` with ``estimate_only``).
    """
    from simsent.data.tasks import resolve_data_dir
    from simsent.experiments.provenance import provenance
    from simsent.experiments.report import summarize_cells, write_reports

    if cfg.protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {cfg.protocol!r}; choose {' or '.join(PROTOCOLS)}")
    from simsent.losses.simcse import check_variant

    check_variant(cfg.simcse_variant)  # fail before the first cell, not at its SimCSE stage
    data_dir = resolve_data_dir(cfg.data_dir)
    tasks = cfg.task_list
    if not tasks:
        raise ConfigError("no tasks given (--tasks ATEC,BQ,...)")
    poolings, skipped = _check_poolings(cfg)
    for p, why in skipped.items():
        echo(f"skipping pooling {p}: {why}")
    key = cfg.cell_key()
    done = load_state(cfg.output, key)
    done_ids = {(c["pooling"], c["task"], c["seed"]) for c in done}
    data = {(t, s): task_data(cfg, t, s, data_dir) for t in tasks for s in cfg.seed_list}
    todo = [
        ((p, t, s), data[(t, s)])
        for p in poolings
        for t in tasks
        for s in cfg.seed_list
        if (p, t, s) not in done_ids
    ]
    tfidf_todo = [(t, s) for t in tasks for s in cfg.seed_list if ("tfidf", t, s) not in done_ids]
    n_total = len(poolings) * len(tasks) * len(cfg.seed_list)
    echo(
        f"{cfg.protocol} protocol: {n_total} cells ({len(poolings)} poolings x {len(tasks)} tasks x "
        f"{len(cfg.seed_list)} seeds); {n_total - len(todo)} already done in {cfg.output}/{STATE_FILE}"
    )
    if todo:
        est = estimate_seconds(cfg, [(c[0], d) for c, d in todo], todo[0][0][0])
        echo(
            f"estimated run time: {est['seconds'] / 60:.1f} min for {len(todo)} cells "
            f"(encode {est['encode_sentences_per_second']:.0f} sentences/s, "
            f"{est['seconds_per_step']:.2f} s per "
            f"SimCSE step of batch {cfg.batch_size}, model load {est['load_seconds']:.1f} s)"
        )
    if estimate_only:
        return None
    start = time.perf_counter()
    cells_run = 0
    for t, s in tfidf_todo:
        cell = {**run_tfidf_cell(cfg, data[(t, s)], s), "key": key}
        append_state(cfg.output, cell)
        done.append(cell)
    for i, ((p, t, s), d) in enumerate(todo, 1):
        cell = {**run_cell(cfg, p, d, s), "key": key}
        append_state(cfg.output, cell)
        done.append(cell)
        cells_run += 1
        elapsed = time.perf_counter() - start
        echo(
            f"[{i}/{len(todo)}] {p} {t} seed {s}: raw {cell['raw']['spearman']:.2f} whitening "
            f"{cell['whitening']['spearman']:.2f} SimCSE {cell['simcse']['spearman']:.2f} "
            f"({cell['seconds']:.0f} s; about {elapsed / i * (len(todo) - i) / 60:.1f} min left)"
        )
    run_seconds = time.perf_counter() - start
    wanted = {(p, t, s) for p in [*poolings, "tfidf"] for t in tasks for s in cfg.seed_list}
    cells = [c for c in done if (c["pooling"], c["task"], c["seed"]) in wanted]
    config = cfg.to_dict()
    config["skipped_poolings"] = skipped
    config["eval_split_used"] = sorted({d.eval_split for d in data.values()})
    files = sorted({f for d in data.values() for f in d.files})
    prov = provenance(cfg.command_line(), config, files, argv=argv)
    prov.update(
        {
            "run_seconds": run_seconds,
            "cells_run": cells_run,
            "cells_resumed": n_total - len(todo),
            "cell_seconds_total": sum(c.get("seconds", 0.0) for c in cells),
        }
    )
    rows = summarize_cells(cells, poolings, tasks)
    written = write_reports(cfg.output, rows, cells, prov, title=title)
    with open(written[0], encoding="utf-8") as f:
        markdown = f.read()
    return {"markdown": markdown, "files": written, "rows": rows, "cells": cells, "provenance": prov}
