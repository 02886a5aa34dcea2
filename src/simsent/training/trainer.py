"""The training loop: AdamW, linear warm-up/decay, clipping, periodic dev evaluation keeping the
best model, resumable checkpoints, built on ``accelerate``.

Reads top to bottom: prepare data -> build objective, optimiser, schedule -> maybe resume ->
loop over batches (step, log, evaluate, checkpoint) -> save.

Example:
    >>> from simsent import SentenceEncoder, Trainer, TrainingArguments
    >>> model = SentenceEncoder.from_pretrained("bert-base-chinese", dropout=0.3)  # doctest: +SKIP
    >>> args = TrainingArguments(output_dir="runs/x", batch_size=64, lr=1e-5)
    >>> Trainer(model, args, train_rows=["句子一", "句子二"]).train()  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from tqdm.auto import tqdm

from simsent._io import write_json
from simsent.data.collator import TextBatchCollator
from simsent.data.sources import RowSource, row_source
from simsent.errors import ConfigError
from simsent.losses import Objective, objective_class
from simsent.training.arguments import TrainingArguments
from simsent.training.checkpoint import load_checkpoint, save_checkpoint
from simsent.training.compile import compile_encoder
from simsent.training.loop import apply_update, check_batch_split, log_process_count, stopping_cleanly
from simsent.training.schedule import LinearSchedule, linear_scheduler, make_optimizer
from simsent.training.seed import rng_state, set_rng_state, set_seed

if TYPE_CHECKING:
    from simsent.modeling.sentence_encoder import SentenceEncoder

logger = logging.getLogger(__name__)

#: 2: every run setting and the dropout (1: a hand-kept list of settings, no dropout)
RESUME_KEY_VERSION = 2

CHECKPOINT = "checkpoint-last"
CHECKPOINT_STATE = "state.pt"
#: default rows per encoder call on CPU (length-sorted, trailing padding trimmed): small chunks pad
#: least and train fastest there (measurements: results/defaults.md)
CPU_FORWARD_CHUNK = 16
#: default padded tokens per encoder call on a GPU: the duplicated batch in a few length-sorted chunks
#: (bert-base at batch 256: 2-3 calls instead of one padded to the longest row)
GPU_TOKEN_BUDGET = 16384
Evaluator = Callable[[Any], dict[str, float]]


@dataclass
class _Run:
    """What :meth:`Trainer._prepare` sets up for the epochs."""

    objective: Any
    optimizer: Any
    scheduler: Any
    loader: Any
    params: list[torch.nn.Parameter]
    total_steps: int
    start_epoch: int
    skip: int
    tokenize_seconds: float
    restore_eager: Callable[[], None]


@dataclass
class _Progress:
    """Where the epochs are: for logging, the final rate and a checkpoint on interrupt."""

    epoch: int
    step_in_epoch: int
    start: float
    running: torch.Tensor
    running_steps: int = 0
    seen: int = 0
    step_rng: Any = None
    mid_step: bool = False


class Trainer:
    """Train a :class:`~simsent.SentenceEncoder` with one objective.

    Args:
        model: the model to train (modified in place).
        args: :class:`~simsent.TrainingArguments`.
        train_rows: rows (dicts with canonical columns) or plain sentences.
        objective: an :class:`~simsent.losses.base.Objective`; default built from ``args.objective``.
        evaluator: an :class:`~simsent.evaluation.base.Evaluator` (``model -> metrics``); the checkpoint
            with the best ``primary_metric`` (default ``spearman``) is kept. The saved README model card
            is written by :func:`simsent.training.card.model_card`.
    """

    def __init__(
        self,
        model: SentenceEncoder,
        args: TrainingArguments,
        train_rows: Sequence[Any] | RowSource,
        objective: Objective | None = None,
        evaluator: Evaluator | None = None,
    ) -> None:
        self.model = model
        self.args = args
        set_seed(args.seed)
        self.objective = objective or objective_class(args.objective).from_args(model, args)
        if args.matryoshka_dims:
            from simsent.losses.matryoshka import MatryoshkaLoss

            self.objective = MatryoshkaLoss(self.objective, args.matryoshka_dims)
            model.extra_config["matryoshka_dims"] = self.objective.dims  # saved with the model
        if args.cache_chunk and not self.objective.cacheable:
            raise ConfigError(
                f"--cache-chunk needs an objective with in-batch negatives (simcse, supervised_simcse); "
                f"{self.objective.name!r} has none to cache"
            )
        check_batch_split(args.batch_size)
        self.rows = row_source(train_rows)
        self.rows.prepare_for(self.objective, args.max_train_samples, args.seed, args.dedup)
        self.evaluator = evaluator
        self.primary = getattr(evaluator, "primary_metric", "spearman")
        self.greater_is_better = bool(getattr(evaluator, "greater_is_better", True))
        self.history: list[dict[str, Any]] = []
        self.loss_history: list[tuple[int, float]] = []
        self._accelerator_ref: Any = None  # set by train(): the run's accelerator
        self.best_score = -math.inf
        self.global_step = 0
        self._key: dict[str, Any] | None = None

    # ------------------------------------------------------------------ pieces
    def _collate(self, tokenize: Callable) -> TextBatchCollator:
        obj = self.objective
        label_dtype = torch.long if getattr(obj, "label_dtype", "float") == "long" else torch.float
        return TextBatchCollator(tokenize, obj.text_columns, obj.views, obj.label_column, label_dtype)

    def _loader(self, accelerator: Any) -> Any:
        """Shuffled batches of the rows for this process (texts tokenised once up front when in memory;
        a streamed file is tokenised in worker processes as it is read)."""
        pad = getattr(self.model.encoder, "pad_to_multiple_of", None)
        return self.rows.loader(self._collate, self.model.tokenize, self.objective.text_columns,
                                self.args.batch_size, self.args.seed, accelerator.process_index,
                                accelerator.num_processes, accelerator.device.type == "cuda",
                                pad_to_multiple_of=pad, show_progress_bar=self.args.show_progress_bar)

    def _chunk_size(self, device: torch.device) -> int | None:
        """Rows per encoder call: ``args.forward_chunk_size``, else :data:`CPU_FORWARD_CHUNK` on CPU."""
        if self.args.forward_chunk_size is not None:
            return self.args.forward_chunk_size or None
        return CPU_FORWARD_CHUNK if device.type == "cpu" else None

    def _token_budget(self, device: torch.device) -> int | None:
        """Padded tokens per encoder call: :data:`GPU_TOKEN_BUDGET` on a GPU in fp32 (compute-bound: fewer
        padded tokens pay), none in bf16/fp16 (launch-bound: one call per step pays), unless a chunk size
        is set (measurements: results/defaults.md)."""
        if self.args.forward_chunk_size is not None or device.type == "cpu" or self.args.precision != "fp32":
            return None
        return GPU_TOKEN_BUDGET

    def evaluate(self) -> dict[str, float]:
        """Run the evaluator (if any) in eval mode and record the result."""
        if self.evaluator is None:
            return {}
        was = self.model.training
        self.model.eval()
        metrics = dict(self.evaluator(self.model))
        self.model.train(was)
        self.history.append({"step": self.global_step, **metrics})
        return metrics

    def _save_model(self, metrics: dict[str, float]) -> None:
        from simsent.training.card import model_card

        self.model.extra_config["training_args"] = self.args.to_dict()
        self.model.extra_config["dev_metrics"] = metrics
        self.model.save(
            self.args.output_dir, model_card=model_card(self.model, self.args, metrics, self.history)
        )
        self.args.save(self.args.output_dir)

    @property
    def _main(self) -> bool:
        """Whether this process evaluates, saves and writes checkpoints (the first of several)."""
        return self._accelerator_ref is None or self._accelerator_ref.is_main_process

    def _accelerator(self):
        """A fresh ``Accelerator`` for this run's device and precision (several runs per process work)."""
        from simsent.training.loop import make_accelerator

        return make_accelerator(self.args.device, self.args.precision)

    def _rank_rng_file(self, accelerator: Any, step: int) -> str:
        """This process's random state at ``step`` (one file per step written, so that the first process's
        state file, written last, always finds the others' files of its own step)."""
        return os.path.join(self.args.output_dir, CHECKPOINT, f"rng-{accelerator.process_index}-{step}.pt")

    def _save_rank_rng(self, accelerator: Any, rng: Any) -> None:
        """Write this process's random state for the current step; keep the previous step's file too (the
        state file may still name it) and remove older ones."""
        import glob

        save_checkpoint(self._rank_rng_file(accelerator, self.global_step), {"rng": rng})
        pattern = os.path.join(self.args.output_dir, CHECKPOINT, f"rng-{accelerator.process_index}-*.pt")
        by_step = sorted(glob.glob(pattern), key=lambda f: int(f.rsplit("-", 1)[1].split(".")[0]))
        for old in by_step[:-2]:
            os.remove(old)

    def _checkpoint_file(self) -> str:
        return os.path.join(self.args.output_dir, CHECKPOINT, CHECKPOINT_STATE)

    def _resume_key(self) -> dict[str, Any]:
        """What a checkpoint must match to be resumed: the starting model and its dropout, the data, the
        process count and every training setting that changes the trajectory (all of
        :meth:`TrainingArguments.run_settings`: a field added there is checked without a word here).
        Computed once, before any checkpoint is loaded."""
        if self._key is None:
            from simsent.modeling.sentence_encoder import dropout_rate, model_fingerprint

            self._key = {
                **self.args.run_settings(),
                "model": model_fingerprint(self.model),
                "dropout": dropout_rate(self.model),  # a model setting the weights do not show
                "data": self.rows.fingerprint(),
                "world_size": int(os.environ.get("WORLD_SIZE", "1")),  # another count: another run
                "key_version": RESUME_KEY_VERSION,
            }
        return self._key

    def _check_resume_key(self, saved: dict[str, Any] | None) -> None:
        from simsent.training.checkpoint import check_same_run

        current = self._resume_key()
        if saved is not None:
            check_same_run(saved, current, self._checkpoint_file())

    def _save_checkpoint(
        self, accelerator, epoch: int, step_in_epoch: int, rng: Any = None, together: bool = True
    ) -> None:
        """Model, optimiser, schedule, random states and progress in one weights-only file (written by the
        first process; each other process keeps its random state beside it). ``together`` (every process
        at the same step): the first process writes its file only once the others have written theirs,
        so a kill in between never pairs a new state with an older random state."""
        objective = accelerator.unwrap_model(self._prepared["objective"])
        if not accelerator.is_main_process:
            self._save_rank_rng(accelerator, rng if rng is not None else rng_state())
        if together:
            accelerator.wait_for_everyone()
        if not accelerator.is_main_process:
            return
        save_checkpoint(
            self._checkpoint_file(),
            {
                "objective": objective.state_dict(),
                "optimizer": self._prepared["optimizer"].state_dict(),
                "scheduler": self._prepared["scheduler"].state_dict(),
                "rng": rng if rng is not None else rng_state(),
                "resume_key": self._resume_key(),
                "global_step": self.global_step,
                "epoch": epoch,
                "step_in_epoch": step_in_epoch,
                "best_score": self.best_score,
                "history": self.history,
                "loss_history": [list(x) for x in self.loss_history],
            },
        )

    def _load_checkpoint(self, accelerator) -> tuple[int, int]:
        if not self.args.resume:
            return 0, 0
        state = load_checkpoint(self._checkpoint_file())
        if state is None:
            return 0, 0
        saved = {"world_size": 1, **(state.get("resume_key") or {})}
        if self.args.allow_world_size_change:
            saved["world_size"] = self._resume_key()["world_size"]
        self._check_resume_key(saved)
        accelerator.unwrap_model(self._prepared["objective"]).load_state_dict(state["objective"])
        self._prepared["optimizer"].load_state_dict(state["optimizer"])
        self._prepared["scheduler"].load_state_dict(state["scheduler"])
        self._restore_rng(accelerator, state)
        self.global_step = state["global_step"]
        self.best_score = state["best_score"] if state["best_score"] is not None else -math.inf
        self.history = state["history"]
        self.loss_history = [tuple(x) for x in state.get("loss_history", [])]
        logger.info("resumed from %s at step %d", self._checkpoint_file(), self.global_step)
        return state["epoch"], state["step_in_epoch"]

    def _restore_rng(self, accelerator: Any, state: dict[str, Any]) -> None:
        """The random state of this process at the checkpoint; a process the checkpoint did not have (more
        processes than before) gets one seeded by its rank and the step."""
        if accelerator.is_main_process:
            set_rng_state(state["rng"])
            return
        own = load_checkpoint(self._rank_rng_file(accelerator, state["global_step"]))
        if own is not None:
            set_rng_state(own["rng"])
        else:
            logger.warning("process %d has no random state at step %d: seeded anew (dropout masks differ "
                           "from the interrupted run's)", accelerator.process_index, state["global_step"])
            set_seed(self.args.seed + 1000 * accelerator.process_index + state["global_step"])

    # ------------------------------------------------------------------ loop
    def train(self) -> dict[str, Any]:
        """Train; returns ``{"global_step", "best_score", "history", "train_seconds"}``.

        A run that fails before writing anything into the output folder does not leave it behind empty
        (it would later read as "not a model"). ``simsent train`` also locks the folder for the run.
        """
        out = self.args.output_dir
        created = not os.path.exists(out)
        try:
            return self._train()
        except BaseException:
            if created and os.path.isdir(out) and not os.listdir(out):
                os.rmdir(out)
            raise

    def _train(self) -> dict[str, Any]:
        os.makedirs(self.args.output_dir, exist_ok=True)
        accelerator = self._accelerator()
        self._accelerator_ref = accelerator
        run = self._prepare(accelerator)
        bar = tqdm(
            total=run.total_steps,
            initial=self.global_step,
            desc="Training",
            disable=not self.args.show_progress_bar or not accelerator.is_local_main_process,
        )
        progress = _Progress(run.start_epoch, run.skip, time.perf_counter() - run.tokenize_seconds,
                             torch.zeros((), device=accelerator.device))
        on_stop = functools.partial(self._checkpoint_after_stop, accelerator, progress)
        try:
            with stopping_cleanly(bar, on_stop if self.args.checkpoints else None) as interrupt:
                self._run_epochs(accelerator, run, progress, bar, interrupt)
        finally:
            run.restore_eager()
        bar.close()
        return self._finish(progress.seen, time.perf_counter() - progress.start)

    def _checkpoint_after_stop(self, accelerator: Any, progress: _Progress, exc: BaseException) -> None:
        """Ctrl-C (taken at a step boundary) or a crash: keep what we have so `train` can resume (a step
        that failed half-way is redone from its start, same random state, on resume). A checkpoint that
        cannot be written either (the disk that failed the run is full) is said, and the first error
        stands."""
        from simsent.errors import WriteFault

        if isinstance(exc, WriteFault):
            return  # the disk that failed would fail the checkpoint too; the last one written stays
        why = "Ctrl-C" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__
        logger.warning("training stopped at step %d (%s); writing a checkpoint to resume from",
                       self.global_step, why)
        rng = progress.step_rng if progress.mid_step else None
        try:
            self._save_checkpoint(accelerator, progress.epoch, progress.step_in_epoch, rng=rng,
                                  together=False)  # a crash may be one process's alone
        except Exception as err:
            logger.warning("no checkpoint written: %s", err)

    def _prepare(self, accelerator: Any) -> _Run:
        """Model on the device, texts tokenised, optimiser and schedule, forward policy, compile,
        ``accelerate`` wrapping, and the checkpoint to resume from (if any)."""
        args = self.args
        self.model.to(accelerator.device)
        self.model.use_device_padding()  # before the texts are tokenised: widths in multiples of 8 on a GPU
        if args.checkpoints or args.resume:
            self._resume_key()  # fingerprint the starting model before a checkpoint replaces its weights
        tokenize_start = time.perf_counter()
        train_loader = self._loader(accelerator)
        tokenize_seconds = time.perf_counter() - tokenize_start  # counted in the training time
        steps_per_epoch = len(train_loader)
        total_steps = max(1, steps_per_epoch * args.epochs)
        if args.max_steps and args.max_steps > total_steps:
            logger.warning("--max-steps %d: %d epoch(s) of this data give %d steps, so %d are run (raise "
                           "--epochs to run more)", args.max_steps, args.epochs, total_steps, total_steps)
        total_steps = min(total_steps, args.max_steps or total_steps)
        params = [p for p in self.objective.parameters() if p.requires_grad]
        optimizer = make_optimizer(params, args.lr, args.weight_decay)
        scheduler = linear_scheduler(optimizer, LinearSchedule(total_steps, args.warmup_ratio))
        self.model.set_forward_policy(
            self._chunk_size(accelerator.device), self._token_budget(accelerator.device), args.pack_tokens
        )
        if args.pack_tokens and not self.model.can_pack():
            logger.warning("--pack-tokens: this encoder or pooling cannot be packed; training padded")
        restore_eager = compile_encoder(self.model, args.torch_compile)
        objective, optimizer, scheduler = accelerator.prepare(self.objective, optimizer, scheduler)
        train_loader = self.rows.prepared(train_loader, accelerator)
        self._prepared = {"objective": objective, "optimizer": optimizer, "scheduler": scheduler}
        start_epoch, skip = self._load_checkpoint(accelerator)
        if self.global_step == 0 and self.evaluator is not None and args.eval_steps > 0 and self._main:
            logger.info("before training: %s", self.evaluate())
        logger.info(
            "training %d rows, %d steps/epoch, %d epoch(s)", len(self.rows), steps_per_epoch, args.epochs
        )
        if self._main:
            log_process_count(accelerator, logger)
        return _Run(objective, optimizer, scheduler, train_loader, params, total_steps, start_epoch, skip,
                    tokenize_seconds, restore_eager)

    def _run_epochs(self, accelerator: Any, run: _Run, progress: _Progress, bar: Any, interrupt: Any) -> None:
        """The epochs left, from the resume point; a checkpoint every ``checkpoint_steps`` (or epoch)."""
        args = self.args
        run.objective.train()
        for epoch in range(run.start_epoch, args.epochs):
            progress.epoch = epoch
            progress.step_in_epoch = run.skip if epoch == run.start_epoch else 0
            for batch in self._epoch_batches(accelerator, run, epoch, progress.step_in_epoch):
                self._step(accelerator, run, progress, batch)
                bar.update(1)
                self._after_step(accelerator, run, progress, bar)
                if interrupt.requested:
                    raise KeyboardInterrupt
                if self.global_step >= run.total_steps:  # --max-steps reached
                    return
            run.skip = 0
            if args.checkpoints and args.checkpoint_steps == 0 and epoch + 1 < args.epochs:
                self._save_checkpoint(accelerator, epoch + 1, 0)

    def _epoch_batches(self, accelerator: Any, run: _Run, epoch: int, skip: int) -> Any:
        """The batches of ``epoch`` from batch ``skip`` on (a resumed epoch skips those already taken)."""
        return self.rows.epoch(run.loader, epoch, skip, accelerator)

    def _step(self, accelerator: Any, run: _Run, progress: _Progress, batch: dict[str, Any]) -> None:
        """One optimiser step on ``batch`` (a cached one with ``cache_chunk``); the random state before it
        is kept for an exact resume."""
        progress.step_rng, progress.mid_step = rng_state(), True
        # objectives with in-batch negatives see the whole global batch on every process, each process
        # back-propagating through its own rows only: scaled by the process count, DDP's average of the
        # processes' gradients is the one-process gradient
        scale = accelerator.num_processes if self.objective.cacheable else 1
        if self.args.cache_chunk:
            from simsent.training.cached import cached_step
            from simsent.training.loop import sum_gradients

            with accelerator.no_sync(run.objective):  # chunks bypass DDP: their gradients are summed below
                loss = cached_step(
                    accelerator.unwrap_model(run.objective), batch["features"], batch["labels"],
                    self.args.cache_chunk, backward=accelerator.backward, autocast=accelerator.autocast,
                )
            sum_gradients(accelerator, run.params)
        else:
            loss = run.objective(batch["features"], batch["labels"])
            accelerator.backward(loss * scale)
        apply_update(accelerator, run.params, run.optimizer, run.scheduler, self.args.max_grad_norm)
        self.global_step += 1
        progress.step_in_epoch += 1
        progress.mid_step = False
        progress.seen += len(batch["features"][0]["input_ids"]) // max(1, self.objective.views)
        progress.running += loss.detach().float()  # no host sync per step: the GPU runs ahead
        progress.running_steps += 1

    def _after_step(self, accelerator: Any, run: _Run, progress: _Progress, bar: Any) -> None:
        """Log the running loss, evaluate and checkpoint when their step comes."""
        args, step = self.args, self.global_step
        if step % max(1, args.logging_steps) == 0 or step == run.total_steps:
            mean_loss = progress.running.item() / progress.running_steps
            if not math.isfinite(mean_loss):
                raise FloatingPointError(f"loss is {mean_loss} at step {step}; lower the learning rate")
            rate = progress.seen / max(1e-9, time.perf_counter() - progress.start)
            bar.set_postfix(loss=f"{mean_loss:.4f}", sent_s=f"{rate:.1f}")
            logger.debug("step %d loss %.4f", step, mean_loss)
            self.loss_history.append((step, mean_loss))
            progress.running.zero_()
            progress.running_steps = 0
        if args.eval_steps > 0 and step % args.eval_steps == 0:
            self._eval_and_keep_best()
        if args.checkpoints and args.checkpoint_steps > 0 and step % args.checkpoint_steps == 0:
            self._save_checkpoint(accelerator, progress.epoch, progress.step_in_epoch)

    def _finish(self, seen: int, train_seconds: float) -> dict[str, Any]:
        """Last evaluation (or the save), the checkpoint removed, history and training curve written."""
        args = self.args
        if self.evaluator is not None and (args.eval_steps == 0 or self.global_step % args.eval_steps):
            self._eval_and_keep_best()
        if self.evaluator is None and self._main:
            self._save_model({})
        self._accelerator_ref.wait_for_everyone()
        if self._main:
            shutil.rmtree(os.path.join(args.output_dir, CHECKPOINT), ignore_errors=True)
        summary = {
            "global_step": self.global_step,
            "best_score": self.best_score,
            "history": self.history,
            "loss_history": self.loss_history,
            "train_seconds": train_seconds,
            "sentences_per_second": seen / max(train_seconds, 1e-9),
        }
        if not self._main:
            return summary
        write_json(os.path.join(args.output_dir, "train_history.json"), summary)
        try:
            from simsent.training.curves import plot_training_curve

            plot_training_curve(
                self.loss_history,
                self.history,
                os.path.join(args.output_dir, "training_curve.png"),
                metric=self.primary,
                title=f"{args.objective} training",
            )
        except Exception as exc:  # a plot must never fail a finished training
            logger.warning("could not draw the training curve: %s", exc)
        return summary

    def _is_better(self, score: float) -> bool:
        if math.isinf(self.best_score):
            return True
        return score > self.best_score if self.greater_is_better else score < self.best_score

    def _eval_and_keep_best(self) -> None:
        if self._main:  # the first process evaluates and saves; the others wait for it
            self._eval_and_keep_best_main()
        self._accelerator_ref.wait_for_everyone()

    def _eval_and_keep_best_main(self) -> None:
        metrics = self.evaluate()
        score = metrics.get(self.primary, float("nan"))
        shown = {k: round(v, 4) if isinstance(v, (int, float)) else v for k, v in metrics.items()}
        logger.info("step %d: %s", self.global_step, shown)
        if not math.isnan(score) and self._is_better(score):
            self.best_score = score
            self._save_model(metrics)
            logger.info(
                "new best %s %.4f at step %d, saved to %s",
                self.primary,
                score,
                self.global_step,
                self.args.output_dir,
            )
        elif math.isnan(score) and not os.path.isfile(os.path.join(self.args.output_dir, "modules.json")):
            self._save_model(metrics)
